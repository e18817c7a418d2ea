//! The CI speed gate (`cellucid-bench ci`): a baseline and a candidate binary, run A/B
//! interleaved on the same configurations, judged per configuration by a paired bootstrap
//! interval of the ratio of median wall times, plus exact checks of what they wrote.
//!
//! - `build.rs`: a path is used as is, a git revision is built in a temporary worktree;
//! - `ab.rs`: the interleaved child-process runs (`crate::benchmark::executor`);
//! - `stats.rs`: ratio of medians with a pair bootstrap interval;
//! - `verdict.rs`: pass / slower / format change / error, and the exit status;
//! - `report.rs`: Markdown (and `$GITHUB_STEP_SUMMARY`) or JSON.
//!
//! Calibration (false alarms on A/A, detections of an injected 10 % slowdown) is
//! `scripts/calibrate-gate.sh`; its recorded output and the CI wiring are in
//! `docs/ci-gate.md`.

pub mod ab;
pub mod build;
pub mod report;
pub mod stats;
pub mod verdict;

use crate::plan::Plan;
use anyhow::Result;
use std::path::PathBuf;
use std::time::Instant;

/// What the report says about a gate run besides the verdict.
#[derive(Clone, Debug)]
pub struct GateMeta {
    pub baseline: String,
    pub candidate: String,
    pub plan: String,
    pub repeats: u32,
    pub warmup: u32,
    /// Wall time of the A/B runs (not of building revisions).
    pub wall_s: f64,
}

/// One gate run.
pub struct Gate {
    pub plan: Plan,
    pub baseline: build::Resolved,
    pub candidate: build::Resolved,
    pub work_dir: PathBuf,
    pub threshold: f64,
    pub allow_format_change: bool,
    pub progress: bool,
}

impl Gate {
    /// Run both binaries and judge them.
    pub fn run(&self) -> Result<(GateMeta, verdict::Verdict)> {
        let t = Instant::now();
        let runs = ab::run(&ab::AbConfig {
            plan: &self.plan,
            baseline: &self.baseline.path,
            candidate: &self.candidate.path,
            work_dir: &self.work_dir,
            progress: self.progress,
        })?;
        let v = verdict::judge(&runs, self.threshold, self.allow_format_change);
        let meta = GateMeta {
            baseline: self.baseline.origin.clone(),
            candidate: self.candidate.origin.clone(),
            plan: self.plan.name.clone(),
            repeats: self.plan.repeats,
            warmup: self.plan.warmup,
            wall_s: t.elapsed().as_secs_f64(),
        };
        Ok((meta, v))
    }
}
