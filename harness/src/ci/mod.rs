//! The CI speed gate (`cellucid-bench ci`): a baseline and a candidate binary, run A/B
//! interleaved on the same configurations, judged per configuration by a paired bootstrap
//! interval of the ratio of median wall times, plus exact checks of what they wrote.
//!
//! - `build.rs`: a path is used as is, a git revision is built in a temporary worktree;
//! - `ab.rs`: the interleaved child-process runs (`crate::benchmark::executor`), as many
//!   rounds as a schedule says: the plan's repeats, or `sequential.rs`'s adaptive looks
//!   (`--adaptive`: more pairs while undecided, Bonferroni over the planned looks);
//! - `stats.rs`: ratio of medians with a pair bootstrap interval;
//! - `verdict.rs`: pass / slower / format change / error, and the exit status;
//! - `report.rs`: Markdown (and `$GITHUB_STEP_SUMMARY`) or JSON.
//!
//! The deterministic gate (`--counter instructions`) replaces the timed runs and their
//! statistics: `cachegrind.rs` (one export counted under valgrind's cachegrind, parsed
//! into parts), `counted.rs` (every configuration once per binary), `count_verdict.rs`
//! (the count ratio against the threshold, the part that grew); `verdict.rs`'s exact
//! output gates and `report.rs`'s shapes are shared.
//!
//! Calibration (false alarms on A/A, detections of an injected 10 % slowdown) is
//! `scripts/calibrate-gate.sh`; its recorded output and the CI wiring are in
//! `docs/ci-gate.md`.

pub mod ab;
pub mod build;
pub mod cachegrind;
pub mod count_verdict;
pub mod counted;
pub mod interval;
pub mod report;
pub mod sequential;
pub mod stats;
pub mod subject;
pub mod verdict;

use crate::plan::Plan;
use anyhow::Result;
use std::path::PathBuf;
use std::time::Instant;

/// What the gate measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Counter {
    /// Wall time of A/B pairs, judged by a confidence interval.
    Wall,
    /// Instructions counted by cachegrind, one run per binary, judged exactly.
    Instructions,
}

impl Counter {
    pub fn as_str(self) -> &'static str {
        match self {
            Counter::Wall => "wall",
            Counter::Instructions => "instructions",
        }
    }
}

/// What the report says about a gate run besides the verdict.
#[derive(Clone, Debug)]
pub struct GateMeta {
    pub counter: Counter,
    pub baseline: String,
    pub candidate: String,
    pub plan: String,
    pub repeats: u32,
    pub warmup: u32,
    /// The adaptive gate's looks (`--adaptive`); `repeats` is then unused.
    pub adaptive: Option<sequential::Design>,
    /// Wall time of the A/B runs (not of building revisions).
    pub wall_s: f64,
    /// Configurations of the plan one side cannot export, with the reason.
    pub skipped: Vec<String>,
}

/// One gate run.
pub struct Gate {
    pub plan: Plan,
    pub baseline: subject::Subject,
    pub candidate: subject::Subject,
    pub work_dir: PathBuf,
    pub threshold: f64,
    pub allow_format_change: bool,
    pub progress: bool,
    pub counter: Counter,
    /// Simulate caches under cachegrind (D1/LL misses); instructions only.
    pub cache_sim: bool,
    /// Wall time only: fewer pairs, or shorter baseline runs (s), are inconclusive.
    pub min_pairs: usize,
    pub min_run_s: f64,
    /// Wall time only: pairs by a sequential design instead of the plan's repeats.
    pub adaptive: Option<sequential::Design>,
}

impl Gate {
    /// Run both binaries and judge them.
    pub fn run(&self) -> Result<(GateMeta, verdict::Verdict)> {
        let t = Instant::now();
        let skipped = match self.counter {
            Counter::Wall => ab::configurations(&self.ab_config())?.1,
            Counter::Instructions => Vec::new(),
        };
        let v = match self.counter {
            Counter::Wall => self.run_wall()?,
            Counter::Instructions => self.run_counted()?,
        };
        let meta = GateMeta {
            counter: self.counter,
            baseline: self.baseline.origin(),
            candidate: self.candidate.origin(),
            skipped,
            plan: self.plan.name.clone(),
            // Counted runs: one per binary and configuration, no warm-up.
            repeats: if self.counter == Counter::Wall { self.plan.repeats } else { 1 },
            warmup: if self.counter == Counter::Wall { self.plan.warmup } else { 0 },
            adaptive: if self.counter == Counter::Wall { self.adaptive.clone() } else { None },
            wall_s: t.elapsed().as_secs_f64(),
        };
        Ok((meta, v))
    }

    fn ab_config(&self) -> ab::AbConfig<'_> {
        ab::AbConfig { plan: &self.plan, baseline: &self.baseline, candidate: &self.candidate, work_dir: &self.work_dir, progress: self.progress }
    }

    fn run_wall(&self) -> Result<verdict::Verdict> {
        let rules = verdict::WallRules {
            threshold: self.threshold,
            allow_format_change: self.allow_format_change,
            outputs_comparable: subject::outputs_comparable(&self.baseline, &self.candidate),
            min_pairs: self.min_pairs,
            min_run_s: self.min_run_s,
            confidence: stats::CONFIDENCE,
        };
        let Some(design) = &self.adaptive else {
            let runs = ab::run(&self.ab_config(), &mut ab::Fixed::new(self.plan.repeats))?;
            return Ok(verdict::judge(&runs, &rules));
        };
        let mut schedule = sequential::Sequential::new(design.clone(), rules);
        let runs = ab::run(&self.ab_config(), &mut schedule)?;
        // Every interval at the looks' level, the last one's included.
        let mut v = verdict::judge(&runs, &design.rules(&rules));
        let stops = schedule.into_stops();
        for c in &mut v.cells {
            c.stopped = stops.get(&c.cell_id).copied();
        }
        Ok(v)
    }

    fn run_counted(&self) -> Result<verdict::Verdict> {
        let (subject::Subject::Binary(baseline), subject::Subject::Binary(candidate)) = (&self.baseline, &self.candidate) else {
            anyhow::bail!("--counter instructions counts cellucid-bench binaries; writers run other programs (Python, R) that cachegrind would count with their interpreters");
        };
        let cells = counted::run(&counted::CountConfig {
            plan: &self.plan,
            baseline: &baseline.path,
            candidate: &candidate.path,
            work_dir: &self.work_dir,
            cache_sim: self.cache_sim,
            progress: self.progress,
        })?;
        Ok(count_verdict::judge(&cells, self.threshold, self.allow_format_change))
    }
}
