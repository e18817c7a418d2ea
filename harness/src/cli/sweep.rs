//! `cellucid-bench sweep --plan NAME|FILE`: size the plan, run it, store every sample,
//! print a summary. `merge` combines the stores of a sharded sweep.

use crate::plan::{parse_shard, Cell, MachineBudget, Plan};
use crate::store::{self, Sample};
use crate::sweep::{self, budget, human_bytes, scheduler, summary, SweepConfig};
use crate::target::TargetSpec;
use crate::writer::{Peer, Writers, REFERENCE};
use anyhow::{bail, Result};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct SweepArgs {
    /// A built-in plan (quick, guide, filesystems, ci, server) or a plan TOML file.
    #[arg(long)]
    pub plan: String,
    /// The result store (JSONL; default results/PLAN.jsonl).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue an interrupted sweep: samples already stored are not run again.
    #[arg(long)]
    pub resume: bool,
    /// Run the deterministic slice i of N (0-based), e.g. 3/8.
    #[arg(long, value_name = "i/N")]
    pub shard: Option<String>,
    /// A user directory as a target, NAME=/path (repeatable); the plan names it.
    #[arg(long = "target", value_name = "NAME=/path")]
    pub targets: Vec<String>,
    /// Only cells on these targets (comma-separated names).
    #[arg(long, value_name = "LIST")]
    pub only_targets: Option<String>,
    /// Datasets, params, images and mount points (default results/work).
    #[arg(long, default_value = "results/work")]
    pub work_dir: PathBuf,
    /// A writers file declaring more writers (repeatable); see README "Writers".
    #[arg(long = "writers", value_name = "FILE")]
    pub writers: Vec<PathBuf>,
    /// Stored results to calibrate the writers' time models on (repeatable; samples of
    /// this plan's cells, matched by cell id). Without it, budgeted writers are calibrated
    /// on their first runs.
    #[arg(long = "calibration", value_name = "FILE")]
    pub calibration: Vec<PathBuf>,
    /// Python of the built-in reference writer's virtualenv (shared/peer/setup.sh;
    /// default $CELLUCID_PEER_VENV/bin/python, else .venv-peer/bin/python).
    #[arg(long)]
    pub peer_python: Option<PathBuf>,
    /// The reference CLI script (default $CELLUCID_SHARED/peer/cellucid_prepare_092.py).
    #[arg(long)]
    pub peer_script: Option<PathBuf>,
    /// Leave out the cells of this writer (repeatable).
    #[arg(long = "skip-writer", value_name = "NAME")]
    pub skip_writers: Vec<String>,
    /// Leave out the reference writer's cells (as --skip-writer cellucid-py-0.9.2).
    #[arg(long)]
    pub no_reference: bool,
    /// Leave out the plan's optional blocks (e.g. guide's 1M cells).
    #[arg(long)]
    pub no_optional: bool,
    /// Generate (or find cached) the plan's datasets and params in the work dir, then
    /// stop: e.g. before a cluster's array job, or so that an atlas's minutes of
    /// generation are not spent in a quiet measurement window.
    #[arg(long)]
    pub generate_only: bool,
    /// Only these blocks of the plan (comma-separated names, e.g. `atlas-2m`).
    #[arg(long, value_name = "LIST")]
    pub blocks: Option<String>,
    /// Timed runs per cell instead of the plan's `repeats` (e.g. 1 for minutes-long
    /// atlas cells); a plan's adaptive repeats still apply on top.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub repeats: Option<u32>,
    /// Do not measure the physical floor.
    #[arg(long)]
    pub no_floor: bool,
    /// Print the plan's size and stop.
    #[arg(long)]
    pub dry_run: bool,
}

/// The built-in writers (the reference at `--peer-python`/`--peer-script`) and those of
/// every `--writers FILE`.
pub fn load_writers(files: &[PathBuf], peer_python: Option<&PathBuf>, peer_script: Option<&PathBuf>) -> Result<(Writers, Peer)> {
    let mut peer = Peer::default_location();
    if let Some(p) = peer_python {
        peer.python = p.clone();
    }
    if let Some(s) = peer_script {
        peer.script = s.clone();
    }
    let mut writers = Writers::builtin(&peer);
    writers.add_files(files).map_err(|e| anyhow::anyhow!("--writers: {e}"))?;
    Ok((writers, peer))
}

/// The samples of every `--calibration FILE`.
fn calibration_samples(files: &[PathBuf]) -> Result<Vec<Sample>> {
    let mut out = Vec::new();
    for f in files {
        let (_, samples) = store::read(f).map_err(|e| anyhow::anyhow!("--calibration: {e}"))?;
        out.extend(samples);
    }
    Ok(out)
}

pub fn run(a: SweepArgs) -> Result<ExitCode> {
    let mut plan = super::load_plan(&a.plan)?;
    if let Some(list) = &a.blocks {
        let names: Vec<String> = list.split(',').map(|x| x.trim().to_string()).collect();
        plan = plan.only_blocks(&names).map_err(|e| anyhow::anyhow!("--blocks: {e}"))?;
    }
    if a.no_optional {
        plan = plan.without_optional();
    }
    if let Some(n) = a.repeats {
        plan.repeats = n;
    }
    let mut skip: Vec<String> = a.skip_writers.iter().map(|w| crate::writer::legacy_name(w).to_string()).collect();
    if a.no_reference {
        skip.push(REFERENCE.into());
    }
    for w in &skip {
        plan = plan.without_writer(w);
    }
    let shard = a.shard.as_deref().map(parse_shard).transpose().map_err(|e| anyhow::anyhow!("--shard: {e}"))?;
    plan.validate().map_err(|e| anyhow::anyhow!("plan {}: {e}", plan.name))?;
    let (writers, peer) = load_writers(&a.writers, a.peer_python.as_ref(), a.peer_script.as_ref())?;
    let calibration = calibration_samples(&a.calibration)?;
    let only_targets: Option<Vec<String>> = a.only_targets.as_deref().map(|s| s.split(',').map(|x| x.trim().to_string()).collect());
    let (cells, dropped) = scheduler::drop_unsupported(scheduler::select(&plan, shard, only_targets.as_deref())?, &writers)?;
    let mut machine = MachineBudget::detect();
    // Exports, floors and datasets all land under the work dir (disk targets) or in RAM.
    let probe = a.work_dir.ancestors().find(|p| p.exists()).unwrap_or(std::path::Path::new("."));
    // Datasets already in the cache are reused, not written again: the space they take
    // counts as free for the plan's estimate, which includes every dataset's size.
    let cached = cached_dataset_bytes(&cells, &a.work_dir);
    machine.free_disk_bytes = crate::target::info::query(probe).ok().map(|i| i.free_bytes + cached);
    machine.writer_fits = budget::fits_from_samples(&cells, &calibration, &machine);
    machine.memory_scales = budget::memory_scales_from_samples(&cells, &calibration);
    let budgets = budget::Budgets::new(&plan, &cells, &writers);
    let (cells, skipped) = budgets.apply(&plan, cells, &machine);
    let size = plan.size_of(&cells, &machine);
    eprintln!(
        "plan {}{}: {} cells, {} runs ({} timed), {} datasets; estimated {}; disk needed {}{}; memory up to {}",
        plan.name,
        shard.map(|(i, n)| format!(" shard {i}/{n}")).unwrap_or_default(),
        size.cells,
        size.runs,
        size.timed_runs,
        size.datasets,
        crate::plan::human_duration(size.estimated_seconds),
        human_bytes(size.disk_bytes),
        match (size.fits_disk, machine.free_disk_bytes) {
            (Some(false), Some(free)) => format!(" — MORE THAN IS FREE ({} at {})", human_bytes(free), probe.display()),
            _ => String::new(),
        },
        human_bytes(size.memory_bytes)
    );
    warn_over_memory(&size, &machine);
    if a.dry_run {
        scheduler::print_dropped(&dropped);
        for s in &skipped {
            eprintln!("cell {}: skipped, {}", s.cell.label(), s.reason);
        }
        print_dry_run(&plan, &cells, &size, &machine, &budgets);
        return Ok(ExitCode::SUCCESS);
    }
    if a.generate_only {
        let inputs = sweep::provision::inputs(&cells, &a.work_dir)?;
        let mut paths: Vec<_> = inputs.h5ad.values().collect();
        paths.sort();
        for p in paths {
            println!("{}", p.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    if cells.iter().any(|c| c.writer == REFERENCE) && !peer.python.exists() {
        bail!(
            "the plan has {REFERENCE} cells but {} does not exist: set it up with `bash ../shared/peer/setup.sh .venv-peer` \
             (or set CELLUCID_PEER_VENV, or pass --peer-python), or leave them out with --no-reference",
            peer.python.display()
        );
    }
    if size.fits_disk == Some(false) {
        bail!("plan {} needs {} of disk, more than is free (use --no-optional or a shard)", plan.name, human_bytes(size.disk_bytes));
    }
    let user_targets =
        a.targets.iter().map(|t| TargetSpec::parse(t).map_err(|e| anyhow::anyhow!("--target: {e}"))).collect::<Result<Vec<_>>>()?;
    let out = a.out.clone().unwrap_or_else(|| sweep::default_out(&plan.name, shard));
    let cfg = SweepConfig {
        plan,
        shard,
        out: out.clone(),
        resume: a.resume,
        work_dir: a.work_dir.clone(),
        user_targets,
        only_targets,
        writers,
        calibration,
        floor: !a.no_floor,
        progress: true,
    };
    let outcome = sweep::run(&cfg)?;
    let (_, all) = store::read(&out).map_err(|e| anyhow::anyhow!("{e}"))?;
    print!("{}", summary::table(&all));
    for d in &outcome.dropped_cells {
        println!("cell {} dropped: {} cannot express it: {}", d.label, d.writer, d.reason);
    }
    for (t, why) in &outcome.skipped_targets {
        println!("target {t} skipped: {why}");
    }
    println!("{} samples in {} ({} new)", all.len(), out.display(), outcome.samples.len());
    Ok(if outcome.failed_runs > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// The per-block and per-writer estimates of `--dry-run`.
fn print_dry_run(plan: &Plan, cells: &[Cell], size: &crate::plan::PlanSize, machine: &MachineBudget, budgets: &budget::Budgets) {
    let w = size.blocks.iter().map(|b| b.name.len()).max().unwrap_or(0).max(5);
    eprintln!("{:<w$} {:>6} {:>10}  slowest cell", "block", "cells", "estimate");
    for b in &size.blocks {
        eprintln!(
            "{:<w$} {:>6} {:>10}  {} ({})",
            b.name,
            b.cells,
            crate::plan::human_duration(b.run_seconds),
            b.slowest_cell,
            crate::plan::human_duration(b.slowest_cell_seconds)
        );
    }
    let mut names: Vec<&str> = cells.iter().map(|c| c.writer.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        let mine: Vec<Cell> = cells.iter().filter(|c| c.writer == name).cloned().collect();
        let s = plan.size_of(&mine, machine);
        let b = budgets.get(name);
        let budget = match (b.run_seconds, b.sweep_seconds) {
            (None, None) => "no budget".to_string(),
            (r, s) => format!("budget {} a run, {} a sweep", r.map_or("none".into(), |x| format!("{x} s")), s.map_or("none".into(), |x| format!("{x} s"))),
        };
        eprintln!("writer {name}: {} cells, {} runs, estimated {} ({budget})", s.cells, s.runs, crate::plan::human_duration(s.run_seconds));
    }
    eprintln!("(the model in harness/src/plan/size.rs; generating datasets adds {})", crate::plan::human_duration(size.generation_seconds));
}

#[derive(Args)]
pub struct MergeArgs {
    /// Stores to combine (shards of one plan).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// The merged store (must not exist).
    #[arg(long)]
    pub out: PathBuf,
}

pub fn merge(a: MergeArgs) -> Result<ExitCode> {
    let r = store::merge(&a.inputs, &a.out).map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "merged {} stores: {} samples read, {} written, {} duplicates dropped{} -> {}",
        r.inputs,
        r.samples_read,
        r.samples_written,
        r.duplicates,
        if r.truncated.is_empty() { String::new() } else { format!(", {} truncated last line(s) ignored", r.truncated.len()) },
        a.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// One line per cell whose predicted peak memory exceeds the RAM available now: such a
/// run may be killed by the kernel's OOM killer (stored as failed) or push the machine
/// into swap, which would slow every run measured after it.
fn warn_over_memory(size: &crate::plan::PlanSize, machine: &MachineBudget) {
    let Some(ram) = machine.ram_bytes else { return };
    for (label, bytes) in &size.over_memory {
        eprintln!(
            "warning: cell {label} may not fit in RAM: predicted peak {} (its writer's memory model, see `plan::memory`), {} available",
            human_bytes(*bytes),
            human_bytes(ram)
        );
    }
}

/// Bytes of the `.h5ad` files of `cells`' datasets already in the work dir's cache.
fn cached_dataset_bytes(cells: &[Cell], work_dir: &std::path::Path) -> u64 {
    let ids: std::collections::BTreeSet<String> = cells.iter().map(|c| c.dataset_id()).collect();
    let cache = work_dir.join("datasets");
    ids.iter().filter_map(|id| std::fs::metadata(cache.join(format!("{id}.h5ad"))).ok()).map(|m| m.len()).sum()
}
