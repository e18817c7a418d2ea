//! The gate's decision, per configuration and overall.
//!
//! - **Speed**: a configuration fails when its whole confidence interval of
//!   candidate / baseline lies above `1 + threshold` — the candidate is slower than the
//!   threshold allows, and the noise cannot explain it. A ratio above the threshold with
//!   an interval reaching below it passes (reported as such): on a noisy shared runner
//!   that is what noise looks like, and failing on it is how gates learn to cry wolf.
//! - **Format** (exact, no statistics: the export is deterministic): any difference in
//!   bytes written, file count or output hash between the two binaries' folders for the
//!   same configuration is reported, and fails unless format changes are allowed.
//! - **Runs**: a configuration where a run failed, or that has no timed pair, fails.

use super::ab::CellRuns;
use super::stats::{paired_ratio, RatioCi, CONFIDENCE, RESAMPLES, SEED};
use crate::measure::tree::TreeStats;
use serde::Serialize;

/// What the gate concluded about one configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    /// The interval lies entirely above `1 + threshold`.
    Slower,
    /// Output differs and format changes are not allowed.
    FormatChange,
    /// A run failed, or no pair was measured.
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Slower => "SLOWER",
            Status::FormatChange => "FORMAT CHANGE",
            Status::Error => "ERROR",
        }
    }
}

/// One configuration's verdict.
#[derive(Clone, Debug, Serialize)]
pub struct CellVerdict {
    pub cell_id: String,
    pub label: String,
    pub ci: Option<RatioCi>,
    /// The deterministic gate's counts (`--counter instructions`); `None` for wall time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts: Option<super::count_verdict::CountChange>,
    /// Differences between the two outputs (`bytes 100 → 120`, …); empty when identical.
    pub format_changes: Vec<String>,
    pub failures: Vec<String>,
    pub status: Status,
}

/// The whole gate.
#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    /// As a fraction: 0.10 for 10 %.
    pub threshold: f64,
    pub allow_format_change: bool,
    pub cells: Vec<CellVerdict>,
}

impl Verdict {
    /// True when any configuration failed: the gate exits 1.
    pub fn failed(&self) -> bool {
        self.cells.iter().any(|c| c.status != Status::Pass)
    }
}

/// The exact differences between the baseline's and the candidate's output.
pub fn format_changes(baseline: &TreeStats, candidate: &TreeStats) -> Vec<String> {
    let mut out = Vec::new();
    if baseline.bytes_apparent != candidate.bytes_apparent {
        out.push(format!("bytes {} → {}", baseline.bytes_apparent, candidate.bytes_apparent));
    }
    if baseline.files != candidate.files {
        out.push(format!("files {} → {}", baseline.files, candidate.files));
    }
    if baseline.hash != candidate.hash {
        out.push(format!("hash {} → {}", baseline.hash, candidate.hash));
    }
    out
}

/// Judge one configuration.
pub fn judge_cell(runs: &CellRuns, threshold: f64, allow_format_change: bool) -> CellVerdict {
    let ci = paired_ratio(&runs.pairs, RESAMPLES, CONFIDENCE, SEED);
    let format = match (&runs.baseline_tree, &runs.candidate_tree) {
        (Some(a), Some(b)) => format_changes(a, b),
        _ => Vec::new(),
    };
    let status = if !runs.failures.is_empty() || ci.is_none() {
        Status::Error
    } else if !format.is_empty() && !allow_format_change {
        Status::FormatChange
    } else if ci.is_some_and(|c| c.lo > 1.0 + threshold) {
        Status::Slower
    } else {
        Status::Pass
    };
    CellVerdict {
        cell_id: runs.cell_id.clone(),
        label: runs.label.clone(),
        ci,
        counts: None,
        format_changes: format,
        failures: runs.failures.clone(),
        status,
    }
}

/// Judge every configuration.
pub fn judge(runs: &[CellRuns], threshold: f64, allow_format_change: bool) -> Verdict {
    Verdict { threshold, allow_format_change, cells: runs.iter().map(|r| judge_cell(r, threshold, allow_format_change)).collect() }
}

/// Parses a threshold: a percentage, `%` optional (`10%`, `10`, `2.5 %`); 0 to 1000.
pub fn parse_threshold(s: &str) -> Result<f64, String> {
    let t = s.trim().trim_end_matches('%').trim();
    let pct: f64 = t.parse().map_err(|_| format!("threshold {s:?} is not a percentage like 10%"))?;
    if !(0.0..=1000.0).contains(&pct) {
        return Err(format!("threshold {s:?} must be between 0% and 1000%"));
    }
    Ok(pct / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(bytes: u64, files: u64, hash: &str) -> TreeStats {
        TreeStats { files, dirs: 1, bytes_apparent: bytes, bytes_allocated: bytes, hash: hash.into() }
    }

    fn runs(pairs: Vec<(f64, f64)>, a: TreeStats, b: TreeStats) -> CellRuns {
        CellRuns { cell_id: "c".into(), label: "cell".into(), pairs, baseline_tree: Some(a), candidate_tree: Some(b), failures: Vec::new() }
    }

    fn steady(ratio: f64) -> Vec<(f64, f64)> {
        (0..10).map(|i| (0.5 + 0.001 * i as f64, (0.5 + 0.001 * i as f64) * ratio)).collect()
    }

    #[test]
    fn a_different_hash_fails_unless_format_changes_are_allowed() {
        let r = runs(steady(1.0), tree(100, 3, "aaaa"), tree(100, 3, "bbbb"));
        let v = judge(&[r.clone()], 0.10, false);
        assert_eq!(v.cells[0].status, Status::FormatChange);
        assert_eq!(v.cells[0].format_changes, vec!["hash aaaa → bbbb".to_string()]);
        assert!(v.failed());
        let v = judge(&[r], 0.10, true);
        assert_eq!(v.cells[0].status, Status::Pass);
        assert_eq!(v.cells[0].format_changes.len(), 1, "still reported when allowed");
        assert!(!v.failed());
    }

    #[test]
    fn bytes_and_file_counts_are_exact_gates_too() {
        let c = format_changes(&tree(100, 3, "h"), &tree(101, 4, "h"));
        assert_eq!(c, vec!["bytes 100 → 101".to_string(), "files 3 → 4".to_string()]);
        assert!(format_changes(&tree(100, 3, "h"), &tree(100, 3, "h")).is_empty());
    }

    #[test]
    fn speed_fails_only_when_the_interval_clears_the_threshold() {
        let same = tree(1, 1, "h");
        assert_eq!(judge_cell(&runs(steady(1.25), same.clone(), same.clone()), 0.10, false).status, Status::Slower);
        assert_eq!(judge_cell(&runs(steady(1.05), same.clone(), same.clone()), 0.10, false).status, Status::Pass);
        assert_eq!(judge_cell(&runs(steady(0.8), same.clone(), same.clone()), 0.10, false).status, Status::Pass);
        let mut failed = runs(steady(1.0), same.clone(), same);
        failed.failures.push("candidate: error: boom".into());
        assert_eq!(judge_cell(&failed, 0.10, false).status, Status::Error);
    }

    #[test]
    fn thresholds() {
        assert_eq!(parse_threshold("10%"), Ok(0.10));
        assert_eq!(parse_threshold(" 5 "), Ok(0.05));
        assert_eq!(parse_threshold("2.5 %"), Ok(0.025));
        assert!(parse_threshold("-1%").is_err());
        assert!(parse_threshold("ten").is_err());
    }
}
