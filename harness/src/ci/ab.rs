//! Running the baseline and the candidate A/B interleaved, as measured child processes,
//! on the same cached datasets, the same params and the same targets as a sweep.
//!
//! Order: `warmup + repeats` rounds; in each round every configuration once, the
//! configurations in a seeded random order (as `crate::plan::schedule`), and within a
//! configuration both binaries back to back — A then B in even rounds, B then A in odd
//! ones, so that neither binary always runs second (on a warm page cache, right after
//! the other's output was freed). Round `r`'s two runs of a configuration form pair `r`.
//! How many timed rounds each configuration gets is a `Schedule`'s: the plan's repeats
//! (`Fixed`), or as many as the adaptive gate's looks need (`super::sequential`), which
//! leaves decided configurations out of later rounds.

use super::subject::Subject;
use crate::benchmark::executor::Executor;
use crate::measure::tree::{tree_stats, TreeStats};
use crate::plan::{Cell, Plan, SplitMix64};
use crate::sweep::dataset_cache::DatasetCache;
use crate::target::{self, Target, TargetError, TargetSpec};
use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Which binary a run used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Baseline,
    Candidate,
}

/// Everything measured for one configuration.
#[derive(Clone, Debug)]
pub struct CellRuns {
    pub cell_id: String,
    pub label: String,
    /// `(baseline wall s, candidate wall s)` per timed round, in round order; a round
    /// where either run failed has no pair.
    pub pairs: Vec<(f64, f64)>,
    /// What the first successful run of each binary left on disk (with its hash).
    pub baseline_tree: Option<TreeStats>,
    pub candidate_tree: Option<TreeStats>,
    /// Failed runs: `baseline: <error line>`.
    pub failures: Vec<String>,
    /// The candidate's folder failed the viewer's checks (writers only, see `subject`).
    pub invalid: Option<String>,
}

/// How to run the A/B comparison.
pub struct AbConfig<'a> {
    pub plan: &'a Plan,
    pub baseline: &'a Subject,
    pub candidate: &'a Subject,
    /// Datasets, params and target mount points.
    pub work_dir: &'a Path,
    /// Print one line per round on stderr.
    pub progress: bool,
}

/// The plan's configurations both subjects can export (its `ours` cells: a plan names
/// the settings, the gate chooses who runs them), and a line per one left out.
pub fn configurations(cfg: &AbConfig) -> Result<(Vec<Cell>, Vec<String>)> {
    let mut cells = Vec::new();
    let mut skipped = Vec::new();
    for c in cfg.plan.cells().into_iter().filter(|c| c.writer == crate::writer::OURS) {
        match cfg.baseline.why_not(&c).or_else(|| cfg.candidate.why_not(&c)) {
            Some(why) => skipped.push(format!("{}: {why}", c.label())),
            None => cells.push(c),
        }
    }
    if cells.is_empty() {
        bail!("plan {} has no configuration (writer = \"{}\") that both sides can export{}", cfg.plan.name, crate::writer::OURS, if skipped.is_empty() { String::new() } else { format!(": {}", skipped.join("; ")) });
    }
    Ok((cells, skipped))
}

/// Which configurations get another timed round: a fixed number of rounds, or the
/// adaptive gate's looks (`super::sequential::Sequential`).
pub trait Schedule {
    /// Called before every timed round (the first included) with the runs so far and the
    /// time since the first round began; clears `open[i]` for each configuration that
    /// needs no more pairs. The runs end when none is open.
    fn before_round(&mut self, runs: &[CellRuns], open: &mut [bool], elapsed: std::time::Duration);
}

/// `repeats` timed rounds for every configuration: the plan's (or `--repeats`).
pub struct Fixed {
    pub repeats: u32,
    done: u32,
}

impl Fixed {
    pub fn new(repeats: u32) -> Fixed {
        Fixed { repeats, done: 0 }
    }
}

impl Schedule for Fixed {
    fn before_round(&mut self, _: &[CellRuns], open: &mut [bool], _: std::time::Duration) {
        if self.done >= self.repeats {
            open.fill(false);
        }
        self.done += 1;
    }
}

/// Targets, inputs and params of the configurations, ready to run.
struct Bench<'a> {
    cfg: &'a AbConfig<'a>,
    cells: Vec<Cell>,
    targets: HashMap<String, Target>,
    inputs: Vec<PathBuf>,
    params: Vec<PathBuf>,
    executor: Executor,
}

/// Run every configuration of `cfg.plan` that both sides can export A/B interleaved:
/// the plan's warm-up rounds, then timed rounds of the configurations `schedule` keeps
/// open.
pub fn run(cfg: &AbConfig, schedule: &mut dyn Schedule) -> Result<Vec<CellRuns>> {
    let bench = prepare(cfg)?;
    let mut results: Vec<CellRuns> = bench
        .cells
        .iter()
        .map(|c| CellRuns { cell_id: c.id(), label: c.label(), pairs: Vec::new(), baseline_tree: None, candidate_tree: None, failures: Vec::new(), invalid: None })
        .collect();
    let mut rng = SplitMix64::new(cfg.plan.seed);
    let mut order: Vec<usize> = (0..bench.cells.len()).collect();
    let mut open = vec![true; bench.cells.len()];
    let t0 = std::time::Instant::now();
    for round in 0.. {
        let timed = round >= cfg.plan.warmup;
        if timed {
            schedule.before_round(&results, &mut open, t0.elapsed());
        }
        if !open.iter().any(|&o| o) {
            break;
        }
        // Shuffled whole every round, so that the order does not depend on which
        // configurations are still open (the fixed gate's order is what it always was).
        rng.shuffle(&mut order);
        if cfg.progress {
            let what = if timed { format!("timed, {} configurations", open.iter().filter(|&&o| o).count()) } else { "warm-up".into() };
            eprintln!("ci: round {} ({what})", round + 1);
        }
        for &i in order.iter().filter(|&&i| open[i]) {
            let walls = bench.pair(i, round, &mut results[i])?;
            if let (true, [Some(a), Some(b)]) = (timed, walls) {
                results[i].pairs.push((a, b));
            }
        }
    }
    drop(bench);
    Ok(results)
}

/// Targets, datasets and params for every configuration both sides can export.
fn prepare<'a>(cfg: &'a AbConfig<'a>) -> Result<Bench<'a>> {
    let (cells, skipped) = configurations(cfg)?;
    for s in &skipped {
        eprintln!("ci: left out {s}");
    }
    std::fs::create_dir_all(cfg.work_dir).with_context(|| format!("cannot create {}", cfg.work_dir.display()))?;
    // What a killed gate left in this work dir (mounts, loop devices, daemons).
    target::reclaim::stale(cfg.work_dir)?;

    // Targets, provisioned once each and torn down on drop, sized as a sweep sizes them
    // (one output at a time: each run's folder is removed before the next).
    let largest = cells.iter().map(|c| c.dataset.cells as u64 * c.genes_exported() as u64 * 4).max().unwrap_or(0);
    let size = (largest * 3 + (256 << 20)).max(512 << 20);
    let mut targets: HashMap<String, Target> = HashMap::new();
    for c in &cells {
        if targets.contains_key(&c.target) {
            continue;
        }
        let spec = TargetSpec::parse(&c.target).map_err(|e| anyhow::anyhow!("{e}"))?;
        let t = match target::provision(&spec, &cfg.work_dir.join("targets"), size) {
            Ok(t) => t,
            // A gate that silently skipped a configuration would pass for the wrong reason.
            Err(TargetError::Skipped { reason, .. }) => bail!("target {} is not available here: {reason}", c.target),
            Err(e) => return Err(anyhow::anyhow!("{e}")),
        };
        targets.insert(c.target.clone(), t);
    }

    let cache = DatasetCache::new(&cfg.work_dir.join("datasets"))?;
    let params_dir = cfg.work_dir.join("params");
    std::fs::create_dir_all(&params_dir).with_context(|| format!("cannot create {}", params_dir.display()))?;
    let mut inputs: Vec<PathBuf> = Vec::with_capacity(cells.len());
    let mut params: Vec<PathBuf> = Vec::with_capacity(cells.len());
    for c in &cells {
        let (path, generated) = cache.get_or_generate(&c.dataset_id(), &c.dataset)?;
        if generated && cfg.progress {
            eprintln!("ci: dataset {} generated", c.dataset_id());
        }
        inputs.push(path);
        params.push(crate::sweep::params::write_params(c, &params_dir)?);
    }
    let executor = Executor::current().context("cannot locate this executable")?;
    Ok(Bench { cfg, cells, targets, inputs, params, executor })
}

impl Bench<'_> {
    /// Configuration `i`'s two runs of `round`, back to back; their wall times, `None`
    /// for a failed run (recorded in `r.failures`).
    fn pair(&self, i: usize, round: u32, r: &mut CellRuns) -> Result<[Option<f64>; 2]> {
        let sides = if round % 2 == 0 { [Side::Baseline, Side::Candidate] } else { [Side::Candidate, Side::Baseline] };
        let mut walls = [None, None];
        for side in sides {
            let slot = if side == Side::Baseline { 0 } else { 1 };
            walls[slot] = self.one(i, side, r)?;
        }
        Ok(walls)
    }

    /// One run of one side; the first successful run's output is measured (and the
    /// candidate's validated) before it is removed.
    fn one(&self, i: usize, side: Side, r: &mut CellRuns) -> Result<Option<f64>> {
        let cell = &self.cells[i];
        let (subject, name) = match side {
            Side::Baseline => (self.cfg.baseline, "baseline"),
            Side::Candidate => (self.cfg.candidate, "candidate"),
        };
        let out = self.targets[&cell.target].root.join("gate-run");
        if out.exists() {
            std::fs::remove_dir_all(&out).with_context(|| format!("cannot clear {}", out.display()))?;
        }
        let cmd = subject.command(cell, &self.inputs[i], &self.params[i], &out)?;
        let child = self.executor.run(&cmd).with_context(|| format!("cannot run {}", subject.origin()))?;
        let tree = match side {
            Side::Baseline => &mut r.baseline_tree,
            Side::Candidate => &mut r.candidate_tree,
        };
        let wall = if child.success() {
            if tree.is_none() {
                *tree = Some(tree_stats(&out, true).with_context(|| format!("cannot measure {}", out.display()))?);
                if side == Side::Candidate && subject.validated() {
                    r.invalid = super::subject::invalid(&out);
                }
            }
            Some(child.wall.as_secs_f64())
        } else {
            r.failures.push(format!("{name}: {}", child.error_line()));
            None
        };
        let _ = std::fs::remove_dir_all(&out);
        Ok(wall)
    }
}
