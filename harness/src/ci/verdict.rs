//! The gate's decision, per configuration and overall.
//!
//! - **Speed** (wall time), judged on the distribution-free 95 % interval of the median
//!   paired ratio candidate / baseline (`super::interval`; with `--adaptive`, at the
//!   per-look level of `super::sequential`, 95 % for all looks together), in this order:
//!   1. fewer pairs than `--min-pairs`, or a baseline median run shorter than
//!      `--min-run-ms`: **inconclusive** (runs that short are a few scheduler slices, and
//!      load does not hit both runs of a pair alike);
//!   2. too few pairs for any 95 % interval (fewer than 6): **inconclusive**;
//!   3. the whole interval above `1 + threshold`: **slower** — noise cannot explain it;
//!   4. the whole interval at or below `1 + threshold`: **pass**;
//!   5. the interval straddles `1 + threshold` and is wider than the threshold itself:
//!      **inconclusive** — the noise measured is larger than the change the gate is asked
//!      to see, so neither verdict would mean anything (this used to pass, or with the
//!      bootstrap's too-narrow interval on few pairs, fail falsely);
//!   6. it straddles but is narrower than the threshold: **pass** — the change is about
//!      the threshold, within what the gate resolves.
//! - **Format** (exact, no statistics: the export is deterministic): any difference in
//!   bytes written, file count or output hash between the two binaries' folders for the
//!   same configuration is reported, and fails unless format changes are allowed.
//! - **Runs**: a configuration where a run failed, or that has no timed pair, fails.

use super::ab::CellRuns;
use super::interval::{median_ci, MedianCi};
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
    /// The wall-time gate cannot judge: too few pairs, too short runs, or noise wider
    /// than the threshold. Not a failure; its own exit status (3).
    Inconclusive,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Slower => "SLOWER",
            Status::FormatChange => "FORMAT CHANGE",
            Status::Error => "ERROR",
            Status::Inconclusive => "INCONCLUSIVE",
        }
    }
}

/// One configuration's verdict.
#[derive(Clone, Debug, Serialize)]
pub struct CellVerdict {
    pub cell_id: String,
    pub label: String,
    /// The bootstrap interval, for reference (`super::stats`).
    pub ci: Option<RatioCi>,
    /// The distribution-free interval of the median paired ratio the speed verdict uses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noise: Option<MedianCi>,
    /// Why the speed could not be judged (status `Inconclusive`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inconclusive: Option<String>,
    /// The deterministic gate's counts (`--counter instructions`); `None` for wall time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts: Option<super::count_verdict::CountChange>,
    /// How the adaptive gate's sequence of pairs ended (`--adaptive`); `None` otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<super::sequential::Stopped>,
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

/// The gate's exit statuses (also in `ci --help` and the README).
pub const EXIT_PASS: u8 = 0;
pub const EXIT_FAIL: u8 = 1;
pub const EXIT_INCONCLUSIVE: u8 = 3;

impl Verdict {
    /// True when any configuration failed: the gate exits 1.
    pub fn failed(&self) -> bool {
        self.cells.iter().any(|c| !matches!(c.status, Status::Pass | Status::Inconclusive))
    }

    /// True when nothing failed but some configuration could not be judged.
    pub fn inconclusive(&self) -> bool {
        !self.failed() && self.cells.iter().any(|c| c.status == Status::Inconclusive)
    }

    /// 0 pass, 1 fail (slower, format change, error), 3 inconclusive.
    pub fn exit_status(&self) -> u8 {
        if self.failed() {
            EXIT_FAIL
        } else if self.inconclusive() {
            EXIT_INCONCLUSIVE
        } else {
            EXIT_PASS
        }
    }

    /// `PASS`, `FAIL` or `INCONCLUSIVE`.
    pub fn headline(&self) -> &'static str {
        match self.exit_status() {
            EXIT_PASS => "PASS",
            EXIT_INCONCLUSIVE => "INCONCLUSIVE",
            _ => "FAIL",
        }
    }
}

/// What the wall-time gate needs to judge.
#[derive(Clone, Copy, Debug)]
pub struct WallRules {
    /// As a fraction: 0.10 for 10 %.
    pub threshold: f64,
    pub allow_format_change: bool,
    /// Whether output differences can fail at all: both sides claim the same output
    /// format (`super::subject`). Two builds of our exporter always do.
    pub outputs_comparable: bool,
    /// Fewer timed pairs than this: inconclusive.
    pub min_pairs: usize,
    /// A baseline median run shorter than this (seconds): inconclusive.
    pub min_run_s: f64,
    /// Coverage of the interval of the median: `CONFIDENCE` (95 %) for a fixed number of
    /// pairs; the per-look level of a sequential design (`super::sequential`), so that
    /// all its looks together still hold at 95 %.
    pub confidence: f64,
}

/// The speed part of the verdict (see the module doc), with the reason when inconclusive.
pub fn judge_speed(pairs: &[(f64, f64)], ci: Option<&RatioCi>, rules: &WallRules) -> (Option<MedianCi>, Status, Option<String>) {
    let ratios: Vec<f64> = pairs.iter().map(|p| p.1 / p.0).collect();
    let noise = median_ci(&ratios, rules.confidence);
    let limit = 1.0 + rules.threshold;
    if pairs.len() < rules.min_pairs {
        return (noise, Status::Inconclusive, Some(format!("{} pairs, fewer than --min-pairs {}", pairs.len(), rules.min_pairs)));
    }
    if let Some(ci) = ci.filter(|c| c.baseline_median_s < rules.min_run_s) {
        let why = format!("runs of {:.0} ms, shorter than --min-run-ms {:.0}", ci.baseline_median_s * 1e3, rules.min_run_s * 1e3);
        return (noise, Status::Inconclusive, Some(why));
    }
    let Some(n) = noise else {
        let why = format!("{} pairs give no {:.2} % interval of the median", pairs.len(), rules.confidence * 100.0);
        return (None, Status::Inconclusive, Some(why));
    };
    if n.lo > limit {
        (noise, Status::Slower, None)
    } else if n.hi <= limit || n.hi - n.lo <= rules.threshold {
        (noise, Status::Pass, None)
    } else {
        let why = format!("noise: the interval {:+.1} … {:+.1} % is wider than the threshold {:.1} %", (n.lo - 1.0) * 100.0, (n.hi - 1.0) * 100.0, rules.threshold * 100.0);
        (noise, Status::Inconclusive, Some(why))
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
pub fn judge_cell(runs: &CellRuns, rules: &WallRules) -> CellVerdict {
    let ci = paired_ratio(&runs.pairs, RESAMPLES, CONFIDENCE, SEED);
    let format = match (&runs.baseline_tree, &runs.candidate_tree) {
        (Some(a), Some(b)) => format_changes(a, b),
        _ => Vec::new(),
    };
    let (noise, speed, inconclusive) = judge_speed(&runs.pairs, ci.as_ref(), rules);
    // The exact gates decide whatever the noise: they do not depend on it.
    let mut failures = runs.failures.clone();
    failures.extend(runs.invalid.iter().map(|w| format!("candidate: {w}")));
    let status = if !failures.is_empty() || ci.is_none() {
        Status::Error
    } else if !format.is_empty() && rules.outputs_comparable && !rules.allow_format_change {
        Status::FormatChange
    } else {
        speed
    };
    CellVerdict {
        cell_id: runs.cell_id.clone(),
        label: runs.label.clone(),
        ci,
        noise,
        inconclusive: if status == Status::Inconclusive { inconclusive } else { None },
        counts: None,
        stopped: None,
        format_changes: format,
        failures,
        status,
    }
}

/// Judge every configuration.
pub fn judge(runs: &[CellRuns], rules: &WallRules) -> Verdict {
    Verdict { threshold: rules.threshold, allow_format_change: rules.allow_format_change, cells: runs.iter().map(|r| judge_cell(r, rules)).collect() }
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

    fn rules(threshold: f64, allow_format_change: bool) -> WallRules {
        WallRules { threshold, allow_format_change, outputs_comparable: true, min_pairs: 8, min_run_s: 0.15, confidence: CONFIDENCE }
    }

    fn tree(bytes: u64, files: u64, hash: &str) -> TreeStats {
        TreeStats { files, dirs: 1, bytes_apparent: bytes, bytes_allocated: bytes, hash: hash.into() }
    }

    fn runs(pairs: Vec<(f64, f64)>, a: TreeStats, b: TreeStats) -> CellRuns {
        CellRuns { cell_id: "c".into(), label: "cell".into(), pairs, baseline_tree: Some(a), candidate_tree: Some(b), failures: Vec::new(), invalid: None }
    }

    fn steady(ratio: f64) -> Vec<(f64, f64)> {
        (0..10).map(|i| (0.5 + 0.001 * i as f64, (0.5 + 0.001 * i as f64) * ratio)).collect()
    }

    /// 12 pairs of 0.5 s baselines whose ratios are `center` spread evenly by ±`spread`.
    fn spread(center: f64, spread: f64) -> Vec<(f64, f64)> {
        (0..12).map(|i| (0.5, 0.5 * (center + spread * (i as f64 / 11.0 * 2.0 - 1.0)))).collect()
    }

    fn status(pairs: Vec<(f64, f64)>, r: &WallRules) -> Status {
        judge_cell(&runs(pairs, tree(1, 1, "h"), tree(1, 1, "h")), r).status
    }

    #[test]
    fn a_different_hash_fails_unless_format_changes_are_allowed() {
        let r = runs(steady(1.0), tree(100, 3, "aaaa"), tree(100, 3, "bbbb"));
        let v = judge(&[r.clone()], &rules(0.10, false));
        assert_eq!(v.cells[0].status, Status::FormatChange);
        assert_eq!(v.cells[0].format_changes, vec!["hash aaaa → bbbb".to_string()]);
        assert!(v.failed());
        let v = judge(&[r], &rules(0.10, true));
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
        let r = rules(0.10, false);
        assert_eq!(status(steady(1.25), &r), Status::Slower);
        assert_eq!(status(steady(1.05), &r), Status::Pass);
        assert_eq!(status(steady(0.8), &r), Status::Pass);
        let mut failed = runs(steady(1.0), tree(1, 1, "h"), tree(1, 1, "h"));
        failed.failures.push("candidate: error: boom".into());
        assert_eq!(judge_cell(&failed, &r).status, Status::Error);
    }

    #[test]
    fn synthetic_pairs_pass_fail_and_inconclusive() {
        let r = rules(0.05, false);
        // Quiet A/A: ratios 0.98 … 1.02, the interval well inside +5 %.
        assert_eq!(status(spread(1.0, 0.02), &r), Status::Pass);
        // A 12 % slowdown with ±3 % noise: the whole interval above 1.05.
        assert_eq!(status(spread(1.12, 0.03), &r), Status::Slower);
        // Busy A/A: ratios 0.75 … 1.25. The interval straddles 1.05 and is far wider
        // than 5 %: inconclusive, not a false FAIL (and not a PASS either).
        let v = judge_cell(&runs(spread(1.0, 0.25), tree(1, 1, "h"), tree(1, 1, "h")), &r);
        assert_eq!(v.status, Status::Inconclusive);
        assert!(v.inconclusive.as_deref().is_some_and(|w| w.starts_with("noise")), "{v:?}");
        // Noise that straddles the threshold but is narrower than it: the change is
        // about the threshold, which the gate resolves as a pass.
        assert_eq!(status(spread(1.05, 0.02), &r), Status::Pass);
        // A busy A/A whose interval still lies below the threshold passes.
        assert_eq!(status(spread(0.9, 0.1), &r), Status::Pass);
    }

    #[test]
    fn too_few_pairs_or_too_short_runs_are_inconclusive() {
        let r = rules(0.10, false);
        // 7 pairs with a clear 30 % slowdown: fewer than --min-pairs 8.
        let few: Vec<(f64, f64)> = steady(1.3).into_iter().take(7).collect();
        let v = judge_cell(&runs(few.clone(), tree(1, 1, "h"), tree(1, 1, "h")), &r);
        assert_eq!(v.status, Status::Inconclusive);
        assert!(v.inconclusive.as_deref().is_some_and(|w| w.contains("--min-pairs 8")), "{v:?}");
        // Allowed, 5 pairs cannot give a 95 % interval of the median at all.
        let r5 = WallRules { min_pairs: 1, ..r };
        assert_eq!(status(few.iter().copied().take(5).collect(), &r5), Status::Inconclusive);
        assert_eq!(status(few.clone(), &r5), Status::Slower, "6+ pairs are enough when allowed");
        // 40 ms runs: shorter than --min-run-ms 150.
        let short: Vec<(f64, f64)> = (0..12).map(|_| (0.04, 0.06)).collect();
        let v = judge_cell(&runs(short, tree(1, 1, "h"), tree(1, 1, "h")), &r);
        assert_eq!(v.status, Status::Inconclusive);
        assert!(v.inconclusive.as_deref().is_some_and(|w| w.contains("--min-run-ms 150")), "{v:?}");
        // The exact gates still decide: a format change on too few pairs fails.
        let v = judge_cell(&runs(few, tree(1, 1, "h"), tree(1, 2, "h")), &r);
        assert_eq!(v.status, Status::FormatChange);
    }

    #[test]
    fn exit_statuses() {
        let r = rules(0.05, false);
        let pass = runs(spread(1.0, 0.02), tree(1, 1, "h"), tree(1, 1, "h"));
        let noisy = runs(spread(1.0, 0.25), tree(1, 1, "h"), tree(1, 1, "h"));
        let slow = runs(spread(1.12, 0.03), tree(1, 1, "h"), tree(1, 1, "h"));
        assert_eq!(judge(&[pass.clone()], &r).exit_status(), EXIT_PASS);
        let v = judge(&[pass.clone(), noisy.clone()], &r);
        assert_eq!((v.exit_status(), v.headline()), (EXIT_INCONCLUSIVE, "INCONCLUSIVE"));
        let v = judge(&[noisy, slow], &r);
        assert_eq!((v.exit_status(), v.headline()), (EXIT_FAIL, "FAIL"), "a failure outranks inconclusive");
    }

    #[test]
    fn different_formats_report_differences_and_invalid_output_fails() {
        let r = WallRules { outputs_comparable: false, ..rules(0.10, false) };
        let v = judge_cell(&runs(steady(1.0), tree(100, 3, "a"), tree(90, 1, "b")), &r);
        assert_eq!(v.status, Status::Pass, "a folder against a file: reported, not failed");
        assert_eq!(v.format_changes.len(), 3);
        let mut bad = runs(steady(1.0), tree(100, 3, "a"), tree(100, 3, "a"));
        bad.invalid = Some("output does not validate (1 problems): x".into());
        let v = judge_cell(&bad, &r);
        assert_eq!(v.status, Status::Error);
        assert!(v.failures.iter().any(|f| f.starts_with("candidate: output does not validate")), "{v:?}");
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
