//! Table 6b, *Atlases*: the measured exports of a million cells and more (the guide's
//! "> 200k cells" tier, where it says full gene export "can become impractical"), with
//! their memory: peak RSS against the memory limit and what was spilled.

use super::Input;
use crate::cells::CellRuns;
use crate::report::{Cell, Table};

/// From this many cells on, a cell is an atlas.
pub const ATLAS_CELLS: u64 = 1_000_000;

pub fn table(input: &Input) -> Table {
    let mut atlases: Vec<CellRuns> = input.plain().into_iter().filter(|c| c.first().cells() >= ATLAS_CELLS).collect();
    atlases.sort_by_key(|c| (c.first().cells(), c.first().genes_exported()));
    let mut rows: Vec<Vec<Cell>> = atlases.iter().map(row).collect();
    if rows.is_empty() {
        rows.push(vec![Cell::missing("not measured (guide plan, --blocks atlas-2m,atlas-4m)"); COLUMNS.len()]);
    }
    let used: Vec<&CellRuns> = atlases.iter().collect();
    Table {
        id: "atlas".into(),
        title: "6b. Atlases: a million cells and more, with their memory".into(),
        guide: "> 200k cells: strongly prefer gene panels; full gene export can become impractical.".into(),
        context: input.context(&used),
        columns: COLUMNS.map(String::from).to_vec(),
        rows,
        notes: vec![
            "Medians of every run of the cell (atlas cells take minutes; their run count is in the context line). Memory limit: the exporter's `--memory-limit` (a block's `memory_limit`); `default` is half the RAM available at the start. Spilled: the gene matrix transposed out of core through scratch files when it exceeds half the limit; peak RSS then stays near the limit whatever the matrix's size, at the cost of writing and reading the matrix once more.".into(),
            "How the guide's rules change at this scale: the limit that makes a full export impractical is no longer memory (a 16 GB matrix exports within 4 GiB) but time and disk, both linear in cells × genes; quantization and gzip keep the disk bytes in check, and a gene panel still divides time and bytes by the share of genes exported (table 3).".into(),
        ],
    }
}

const COLUMNS: [&str; 10] =
    ["dataset and setting", "memory limit", "runs", "time s", "disk GB", "files", "peak RSS GB", "spilled GB", "% of floor", "seconds per 10⁹ values"];

fn row(c: &CellRuns) -> Vec<Cell> {
    let s = c.first();
    let limit = s.memory_limit_bytes.map_or_else(|| "default".to_string(), |b| format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64));
    let time = c.median(|r| r.wall_s);
    let values = s.cells() as f64 * s.genes_exported() as f64;
    vec![
        Cell::text(s.label.rsplit_once(' ').map_or(s.label.as_str(), |(k, _)| k)),
        Cell::text(limit),
        Cell::int(c.n() as u64),
        Cell::num(time),
        Cell::num(c.median(|r| r.bytes_apparent as f64) / 1e9),
        Cell::int(s.files),
        Cell::num(c.median(|r| r.max_rss_bytes as f64) / 1e9),
        s.spill_bytes.map_or(Cell::missing("–"), |b| Cell::num(b as f64 / 1e9)),
        c.runs.iter().find_map(|r| r.efficiency).map_or(Cell::missing("no floor"), |e| Cell::num(e * 100.0)),
        Cell::num(time / values * 1e9),
    ]
}
