//! Table 7, *Filesystems*: time and files per second per target relative to tmpfs, the
//! network-drive penalty (sshfs, with and without added latency), buffered against
//! durable, and a cold page cache against a warm one.

use super::Input;
use crate::cells::{pairs, CellRuns};
use crate::model::Sample;
use crate::report::{Cell, Table};
use crate::stats::{self, ratio_of_medians};

fn files_per_s(s: &Sample) -> f64 {
    s.files as f64 / s.wall_s
}

/// Ratio of time (with CI) over matched pairs with enough runs, and the pair count.
pub fn time_ratio(pairs: &[(&CellRuns, &CellRuns)]) -> (Option<(f64, stats::Interval)>, usize) {
    let good: Vec<(Vec<f64>, Vec<f64>)> =
        pairs.iter().filter(|(a, b)| a.enough() && b.enough()).map(|(a, b)| (a.wall(), b.wall())).collect();
    (ratio_of_medians(&good), good.len())
}

fn row_for<'c, 'a>(what: String, p: Vec<(&'c CellRuns<'a>, &'c CellRuns<'a>)>, used: &mut Vec<&'c CellRuns<'a>>) -> Vec<Cell> {
    let (r, n) = time_ratio(&p);
    for (a, b) in &p {
        used.push(*a);
        used.push(*b);
    }
    let fps = |side: usize| {
        let v: Vec<f64> = p.iter().map(|pr| if side == 0 { pr.0 } else { pr.1 }).filter(|c| c.enough()).map(|c| c.median(files_per_s)).collect();
        stats::median(&v).map_or(Cell::missing("–"), Cell::num)
    };
    let mut row = vec![Cell::text(what), Cell::int(n as u64)];
    match r {
        Some((v, i)) => {
            row.push(Cell::with_interval(v, Some(i)));
            row.push(fps(0));
            row.push(fps(1));
        }
        None if !p.is_empty() => row.extend((0..3).map(|_| Cell::too_few(0))),
        None => row.extend((0..3).map(|_| Cell::missing("not measured"))),
    }
    row
}

pub fn table(input: &Input) -> Table {
    let ours: Vec<CellRuns> = input.writer_cells();
    let mut targets: Vec<String> = ours.iter().map(|c| c.first().target.clone()).collect();
    targets.sort();
    targets.dedup();
    let mut rows = Vec::new();
    let mut used: Vec<&CellRuns> = Vec::new();
    for t in targets.iter().filter(|t| *t != "tmpfs") {
        let p = pairs(&ours, &["target"], |s| s.target == *t && !s.durable() && !s.cold(), |s| s.target == "tmpfs");
        rows.push(row_for(format!("{t} vs tmpfs"), p, &mut used));
    }
    if !targets.iter().any(|t| t.starts_with("sshfs")) {
        rows.push(row_for("network drive (sshfs) vs tmpfs".into(), Vec::new(), &mut used));
    }
    for t in &targets {
        let p = pairs(&ours, &["durable"], |s| s.target == *t && s.durable(), |s| !s.durable());
        if !p.is_empty() {
            rows.push(row_for(format!("durable vs buffered on {t}"), p, &mut used));
        }
        let p = pairs(&ours, &["cold"], |s| s.target == *t && s.cold(), |s| !s.cold());
        if !p.is_empty() {
            rows.push(row_for(format!("cold vs warm page cache on {t}"), p, &mut used));
        }
    }
    used.sort_by_key(|c| c.first().cell_id.clone());
    used.dedup_by_key(|c| c.first().cell_id.clone());
    Table {
        id: "filesystems".into(),
        title: "7. Filesystems: time relative to tmpfs, files per second".into(),
        guide: "Export to a local SSD (not a network drive) whenever possible. If you hit “too many files” limits, export fewer genes.".into(),
        context: input.context(&used),
        columns: ["comparison", "matched pairs", "time ratio [95 % CI]", "files/s (first)", "files/s (second)"].map(String::from).to_vec(),
        rows,
        notes: vec![
            "tmpfs (memory) is the fastest possible target and the baseline. sshfs targets stand in for a network drive (sshfs:20ms adds 20 ms of latency each way). Durable exports fsync every file and directory before publishing.".into(),
        ],
    }
}
