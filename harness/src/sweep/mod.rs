//! The sweep engine: a plan's cells (dataset × settings × target × writer), each run as
//! a fresh child process, in a seeded interleaved order, measured and appended to the
//! result store one sample at a time.
//!
//! Split along its pipeline, as hyperfine splits `benchmark/`:
//!
//! - [`scheduler`]: which cells (shard, targets, what each writer can express) and the
//!   interleaved run order — warm-ups first, then rounds of every cell in a seeded random
//!   order, so that drift on a shared machine spreads over every configuration;
//! - [`budget`]: per-writer time budgets, with the sizing model calibrated per writer;
//! - [`provision`]: targets, writers (setup, version), datasets and params, once each;
//! - [`executor`]: one run — the writer's command from its template, a measured child;
//! - [`measurement`]: what the run left (bytes, files, hash, phases, physical floor);
//! - [`adaptive`]: the plan's adaptive repeats, further rounds until each cell's median
//!   is known to the plan's interval;
//! - [`result`]: samples (measured, failed, skipped) and progress.
//!
//! A new writer is a TOML entry (`crate::writer`); a new target a `crate::target` module.
//! Targets are torn down when the sweep ends, fails, or is interrupted.

pub mod adaptive;
pub mod budget;
pub mod dataset_cache;
pub mod executor;
pub mod measurement;
pub mod params;
pub mod provision;
pub mod result;
pub mod scheduler;
pub mod summary;

use crate::benchmark::executor::{ChildRun, Executor};
use crate::plan::{Cell, MachineBudget, Plan, ScheduledRun, WriterFit};
use crate::store::{Header, Sample, Store};
use crate::target::TargetSpec;
use crate::writer::Writers;
use anyhow::{Context, Result};
use budget::{Budgets, SkippedCell};
use executor::RunPaths;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Everything a sweep needs besides the plan.
pub struct SweepConfig {
    pub plan: Plan,
    pub shard: Option<(usize, usize)>,
    pub out: PathBuf,
    pub resume: bool,
    /// Datasets, params files, images and mount points live here (on the disk).
    pub work_dir: PathBuf,
    /// User paths given as `--target name=/path`, usable by name in the plan.
    pub user_targets: Vec<TargetSpec>,
    /// Only these targets (by name), if given.
    pub only_targets: Option<Vec<String>>,
    /// The built-in writers and those declared with `--writers FILE`.
    pub writers: Writers,
    /// Stored samples to calibrate the writers' time models on (`--calibration FILE`).
    pub calibration: Vec<Sample>,
    /// Measure the physical floor beside each timed run (the cell's: the least of each
    /// bound over its runs).
    pub floor: bool,
    pub progress: bool,
}

/// How a sweep ended.
pub struct Outcome {
    pub samples: Vec<Sample>,
    pub skipped_targets: Vec<(String, String)>,
    /// Cells skipped for their writer's budget (also stored as skipped samples).
    pub skipped_cells: Vec<SkippedCell>,
    /// Cells their writer cannot express (never run, not stored).
    pub dropped_cells: Vec<scheduler::Dropped>,
    pub failed_runs: usize,
}

/// Run the sweep; samples already in a resumed store are not run again.
pub fn run(cfg: &SweepConfig) -> Result<Outcome> {
    let (cells, dropped) = scheduler::drop_unsupported(scheduler::select(&cfg.plan, cfg.shard, cfg.only_targets.as_deref())?, &cfg.writers)?;
    scheduler::print_dropped(&dropped);
    for dir in [Some(cfg.work_dir.as_path()), cfg.out.parent()].into_iter().flatten() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    // Leftovers of killed sweeps under the work dir are reclaimed before anything is
    // provisioned.
    crate::target::reclaim::stale(&cfg.work_dir)?;
    let targets = provision::targets(&cells, &cfg.user_targets, &cfg.work_dir)?;
    let mut cells = cells;
    cells.retain(|c| targets.by_name.contains_key(&c.target));

    let mut machine = MachineBudget::detect();
    machine.writer_fits = budget::fits_from_samples(&cells, &cfg.calibration, &machine);
    report_fits(&machine, "stored results");
    let budgets = Budgets::new(&cfg.plan, &cells, &cfg.writers);
    let (cells, mut skipped) = budgets.apply(&cfg.plan, cells, &machine);
    let (cells, before) = skipped_before(cfg, cells)?;
    skipped.extend(before);

    let writers = provision::writers(&cells, &cfg.writers, &cfg.work_dir)?;
    let mut header = Header::new(&cfg.plan.name, cfg.shard);
    header.writers = writers.iter().map(|(_, info)| info.clone()).collect();
    let mut store = Store::create_or_resume(&cfg.out, header, cfg.resume).map_err(|e| anyhow::anyhow!("{e}"))?;
    let inputs = provision::inputs(&cells, &cfg.work_dir)?;
    let executor = Executor::current().context("cannot locate this executable")?;
    let run_cell = |cell: &Cell, out: PathBuf| -> Result<ChildRun> {
        let w = cfg.writers.get(&cell.writer).map_err(|e| anyhow::anyhow!("{e}"))?;
        let paths = RunPaths { input: &inputs.h5ad[&cell.dataset_id()], params: &inputs.params[&cell.id()], out, work_dir: &cfg.work_dir };
        executor::run_once(&executor, w, cell, &targets.by_name[&cell.target], &paths)
    };

    // Calibrate budgeted writers on their cheapest cells, then apply the budgets again.
    calibrate(&budgets, &cells, &mut machine, |c| {
        let out = targets.by_name[&c.target].root.join("calibration");
        let child = run_cell(c, out.clone());
        let _ = std::fs::remove_dir_all(&out);
        child
    })?;
    let (cells, more) = budgets.apply(&cfg.plan, cells, &machine);
    skipped.extend(more);
    store_skipped(&mut store, &skipped, cfg.plan.warmup)?;

    let runs = scheduler::runs(&cfg.plan, &cells, &machine);
    let todo: Vec<ScheduledRun> = runs.into_iter().filter(|r| r.is_warmup || !store.is_finished(&cells[r.cell_index].id(), r.repeat)).collect();
    let mut repeats = adaptive_repeats(cfg, &cells);
    let mut measurer = measurer(cfg);
    let mut run = Execution { cells: &cells, targets: &targets, store: &mut store, measurer: &mut measurer };
    let (mut samples, mut failed) = execute(cfg, &todo, &mut run, &run_cell, repeats.as_mut())?;
    if let Some(repeats) = repeats.as_mut() {
        loop {
            let round = repeats.next_round();
            if round.is_empty() {
                break;
            }
            eprintln!("adaptive repeats: another round of {} cell(s) whose median is not yet known to the plan's interval", round.len());
            let (more, more_failed) = execute(cfg, &round, &mut run, &run_cell, Some(repeats))?;
            samples.extend(more);
            failed += more_failed;
        }
    }
    Ok(Outcome { samples, skipped_targets: targets.skipped.clone(), skipped_cells: skipped, dropped_cells: dropped, failed_runs: failed })
}

/// The plan's adaptive repeats, primed with a resumed store's samples.
fn adaptive_repeats(cfg: &SweepConfig, cells: &[Cell]) -> Option<adaptive::Repeats> {
    let rule = cfg.plan.adaptive?;
    let mut r = adaptive::Repeats::new(rule, cells.len(), cfg.plan.warmup, cfg.plan.repeats, cfg.plan.seed);
    if cfg.resume && cfg.out.exists() {
        let stored: Vec<Sample> = crate::store::read(&cfg.out).map(|(_, s)| s).unwrap_or_default();
        r.resume(cells, &stored);
    }
    Some(r)
}

/// The measurer, primed with a resumed store's floors (each cell's floor is the least
/// over all its runs, those of earlier sessions included).
fn measurer(cfg: &SweepConfig) -> measurement::Measurer {
    let mut m = measurement::Measurer::new(cfg.floor);
    if cfg.resume && cfg.out.exists() {
        m.resume(&crate::store::read(&cfg.out).map(|(_, s)| s).unwrap_or_default());
    }
    m
}

/// What every round of runs shares: the cells, targets, store, and the measurer (whose
/// per-cell floors span the rounds).
struct Execution<'a> {
    cells: &'a [Cell],
    targets: &'a provision::Targets,
    store: &'a mut Store,
    measurer: &'a mut measurement::Measurer,
}

/// Every scheduled run, measured and (unless a warm-up) stored; the samples stored and
/// the number of failed runs.
fn execute(
    cfg: &SweepConfig,
    todo: &[ScheduledRun],
    ex: &mut Execution,
    run_cell: &impl Fn(&Cell, PathBuf) -> Result<ChildRun>,
    mut repeats: Option<&mut adaptive::Repeats>,
) -> Result<(Vec<Sample>, usize)> {
    let progress = result::Progress::new(todo.len(), cfg.progress);
    let (cells, targets) = (ex.cells, ex.targets);
    let mut samples = Vec::new();
    let mut failed = 0;
    for (n, run) in todo.iter().enumerate() {
        let cell = &cells[run.cell_index];
        let target = &targets.by_name[&cell.target];
        progress.starting(cell);
        let out = target.root.join(format!("run-{n}"));
        let child = run_cell(cell, out.clone())?;
        let mut sample = result::run_sample(cell, run.repeat, &child);
        if child.success() {
            let w = cfg.writers.get(&cell.writer).map_err(|e| anyhow::anyhow!("{e}"))?;
            ex.measurer.measure(&mut sample, w, &child, &out, target)?;
            if !run.is_warmup {
                ex.measurer.floor_beside(&mut sample, cell, w, &out, target)?;
            }
        } else {
            failed += 1;
        }
        let _ = std::fs::remove_dir_all(&out);
        progress.finished(n, cell, run.is_warmup, &sample);
        if !run.is_warmup {
            if let Some(r) = repeats.as_deref_mut() {
                r.record(run.cell_index, &mut sample);
            }
            ex.store.append(&sample).map_err(|e| anyhow::anyhow!("{e}"))?;
            samples.push(sample);
        }
    }
    progress.finish();
    Ok((samples, failed))
}

/// Runs each budgeted writer's cheapest cells once (untimed, not stored) and fits its
/// time model to them.
fn calibrate(
    budgets: &Budgets,
    cells: &[Cell],
    machine: &mut MachineBudget,
    run: impl Fn(&Cell) -> Result<ChildRun>,
) -> Result<()> {
    for (writer, idx) in budgets.calibration_cells(cells, machine) {
        let mut points = Vec::new();
        for i in idx {
            let c = &cells[i];
            let child = run(c)?;
            let ok = if child.success() { "" } else { " (failed: not used)" };
            eprintln!("writer {writer}: calibration run {} in {:.2} s{ok}", c.label(), child.wall.as_secs_f64());
            if child.success() {
                points.push(budget::fit_point(c, machine, child.wall.as_secs_f64()));
            }
        }
        if let Some(fit) = WriterFit::fit(&points) {
            eprintln!("writer {writer}: time model fitted on its first {} run(s): {:.2} s + {:.2} × the default model", fit.points, fit.fixed_s, fit.scale);
            machine.writer_fits.insert(writer, fit);
        }
    }
    Ok(())
}

fn report_fits(m: &MachineBudget, from: &str) {
    for (w, f) in &m.writer_fits {
        eprintln!("writer {w}: time model fitted on {} run(s) of {from}: {:.2} s + {:.2} × the default model", f.points, f.fixed_s, f.scale);
    }
}

/// On resume, the cells an earlier session skipped for their budget stay skipped (their
/// stored record says so; running some of their rounds now would mix two decisions).
fn skipped_before(cfg: &SweepConfig, cells: Vec<Cell>) -> Result<(Vec<Cell>, Vec<SkippedCell>)> {
    if !cfg.resume || !cfg.out.exists() {
        return Ok((cells, Vec::new()));
    }
    let stored: Vec<Sample> = crate::store::read(&cfg.out).map(|(_, s)| s).unwrap_or_default();
    let (mut kept, mut skipped) = (Vec::new(), Vec::new());
    for c in cells {
        let id = c.id();
        match stored.iter().find(|s| s.cell_id == id).and_then(|s| s.skipped.as_ref()) {
            Some(s) => skipped.push(SkippedCell { cell: c, reason: format!("{} (stored)", s.reason), predicted_wall_s: s.predicted_wall_s }),
            None => kept.push(c),
        }
    }
    Ok((kept, skipped))
}

/// Stores each skipped cell once (as its first timed round), unless a resumed store has it.
fn store_skipped(store: &mut Store, skipped: &[SkippedCell], first_timed: u32) -> Result<()> {
    let mut seen = HashSet::new();
    for s in skipped {
        let id = s.cell.id();
        eprintln!("cell {}: skipped, {}", s.cell.label(), s.reason);
        if seen.insert(id.clone()) && !store.is_finished(&id, first_timed) {
            let sample = result::skipped_sample(&s.cell, first_timed, &s.reason, s.predicted_wall_s);
            store.append(&sample).map_err(|e| anyhow::anyhow!("{e}"))?;
        }
    }
    Ok(())
}

/// `12.3 GB`-style sizes.
pub fn human_bytes(b: u64) -> String {
    let b = b as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{:.0} kB", b / 1e3)
    }
}

/// The store path a plan writes by default.
pub fn default_out(plan: &str, shard: Option<(usize, usize)>) -> PathBuf {
    match shard {
        Some((i, n)) => Path::new("results").join(format!("{plan}.shard{i}of{n}.jsonl")),
        None => Path::new("results").join(format!("{plan}.jsonl")),
    }
}
