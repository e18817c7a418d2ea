//! Table 9, *Writers side by side*: the same cell (dataset, setting, target) exported by
//! each writer that measured it — time, spread, bytes, files, peak memory, efficiency
//! against the target's physical floor — and each writer's speed-up against the
//! baseline writer, with a bootstrap interval.
//!
//! A writer whose cell was skipped for its budget appears in the cell's group with the
//! sizing model's prediction in its own column, marked as extrapolated; no measured
//! column ever holds a prediction. Such a group is shown when at least one writer
//! measured the cell: where a slow writer was not run is the comparison a reader of the
//! guide needs most.

use super::Input;
use crate::cells::{key, CellRuns};
use crate::model::Sample;
use crate::report::{fmt_num, Cell, Table};
use crate::stats::{self, ratio_of_medians};

/// One cell as several writers ran it.
pub struct Group<'c, 'a> {
    pub measured: Vec<&'c CellRuns<'a>>,
    /// One skipped sample per (writer, cell).
    pub skipped: Vec<&'a Sample>,
}

impl Group<'_, '_> {
    fn writers(&self) -> Vec<&str> {
        let mut w: Vec<&str> =
            self.measured.iter().map(|c| c.writer()).chain(self.skipped.iter().map(|s| s.writer.as_str())).collect();
        w.sort_unstable();
        w.dedup();
        w
    }
}

/// The cells equal in everything but the writer, with at least two writers of which at
/// least one measured it; in the order of `input.cells`.
pub fn groups<'c, 'a>(input: &'c Input<'a>) -> Vec<Group<'c, 'a>> {
    let mut keyed: Vec<(String, Group<'c, 'a>)> = Vec::new();
    for c in &input.cells {
        let k = key(c.first(), &["writer"]);
        match keyed.iter_mut().find(|(gk, _)| *gk == k) {
            Some((_, g)) => g.measured.push(c),
            None => keyed.push((k, Group { measured: vec![c], skipped: Vec::new() })),
        }
    }
    for s in &input.skipped {
        let k = key(s, &["writer"]);
        if let Some((_, g)) = keyed.iter_mut().find(|(gk, _)| *gk == k) {
            if !g.skipped.iter().any(|o| o.writer == s.writer) && !g.measured.iter().any(|c| c.writer() == s.writer) {
                g.skipped.push(s);
            }
        }
    }
    keyed.into_iter().map(|(_, g)| g).filter(|g| g.writers().len() >= 2).collect()
}

/// `20000×2000 d=0.1 knn (15 edges/cell) q8 gz6 durable`.
pub fn describe(s: &Sample) -> String {
    let mut d = format!("{}×{} d={} {}", s.cells(), s.genes_exported(), s.density(), s.setting_label());
    if s.edges_per_cell() > 0.0 {
        d.push_str(&format!(" {}", s.graph_label()));
    }
    for (on, word) in [(s.durable(), "durable"), (s.cold(), "cold")] {
        if on {
            d.push(' ');
            d.push_str(word);
        }
    }
    d
}

const MEASURED: usize = 8;

/// The measured columns of one writer's cell.
fn measured(c: &CellRuns, base: Option<&CellRuns>, baseline: &str) -> Vec<Cell> {
    let w = c.wall();
    let mut row = Vec::with_capacity(MEASURED);
    if c.enough() {
        row.push(Cell::with_interval(stats::median(&w).unwrap_or(f64::NAN), stats::median_interval(&w)));
        row.push(stats::rel_spread(&w).map_or(Cell::missing("–"), |s| Cell::num(s * 100.0)));
    } else {
        row.push(Cell::too_few(c.n()));
        row.push(Cell::too_few(c.n()));
    }
    // Bytes, files and memory need one run (the first two are deterministic).
    row.push(Cell::num(c.median(|s| s.bytes_apparent as f64) / 1e6));
    row.push(Cell::int(c.median(|s| s.files as f64) as u64));
    // Stores before the launcher recorded no peak (0): say so rather than print 0.
    let rss = c.values(|s| if s.max_rss_bytes > 0 { s.max_rss_bytes as f64 / 1e6 } else { f64::NAN });
    row.push(stats::median(&rss).map_or(Cell::missing("not recorded"), Cell::num));
    let eff = c.values(|s| s.efficiency.unwrap_or(f64::NAN));
    row.push(match stats::median(&eff) {
        Some(e) if c.enough() => Cell::num(e * 100.0),
        Some(_) => Cell::too_few(c.n()),
        None => Cell::missing("no floor"),
    });
    row.push(match base {
        _ if c.writer() == baseline => Cell::text("1 (baseline)"),
        None => Cell::missing(format!("{baseline} not measured")),
        Some(b) if b.enough() && c.enough() => match ratio_of_medians(&[(b.wall(), w)]) {
            Some((v, i)) => Cell::with_interval(v, Some(i)),
            None => Cell::missing("–"),
        },
        Some(b) => Cell::too_few(b.n().min(c.n())),
    });
    row.push(Cell::missing("–"));
    row
}

/// The columns of a writer that skipped the cell: only the prediction.
fn predicted(s: &Sample) -> Vec<Cell> {
    let reason = s.skipped.as_ref().map_or(String::new(), |k| k.reason.clone());
    let mut row = vec![Cell::missing(format!("not run: {reason}"))];
    row.extend((0..MEASURED - 2).map(|_| Cell::missing("–")));
    let pred = s.skipped.as_ref().and_then(|k| k.predicted_wall_s);
    let rss = s.skipped.as_ref().and_then(|k| k.predicted_rss_bytes);
    row.push(match pred {
        Some(p) => Cell {
            text: format!(
                "≈ {} s{} (extrapolated)",
                fmt_num(p),
                rss.map_or(String::new(), |r| format!(", {} MB peak", fmt_num(r as f64 / 1e6)))
            ),
            value: Some(p),
            lo: None,
            hi: None,
        },
        None => Cell::missing("no prediction"),
    });
    row
}

pub fn table(input: &Input) -> Table {
    let baseline = input.baseline.as_str();
    let mut gs = groups(input);
    gs.sort_by_key(|g| {
        let s = g.measured[0].first();
        (s.target.clone(), s.cells() * s.genes_exported(), s.setting_label())
    });
    let mut rows = Vec::new();
    let mut used = Vec::new();
    for g in &gs {
        let s = g.measured[0].first();
        let base = g.measured.iter().copied().find(|c| c.writer() == baseline);
        for w in &input.writers {
            let mut row = vec![Cell::text(describe(s)), Cell::text(&s.target), Cell::text(w)];
            if let Some(c) = g.measured.iter().copied().find(|c| c.writer() == w) {
                used.push(c);
                row.extend(measured(c, base, baseline));
            } else if let Some(k) = g.skipped.iter().find(|k| k.writer == *w) {
                row.extend(predicted(k));
            } else {
                continue;
            }
            rows.push(row);
        }
    }
    if rows.is_empty() {
        let mut row = vec![Cell::missing("not measured: no cell was run by two writers")];
        row.extend((0..2 + MEASURED).map(|_| Cell::missing("–")));
        rows.push(row);
    }
    Table {
        id: "writers".into(),
        title: "9. Writers side by side on the same cells".into(),
        guide: "(The guide's advice is written for cellucid-r's and cellucid's own exporters; this table shows how far each writer moves its limits.)".into(),
        context: input.context(&used),
        columns: vec![
            "dataset and setting".into(),
            "target".into(),
            "writer".into(),
            "time s [range]".into(),
            "spread %".into(),
            "disk MB".into(),
            "files".into(),
            "peak RSS MB".into(),
            "% of floor".into(),
            format!("speed-up vs {baseline} [95 % CI]"),
            "predicted s (extrapolated, not run)".into(),
        ],
        rows,
        notes: vec![
            format!("Speed-up = {baseline}'s median time / this writer's (above 1: faster than {baseline}); the interval is a percentile bootstrap over runs (2,000 resamples, fixed seed). Spread = (max − min) / median of the runs' wall times."),
            "Efficiency = the cell's physical floor / the export's wall time, not capped; the floor is the largest of three bounds (compressing the payloads, creating the files, writing the bytes), each measured beside every run under the run's own preparation and the least kept over the cell's runs; 100 % would be as fast as the filesystem allows. Every writer is a child process on the same cached input; peak RSS is the whole process's.".into(),
            "A writer whose cell was predicted over its time budget was not run: its row shows the sizing model's prediction, extrapolated from that writer's own runs, and no measured number.".into(),
        ]
        .into_iter()
        .chain(above_floor(&used))
        .collect(),
    }
}

/// A note when some runs were measured faster than their cell's floor: the floor is a
/// lower bound measured with noise, and such runs are shown as measured, not capped.
fn above_floor(used: &[&CellRuns]) -> Option<String> {
    let eff: Vec<f64> = used.iter().flat_map(|c| c.values(|s| s.efficiency.unwrap_or(f64::NAN))).collect();
    let above: Vec<f64> = eff.iter().copied().filter(|&e| e > 1.0).collect();
    let max = above.iter().copied().fold(f64::NAN, f64::max);
    (!above.is_empty()).then(|| {
        format!(
            "{} of {} runs were measured faster than their cell's floor (efficiency up to {:.0} %): the floor is the least of bounds measured beside the runs, a lower bound up to measurement noise; those runs are shown as measured.",
            above.len(),
            eff.len(),
            max * 100.0
        )
    })
}
