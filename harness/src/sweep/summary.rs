//! The concise table printed at the end of a sweep: one row per cell and writer (median
//! of its timed runs), each other writer's time as a multiple of ours where the plan has
//! both; then the cells skipped for a budget, with their predictions, and failed runs.

use crate::benchmark::stats::{median, range};
use crate::store::Sample;
use std::collections::BTreeMap;
use crate::writer::OURS;
use std::fmt::Write as _;

/// The label without its last word (the writer), so the writers of a cell pair up.
fn pair_key(label: &str) -> &str {
    label.rsplit_once(' ').map_or(label, |(k, _)| k)
}

/// The cell's floor over all its runs: the last sample's (each holds the least of each
/// bound over the runs up to it), which is at most every earlier sample's.
fn cell_floor_s(runs: &[&Sample]) -> Option<f64> {
    runs.iter().rev().find_map(|s| s.floor.as_ref()?.get("floor_s")?.as_f64())
}

/// A Markdown table of the samples.
pub fn table(samples: &[Sample]) -> String {
    let mut by_cell: BTreeMap<(String, String), Vec<&Sample>> = BTreeMap::new();
    for s in samples.iter().filter(|s| s.ok) {
        by_cell.entry((pair_key(&s.label).to_string(), s.writer.clone())).or_default().push(s);
    }
    let ours_median: BTreeMap<&str, f64> = by_cell
        .iter()
        .filter(|((_, writer), _)| writer == OURS)
        .map(|((k, _), v)| (k.as_str(), median(&v.iter().map(|s| s.wall_s).collect::<Vec<_>>())))
        .collect();
    let mut md = String::new();
    let _ = writeln!(md, "| cell | writer | runs | wall s (median, min–max) | peak RSS MB | files | MB on disk | efficiency | vs ours |");
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|");
    let mut above_floor = 0;
    for ((key, writer), v) in &by_cell {
        let walls: Vec<f64> = v.iter().map(|s| s.wall_s).collect();
        let (lo, hi) = range(&walls);
        let m = median(&walls);
        let rss = median(&v.iter().map(|s| s.max_rss_bytes as f64 / 1e6).collect::<Vec<_>>());
        let eff = match cell_floor_s(v) {
            Some(f) => {
                let e: Vec<f64> = walls.iter().map(|w| crate::measure::floor::efficiency(f, *w)).collect();
                above_floor += e.iter().filter(|&&x| x > 1.0).count();
                format!("{:.2}", median(&e))
            }
            None => "–".to_string(),
        };
        let vs = match ours_median.get(key.as_str()) {
            Some(o) if writer != OURS => format!("{:.2}×", m / o),
            _ => "–".into(),
        };
        let _ = writeln!(
            md,
            "| {key} | {writer} | {} | {m:.3} ({lo:.3}–{hi:.3}) | {rss:.0} | {} | {:.2} | {eff} | {vs} |",
            v.len(),
            v[0].files,
            v[0].bytes_apparent as f64 / 1e6
        );
    }
    if above_floor > 0 {
        let _ = writeln!(md, "\n{above_floor} run(s) measured faster than their cell's floor (efficiency above 1, not capped): the floor is a lower bound up to measurement noise.");
    }
    let skipped: Vec<&Sample> = samples.iter().filter(|s| s.skipped.is_some()).collect();
    if !skipped.is_empty() {
        let _ = writeln!(md, "\n{} cell(s) skipped for their writer's time budget (predictions are extrapolated, not measured):", skipped.len());
        for s in &skipped {
            if let Some(k) = &s.skipped {
                let _ = writeln!(md, "- {}: skipped, predicted {:.1} s a run (extrapolated): {}", s.label, k.predicted_wall_s, k.reason);
            }
        }
    }
    let failed = samples.iter().filter(|s| !s.ok && s.skipped.is_none()).count();
    if failed > 0 {
        let _ = writeln!(md, "\n{failed} run(s) failed:");
        for s in samples.iter().filter(|s| !s.ok && s.skipped.is_none()).take(10) {
            let _ = writeln!(md, "- {}: {}", s.label, s.error.as_deref().unwrap_or("?"));
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_ours_with_the_reference() {
        let s = |label: &str, writer: &str, wall: f64| Sample {
            label: label.into(),
            writer: writer.into(),
            wall_s: wall,
            ok: true,
            files: 3,
            ..Default::default()
        };
        let t = table(&[
            s("1x1 d=0.1 f32 none tmpfs cellucid-bench", "cellucid-bench", 1.0),
            s("1x1 d=0.1 f32 none tmpfs cellucid-bench", "cellucid-bench", 3.0),
            s("1x1 d=0.1 f32 none tmpfs cellucid-py-0.9.2", "cellucid-py-0.9.2", 10.0),
        ]);
        assert!(t.contains("| 1x1 d=0.1 f32 none tmpfs | cellucid-py-0.9.2 | 1 | 10.000 (10.000–10.000) | 0 | 3 | 0.00 | – | 5.00× |"), "{t}");
        assert!(t.contains("| 1x1 d=0.1 f32 none tmpfs | cellucid-bench | 2 | 2.000 (1.000–3.000)"), "{t}");
    }

    #[test]
    fn efficiency_is_against_the_cells_last_floor_and_not_capped() {
        let s = |wall: f64, floor_s: f64| Sample {
            label: "1x1 d=0.1 f32 none disk cellucid-bench".into(),
            writer: "cellucid-bench".into(),
            wall_s: wall,
            ok: true,
            floor: Some(serde_json::json!({ "floor_s": floor_s })),
            ..Default::default()
        };
        // The least-so-far floors 0.5, 0.4, 0.2: the cell's is 0.2, so the efficiencies
        // are 0.2, 2.0 and 0.1, median 0.2, one run above its floor.
        let t = table(&[s(1.0, 0.5), s(0.1, 0.4), s(2.0, 0.2)]);
        assert!(t.contains("| 3 | 1.000 (0.100–2.000) | 0 | 0 | 0.00 | 0.20 | – |"), "{t}");
        assert!(t.contains("1 run(s) measured faster than their cell's floor"), "{t}");
    }

    #[test]
    fn skipped_cells_are_listed_with_their_prediction_not_as_failures() {
        let skipped = Sample {
            label: "5x5 d=0.1 q8 gz9 tmpfs slow".into(),
            writer: "slow".into(),
            skipped: Some(crate::store::Skipped { reason: "over budget".into(), predicted_wall_s: 812.5, predicted_rss_bytes: None }),
            ..Default::default()
        };
        let t = table(&[skipped]);
        assert!(t.contains("- 5x5 d=0.1 q8 gz9 tmpfs slow: skipped, predicted 812.5 s a run (extrapolated): over budget"), "{t}");
        assert!(!t.contains("failed"), "{t}");
    }
}
