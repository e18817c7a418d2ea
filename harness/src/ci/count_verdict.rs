//! The deterministic gate's decision for one configuration: candidate / baseline
//! instructions against the threshold, with no interval (the counts do not vary), the
//! part of the exporter whose count grew the most, and the same exact output gates as
//! the wall-time gate (`super::verdict::format_changes`).

use super::cachegrind::Counts;
use super::counted::CountedCell;
use super::verdict::{format_changes, CellVerdict, Status, Verdict};
use serde::Serialize;

/// Both counts of a configuration and what changed.
#[derive(Clone, Debug, Serialize)]
pub struct CountChange {
    pub baseline: Counts,
    pub candidate: Counts,
    /// candidate Ir / baseline Ir.
    pub ratio: f64,
    /// The part whose instruction count grew the most, and by how many instructions;
    /// `None` when no part grew.
    pub changed_part: Option<(String, i64)>,
    /// Wall seconds of each counted run (valgrind's cost).
    pub run_s: Vec<f64>,
}

/// The part with the largest growth in instructions.
pub fn changed_part(a: &Counts, b: &Counts) -> Option<(String, i64)> {
    let parts = a.parts.keys().chain(b.parts.keys());
    let delta = |k: &String| *b.parts.get(k).unwrap_or(&0) as i64 - *a.parts.get(k).unwrap_or(&0) as i64;
    parts.map(|k| (k.clone(), delta(k))).filter(|(_, d)| *d > 0).max_by_key(|(_, d)| *d)
}

/// Judge one counted configuration.
pub fn judge_cell(c: &CountedCell, threshold: f64, allow_format_change: bool) -> CellVerdict {
    let counts = match (&c.baseline, &c.candidate) {
        (Some(a), Some(b)) if a.ir > 0 => Some(CountChange {
            ratio: b.ir as f64 / a.ir as f64,
            changed_part: changed_part(a, b),
            baseline: a.clone(),
            candidate: b.clone(),
            run_s: c.run_s.clone(),
        }),
        _ => None,
    };
    let format = match (&c.baseline_tree, &c.candidate_tree) {
        (Some(a), Some(b)) => format_changes(a, b),
        _ => Vec::new(),
    };
    let status = match &counts {
        _ if !c.failures.is_empty() => Status::Error,
        None => Status::Error,
        Some(_) if !format.is_empty() && !allow_format_change => Status::FormatChange,
        Some(x) if x.ratio > 1.0 + threshold => Status::Slower,
        Some(_) => Status::Pass,
    };
    CellVerdict {
        cell_id: c.cell_id.clone(),
        label: c.label.clone(),
        ci: None,
        noise: None,
        inconclusive: None,
        counts,
        stopped: None,
        format_changes: format,
        failures: c.failures.clone(),
        status,
    }
}

/// Judge every counted configuration.
pub fn judge(cells: &[CountedCell], threshold: f64, allow_format_change: bool) -> Verdict {
    Verdict { threshold, allow_format_change, cells: cells.iter().map(|c| judge_cell(c, threshold, allow_format_change)).collect() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::tree::TreeStats;

    fn counts(genes: u64, deflate: u64) -> Counts {
        let parts = [("genes".to_string(), genes), ("deflate (shared)".to_string(), deflate)].into_iter().collect();
        Counts { ir: genes + deflate, d1_misses: Some(1), ll_misses: Some(1), parts, excluded: 0 }
    }

    fn cell(a: Counts, b: Counts, hash_b: &str) -> CountedCell {
        let tree = |h: &str| TreeStats { files: 3, dirs: 1, bytes_apparent: 10, bytes_allocated: 10, hash: h.into() };
        CountedCell {
            cell_id: "c".into(),
            label: "cell".into(),
            baseline: Some(a),
            candidate: Some(b),
            baseline_tree: Some(tree("h")),
            candidate_tree: Some(tree(hash_b)),
            failures: Vec::new(),
            run_s: vec![1.0, 1.0],
        }
    }

    #[test]
    fn a_count_above_the_threshold_fails_and_names_the_part() {
        let v = judge_cell(&cell(counts(1000, 1000), counts(1000, 1050), "h"), 0.02, false);
        assert_eq!(v.status, Status::Slower);
        let c = v.counts.expect("counts");
        assert_eq!(c.changed_part, Some(("deflate (shared)".to_string(), 50)));
        assert!((c.ratio - 1.025).abs() < 1e-12);
    }

    #[test]
    fn identical_or_slightly_higher_counts_pass_and_outputs_are_exact() {
        assert_eq!(judge_cell(&cell(counts(1000, 1000), counts(1000, 1000), "h"), 0.02, false).status, Status::Pass);
        let v = judge_cell(&cell(counts(1000, 1000), counts(1030, 1000), "h"), 0.02, false);
        assert_eq!(v.status, Status::Pass, "+1.5 % is inside 2 %");
        assert_eq!(v.counts.and_then(|c| c.changed_part), Some(("genes".to_string(), 30)));
        assert_eq!(judge_cell(&cell(counts(1000, 1000), counts(1000, 1000), "x"), 0.02, false).status, Status::FormatChange);
        let mut failed = cell(counts(1, 1), counts(1, 1), "h");
        failed.candidate = None;
        failed.failures.push("candidate: boom".into());
        assert_eq!(judge_cell(&failed, 0.02, false).status, Status::Error);
    }
}
