//! The adaptive wall-time gate (`ci --adaptive`): as many pairs as the verdict needs.
//!
//! A fixed number of pairs is either too few on a loaded machine (the interval straddles
//! the threshold: inconclusive) or wasted on a quiet one (decided after 8). So each
//! configuration runs until its interval is decided — entirely above `1 + threshold`
//! (slower) or entirely at or below it (pass) — or a maximum is reached.
//!
//! **Why planned looks, and why Bonferroni.** Judging after every pair and stopping at
//! the first decision peeks: each look is another chance for noise to clear the limit,
//! so a 95 % interval looked at twenty times errs far more than 5 % of the time. The
//! design is group-sequential: the verdict is looked at only at planned pair counts —
//! `--min-pairs`, then doubling (8, 16, 32, …) and `--max-pairs` last (8, 16, 32, 40) —
//! and each look's interval has coverage `1 − 0.05 / L` for `L` planned looks
//! (Bonferroni: 98.75 % for 4 looks). By the union bound, the chance that *any* look's
//! interval misses the true median is then at most 5 %, whenever the gate stops, so a
//! decision at any look is wrong at most 5 % of the time, as the fixed gate's is. It is
//! conservative (Pocock or O'Brien–Fleming boundaries would spend the 5 % more
//! efficiently) but needs no tables and holds for the distribution-free interval of
//! `super::interval` as is. Stopping fewer times than planned (decided early, or
//! `--max-seconds`) only makes it more conservative.
//!
//! A configuration stops (`StopReason`) when a look decides it, at the last look, when a
//! run fails or the output differs (the exact gates decide whatever the timing), when its
//! runs are shorter than `--min-run-ms` (more pairs cannot fix that), or when the rounds
//! to its next look would end after `--max-seconds` (projected from the pairs so far;
//! never before the first look). At the last look (or the time budget) an undecided
//! interval is judged as the fixed gate judges it (`super::verdict`): inconclusive when
//! wider than the threshold, pass otherwise.

use super::ab::{CellRuns, Schedule};
use super::interval::binomial_half_cdf;
use super::stats::CONFIDENCE;
use crate::benchmark::stats::median;
use super::verdict::{format_changes, judge_speed, Status, WallRules};
use serde::Serialize;
use std::collections::HashMap;
use std::time::Duration;

/// Default `--max-pairs`.
pub const DEFAULT_MAX_PAIRS: usize = 40;

/// A design the gate cannot run.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum DesignError {
    #[error("--min-pairs must be at least 1")]
    NoPairs,
    #[error("--max-pairs {max} is below --min-pairs {min}")]
    MaxBelowMin { min: usize, max: usize },
    #[error("--max-pairs {max} gives no {confidence:.2} % interval of the median ({looks} looks at {confidence:.2} % each need {needed} pairs)")]
    MaxTooFew { max: usize, confidence: f64, looks: usize, needed: usize },
    #[error("--max-seconds must be a positive number of seconds")]
    BadSeconds,
}

/// The planned looks and the level of each.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Design {
    /// Pair counts at which the verdict is looked at, increasing; the last is the maximum.
    pub looks: Vec<usize>,
    /// Coverage of each look's interval: `1 − (1 − CONFIDENCE) / looks.len()`.
    pub look_confidence: f64,
    /// Time budget of the A/B runs (warm-up included), if any.
    pub max_seconds: Option<f64>,
}

impl Design {
    /// Looks at `min_pairs`, doubling, and `max_pairs`, Bonferroni-adjusted.
    pub fn new(min_pairs: usize, max_pairs: usize, max_seconds: Option<f64>) -> Result<Design, DesignError> {
        if min_pairs == 0 {
            return Err(DesignError::NoPairs);
        }
        if max_pairs < min_pairs {
            return Err(DesignError::MaxBelowMin { min: min_pairs, max: max_pairs });
        }
        if max_seconds.is_some_and(|s| !(s.is_finite() && s > 0.0)) {
            return Err(DesignError::BadSeconds);
        }
        let mut looks = Vec::new();
        let mut n = min_pairs;
        while n < max_pairs {
            looks.push(n);
            n *= 2;
        }
        looks.push(max_pairs);
        let look_confidence = 1.0 - (1.0 - CONFIDENCE) / looks.len() as f64;
        // Without an interval at the last look the design could never decide anything.
        let needed = (1..=max_pairs.max(64)).find(|&n| 1.0 - 2.0 * binomial_half_cdf(n, 0) >= look_confidence).unwrap_or(usize::MAX);
        if max_pairs < needed {
            return Err(DesignError::MaxTooFew { max: max_pairs, confidence: look_confidence * 100.0, looks: looks.len(), needed });
        }
        Ok(Design { looks, look_confidence, max_seconds })
    }

    /// The most pairs a configuration gets.
    pub fn max_pairs(&self) -> usize {
        self.looks.last().copied().unwrap_or(0)
    }

    /// The first planned look after `pairs`.
    pub fn next_look(&self, pairs: usize) -> Option<usize> {
        self.looks.iter().copied().find(|&l| l > pairs)
    }

    /// The rules a look judges with: the same as the fixed gate's, at the look's level.
    pub fn rules(&self, fixed: &WallRules) -> WallRules {
        WallRules { confidence: self.look_confidence, ..*fixed }
    }
}

/// Why a configuration got no more pairs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// A look's interval lay entirely above, or entirely at or below, `1 + threshold`.
    Decided,
    /// The last planned look (`--max-pairs`) left it undecided.
    MaxPairs,
    /// The rounds to the next look would have ended after `--max-seconds`.
    MaxSeconds,
    /// A run failed or the candidate's output is invalid: an error whatever the timing.
    RunFailed,
    /// The outputs differ and format changes are not allowed: fails whatever the timing.
    FormatChange,
    /// The baseline's runs are shorter than `--min-run-ms`: more pairs cannot help.
    ShortRuns,
}

impl StopReason {
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::Decided => "decided",
            StopReason::MaxPairs => "--max-pairs reached",
            StopReason::MaxSeconds => "--max-seconds reached",
            StopReason::RunFailed => "a run failed",
            StopReason::FormatChange => "format change",
            StopReason::ShortRuns => "runs too short",
        }
    }
}

/// How one configuration's sequence ended.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Stopped {
    pub reason: StopReason,
    /// Timed pairs when it stopped.
    pub pairs: usize,
    /// Planned looks taken (the last one included).
    pub looks: usize,
}

/// The decision after a timed round for one configuration, the time budget aside.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Look {
    /// Not at a look, or a look left it undecided before the last one.
    Continue,
    Stop(StopReason),
}

/// Whether `runs` needs more pairs (see the module doc); `fixed` are the gate's rules.
pub fn look(runs: &CellRuns, design: &Design, fixed: &WallRules) -> Look {
    if !runs.failures.is_empty() || runs.invalid.is_some() {
        return Look::Stop(StopReason::RunFailed);
    }
    let n = runs.pairs.len();
    // After one timed pair, not right after the warm-up: a configuration without a pair
    // is an error for the verdict, and this one is a format change.
    if n > 0 && fixed.outputs_comparable && !fixed.allow_format_change && differs(runs) {
        return Look::Stop(StopReason::FormatChange);
    }
    if !design.looks.contains(&n) {
        return Look::Continue;
    }
    // The verdict's own check, without its bootstrap (which only the report needs).
    let baseline: Vec<f64> = runs.pairs.iter().map(|p| p.0).collect();
    if median(&baseline) < fixed.min_run_s {
        return Look::Stop(StopReason::ShortRuns);
    }
    let rules = design.rules(fixed);
    let (noise, status, _) = judge_speed(&runs.pairs, None, &rules);
    let limit = 1.0 + rules.threshold;
    if status == Status::Slower || noise.is_some_and(|i| i.hi <= limit) {
        Look::Stop(StopReason::Decided)
    } else if n >= design.max_pairs() {
        Look::Stop(StopReason::MaxPairs)
    } else {
        Look::Continue
    }
}

fn differs(runs: &CellRuns) -> bool {
    match (&runs.baseline_tree, &runs.candidate_tree) {
        (Some(a), Some(b)) => !format_changes(a, b).is_empty(),
        _ => false,
    }
}

/// The adaptive schedule of `super::ab::run`: each configuration runs until it stops.
pub struct Sequential {
    design: Design,
    rules: WallRules,
    /// By cell id.
    stopped: HashMap<String, Stopped>,
}

impl Sequential {
    pub fn new(design: Design, rules: WallRules) -> Sequential {
        Sequential { design, rules, stopped: HashMap::new() }
    }

    /// How each configuration's sequence ended, by cell id.
    pub fn into_stops(self) -> HashMap<String, Stopped> {
        self.stopped
    }

    fn stop(&mut self, runs: &CellRuns, reason: StopReason) {
        let n = runs.pairs.len();
        let looks = self.design.looks.iter().filter(|&&l| l <= n).count();
        self.stopped.insert(runs.cell_id.clone(), Stopped { reason, pairs: n, looks });
    }

    /// Whether the rounds up to `next` look would end after the budget: the open
    /// configurations' mean pair times so far, once per round.
    fn over_budget(&self, runs: &[CellRuns], open: &[bool], pairs: usize, elapsed: Duration) -> bool {
        let (Some(budget), Some(next)) = (self.design.max_seconds, self.design.next_look(pairs)) else { return false };
        let round_s: f64 = runs.iter().zip(open).filter(|(_, &o)| o).map(|(r, _)| mean_pair_s(&r.pairs)).sum();
        elapsed.as_secs_f64() + (next - pairs) as f64 * round_s > budget
    }
}

fn mean_pair_s(pairs: &[(f64, f64)]) -> f64 {
    if pairs.is_empty() {
        return 0.0;
    }
    pairs.iter().map(|p| p.0 + p.1).sum::<f64>() / pairs.len() as f64
}

impl Schedule for Sequential {
    fn before_round(&mut self, runs: &[CellRuns], open: &mut [bool], elapsed: Duration) {
        let mut undecided_at_look = Vec::new();
        for (i, r) in runs.iter().enumerate() {
            if !open[i] {
                continue;
            }
            match look(r, &self.design, &self.rules) {
                Look::Stop(reason) => {
                    self.stop(r, reason);
                    open[i] = false;
                }
                Look::Continue if self.design.looks.contains(&r.pairs.len()) => undecided_at_look.push(i),
                Look::Continue => {}
            }
        }
        // The budget is checked once the decisions are in, so that it is projected for
        // the configurations that will really run on.
        for i in undecided_at_look {
            if self.over_budget(runs, open, runs[i].pairs.len(), elapsed) {
                self.stop(&runs[i], StopReason::MaxSeconds);
                open[i] = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::tree::TreeStats;
    use crate::plan::SplitMix64;

    fn fixed(threshold: f64) -> WallRules {
        WallRules { threshold, allow_format_change: false, outputs_comparable: true, min_pairs: 8, min_run_s: 0.15, confidence: CONFIDENCE }
    }

    fn tree() -> TreeStats {
        TreeStats { files: 1, dirs: 1, bytes_apparent: 1, bytes_allocated: 1, hash: "h".into() }
    }

    fn runs(pairs: Vec<(f64, f64)>) -> CellRuns {
        CellRuns { cell_id: "c".into(), label: "cell".into(), pairs, baseline_tree: Some(tree()), candidate_tree: Some(tree()), failures: Vec::new(), invalid: None }
    }

    /// A standard normal draw (Box–Muller on the harness's generator).
    fn normal(rng: &mut SplitMix64) -> f64 {
        let u = |r: &mut SplitMix64| ((r.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        let (u1, u2) = (u(rng), u(rng));
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// One simulated pair of a shared, loaded machine: 0.4 s runs, a load factor that
    /// hits both runs of the pair (log-normal, σ = 0.25: ±25 %, what pairing cancels),
    /// and each run's own noise (σ = 0.03), the candidate `ratio` times slower.
    fn pair(rng: &mut SplitMix64, ratio: f64) -> (f64, f64) {
        let load = (0.25 * normal(rng)).exp();
        let a = 0.4 * load * (0.03 * normal(rng)).exp();
        let b = 0.4 * ratio * load * (0.03 * normal(rng)).exp();
        (a, b)
    }

    /// One simulated adaptive gate: pairs are added until `look` stops it; the status
    /// the fixed verdict then gives, with the pairs used.
    fn simulate(rng: &mut SplitMix64, ratio: f64, design: &Design, r: &WallRules) -> (Status, usize) {
        let mut cell = runs(Vec::new());
        loop {
            cell.pairs.push(pair(rng, ratio));
            if let Look::Stop(_) = look(&cell, design, r) {
                let v = super::super::verdict::judge_cell(&cell, &design.rules(r));
                return (v.status, cell.pairs.len());
            }
        }
    }

    /// Rates of (slower, pass, inconclusive) and the mean pairs over `gates` seeded gates.
    fn rates(seed: u64, gates: usize, ratio: f64, design: &Design, r: &WallRules) -> ([f64; 3], f64) {
        let mut rng = SplitMix64::new(seed);
        let (mut counts, mut pairs) = ([0usize; 3], 0usize);
        for _ in 0..gates {
            let (status, n) = simulate(&mut rng, ratio, design, r);
            let slot = match status {
                Status::Slower => 0,
                Status::Pass => 1,
                _ => 2,
            };
            counts[slot] += 1;
            pairs += n;
        }
        (counts.map(|c| c as f64 / gates as f64), pairs as f64 / gates as f64)
    }

    #[test]
    fn looks_double_from_min_to_max_with_bonferroni_levels() {
        let d = Design::new(8, 40, None).expect("design");
        assert_eq!(d.looks, vec![8, 16, 32, 40]);
        assert!((d.look_confidence - 0.9875).abs() < 1e-12);
        assert_eq!(Design::new(8, 8, None).map(|d| d.looks), Ok(vec![8]));
        assert_eq!(Design::new(6, 12, None).map(|d| d.looks), Ok(vec![6, 12]));
        assert_eq!(d.next_look(8), Some(16));
        assert_eq!(d.next_look(40), None);
        assert_eq!(Design::new(8, 4, None), Err(DesignError::MaxBelowMin { min: 8, max: 4 }));
        assert_eq!(Design::new(0, 4, None), Err(DesignError::NoPairs));
        assert_eq!(Design::new(8, 40, Some(0.0)), Err(DesignError::BadSeconds));
        // 1, 2, 4, 6: 4 looks at 98.75 % each need 8 pairs at the last ([min, max]).
        assert!(matches!(Design::new(1, 6, None), Err(DesignError::MaxTooFew { needed: 8, .. })));
    }

    #[test]
    fn simulated_loaded_machine_meets_the_issue_bar() {
        // 400 seeded gates each, threshold 5 % (the calibration's: half the 10 % effect).
        let d = Design::new(8, DEFAULT_MAX_PAIRS, None).expect("design");
        let r = fixed(0.05);
        let (aa, aa_pairs) = rates(1, 400, 1.0, &d, &r);
        let (ab, ab_pairs) = rates(2, 400, 1.10, &d, &r);
        eprintln!("A/A: slower {:.1} %, pass {:.1} %, inconclusive {:.1} %, {aa_pairs:.1} pairs on average", aa[0] * 100.0, aa[1] * 100.0, aa[2] * 100.0);
        eprintln!("A/B +10 %: slower {:.1} %, pass {:.1} %, inconclusive {:.1} %, {ab_pairs:.1} pairs on average", ab[0] * 100.0, ab[1] * 100.0, ab[2] * 100.0);
        assert!(aa[0] <= 0.05, "A/A false alarms {aa:?}");
        assert!(ab[0] >= 0.90, "detections of a 10 % slowdown {ab:?}");
        assert!(aa[2] <= 0.10 && ab[2] <= 0.10, "inconclusive {aa:?} {ab:?}");
        assert!(aa_pairs < 30.0 && ab_pairs < 30.0, "stops early when decided: {aa_pairs} {ab_pairs}");
        // The same noise with the fixed gate's 12 pairs: mostly undecided.
        let twelve = Design::new(12, 12, None).expect("design");
        let (ab12, _) = rates(2, 400, 1.10, &twelve, &r);
        eprintln!("A/B +10 %, 12 fixed pairs: slower {:.1} %, inconclusive {:.1} %", ab12[0] * 100.0, ab12[2] * 100.0);
        assert!(ab12[0] < 0.90, "12 fixed pairs miss the bar: {ab12:?}");
    }

    #[test]
    fn bonferroni_holds_false_alarms_at_the_boundary() {
        // The worst case for a false alarm: the candidate exactly 1 + threshold slower.
        // Bonferroni keeps failing it within the one-sided 2.5 %; peeking at the same
        // looks with a plain 95 % interval each exceeds that.
        let d = Design::new(8, DEFAULT_MAX_PAIRS, None).expect("design");
        let r = fixed(0.05);
        let (corrected, _) = rates(3, 1000, 1.05, &d, &r);
        let naive = Design { look_confidence: CONFIDENCE, ..d.clone() };
        let (peeking, _) = rates(3, 1000, 1.05, &naive, &r);
        eprintln!("boundary: false fails {:.1} % with Bonferroni, {:.1} % peeking at 95 %", corrected[0] * 100.0, peeking[0] * 100.0);
        assert!(corrected[0] <= 0.025, "{corrected:?}");
        assert!(peeking[0] > 0.025, "{peeking:?}");
    }

    #[test]
    fn stop_reasons() {
        let d = Design::new(8, 16, None).expect("design");
        let r = fixed(0.05);
        let steady = |ratio: f64, n: usize| (0..n).map(|i| (0.5 + 0.001 * i as f64, (0.5 + 0.001 * i as f64) * ratio)).collect::<Vec<_>>();
        assert_eq!(look(&runs(steady(1.3, 7)), &d, &r), Look::Continue, "not a look yet");
        assert_eq!(look(&runs(steady(1.3, 8)), &d, &r), Look::Stop(StopReason::Decided));
        assert_eq!(look(&runs(steady(1.0, 8)), &d, &r), Look::Stop(StopReason::Decided));
        assert_eq!(look(&runs(steady(1.3, 9)), &d, &r), Look::Continue, "between looks");
        // Ratios 0.8 … 1.3: straddles 1.05 at 8 pairs, continues; the last look stops it.
        let wide = |n: usize| (0..n).map(|i| (0.5, 0.5 * (0.8 + 0.5 * (i % 8) as f64 / 7.0))).collect::<Vec<_>>();
        assert_eq!(look(&runs(wide(8)), &d, &r), Look::Continue);
        assert_eq!(look(&runs(wide(16)), &d, &r), Look::Stop(StopReason::MaxPairs));
        let short: Vec<(f64, f64)> = (0..8).map(|_| (0.04, 0.06)).collect();
        assert_eq!(look(&runs(short), &d, &r), Look::Stop(StopReason::ShortRuns));
        let mut failed = runs(steady(1.0, 3));
        failed.failures.push("candidate: boom".into());
        assert_eq!(look(&failed, &d, &r), Look::Stop(StopReason::RunFailed));
        let mut changed = runs(Vec::new());
        changed.candidate_tree = Some(TreeStats { files: 2, ..tree() });
        assert_eq!(look(&changed, &d, &r), Look::Continue, "seen in the warm-up: one timed pair first");
        changed.pairs = steady(1.0, 1);
        assert_eq!(look(&changed, &d, &r), Look::Stop(StopReason::FormatChange));
        let v = super::super::verdict::judge_cell(&changed, &d.rules(&r));
        assert_eq!(v.status, Status::FormatChange);
        let allowed = WallRules { allow_format_change: true, ..r };
        assert_eq!(look(&changed, &d, &allowed), Look::Continue);
    }

    #[test]
    fn the_schedule_records_stops_and_keeps_the_time_budget() {
        let d = Design::new(8, 32, Some(20.0)).expect("design");
        let wide = |id: &str, n: usize| CellRuns { cell_id: id.into(), ..runs((0..n).map(|i| (0.5, 0.5 * (0.8 + 0.5 * (i % 8) as f64 / 7.0))).collect()) };
        let clear = CellRuns { cell_id: "clear".into(), ..runs(vec![(0.5, 0.5); 8]) };
        let all = vec![clear, wide("noisy", 8)];
        let mut s = Sequential::new(d, fixed(0.05));
        let mut open = [true, true];
        // 10 s so far; the noisy one alone needs 8 more rounds of 1 s: 18 s, within 20.
        s.before_round(&all, &mut open, Duration::from_secs(10));
        assert_eq!(open, [false, true]);
        // At 16 pairs after 15 s: 16 more rounds to 32 would end at 31 s.
        let all = vec![all[0].clone(), wide("noisy", 16)];
        s.before_round(&all, &mut open, Duration::from_secs(15));
        assert_eq!(open, [false, false]);
        let stops = s.into_stops();
        assert_eq!(stops["clear"], Stopped { reason: StopReason::Decided, pairs: 8, looks: 1 });
        assert_eq!(stops["noisy"], Stopped { reason: StopReason::MaxSeconds, pairs: 16, looks: 2 });
    }
}
