//! Table 9, *Reference*: our export time against cellucid 0.9.2's on the same input and
//! setting, and the efficiency of each against the physical floor of the target (the
//! time the target needs to create the files and write the bytes, measured beside).

use super::Input;
use crate::cells::pairs;
use crate::report::{Cell, Table};
use crate::stats::{self, ratio_of_medians};

pub fn table(input: &Input) -> Table {
    let p = pairs(&input.cells, &["subject"], |s| s.subject == "reference", |s| s.subject == "ours");
    let mut rows = Vec::new();
    let mut used = Vec::new();
    for (refc, ours) in &p {
        used.push(*refc);
        used.push(*ours);
        let s = ours.first();
        let mut row = vec![Cell::text(format!("{}x{} {}", s.cells(), s.genes_exported(), s.setting_label())), Cell::text(&s.target)];
        if refc.enough() && ours.enough() {
            let (o, r) = (ours.wall(), refc.wall());
            row.push(Cell::with_interval(stats::median(&o).unwrap_or(f64::NAN), stats::median_interval(&o)));
            row.push(Cell::with_interval(stats::median(&r).unwrap_or(f64::NAN), stats::median_interval(&r)));
            match ratio_of_medians(&[(r, o)]) {
                Some((v, i)) => row.push(Cell::with_interval(v, Some(i))),
                None => row.push(Cell::missing("–")),
            }
            let eff = |c: &crate::cells::CellRuns| {
                let v = c.values(|s| s.efficiency.unwrap_or(f64::NAN));
                stats::median(&v).map_or(Cell::missing("–"), |e| Cell::num(e * 100.0))
            };
            row.push(eff(ours));
            row.push(eff(refc));
        } else {
            row.extend((0..5).map(|_| Cell::too_few(refc.n().min(ours.n()))));
        }
        rows.push(row);
    }
    if rows.is_empty() {
        rows.push(vec![Cell::missing("not measured"); 7]);
    }
    Table {
        id: "reference".into(),
        title: "9. This exporter against cellucid 0.9.2".into(),
        guide: "(The guide's advice is for the reference writer; this table says how far this exporter moves its limits.)".into(),
        context: input.context(&used),
        columns: ["dataset and setting", "target", "ours s [range]", "cellucid 0.9.2 s [range]", "speed-up [95 % CI]", "ours: % of floor", "0.9.2: % of floor"]
            .map(String::from)
            .to_vec(),
        rows,
        notes: vec![
            "Efficiency = the target's physical floor (creating the files and writing the bytes, measured beside each run) / the export's wall time; 100 % would be as fast as the filesystem allows. Both writers are child processes on the same cached input.".into(),
        ],
    }
}
