//! Table 8, *Connectivities*: graph phase time and bytes against graph density, and
//! whether the cost per edge grows with density (where "dense graphs explode").

use super::Input;
use crate::cells::CellRuns;
use crate::report::{Cell, Table};

pub fn table(input: &Input) -> Table {
    let cells = input.plain();
    let mut with_graph: Vec<&CellRuns> = cells.iter().filter(|c| c.first().edges_per_cell() > 0.0).collect();
    with_graph.sort_by(|a, b| {
        let e = |c: &CellRuns| c.first().edges_per_cell() * c.first().cells() as f64;
        e(a).total_cmp(&e(b))
    });
    let mut rows = Vec::new();
    for c in &with_graph {
        let s = c.first();
        let edges = s.edges_per_cell() * s.cells() as f64;
        let mut row = vec![Cell::int(s.cells()), Cell::text(s.graph_label()), Cell::int(edges as u64)];
        if c.enough() {
            let t = c.median(|r| r.phase("graph").map_or(f64::NAN, |p| p.wall));
            let b = c.median(|r| r.phase("graph").map_or(f64::NAN, |p| p.bytes as f64));
            let total = c.median(|r| r.wall_s);
            row.push(Cell::num(t));
            row.push(Cell::num(b / 1e6));
            row.push(Cell::num(b / edges));
            row.push(Cell::num(t / edges * 1e9));
            row.push(Cell::num(t / total * 100.0));
        } else {
            row.extend((0..5).map(|_| Cell::too_few(c.n())));
        }
        rows.push(row);
    }
    if rows.is_empty() {
        rows.push(vec![Cell::missing("not measured"); 8]);
    }
    Table {
        id: "connectivities".into(),
        title: "8. Connectivities: cost against graph density".into(),
        guide: "Cost depends on graph density. Sparse graphs export fine; dense graphs explode.".into(),
        context: input.context(&with_graph),
        columns: ["cells", "graph", "edges (nominal)", "graph time s", "graph MB", "bytes per edge", "ns per edge", "% of export time"]
            .map(String::from)
            .to_vec(),
        rows,
        notes: vec![
            "Edges are nominal (k-NN: k per cell before symmetrisation). Constant bytes and time per edge mean the cost is linear in edges: nothing explodes; a growing cost per edge would mark where it starts. See table 1 for the fitted exponent.".into(),
        ],
    }
}
