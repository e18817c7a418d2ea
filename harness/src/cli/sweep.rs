//! `cellucid-bench sweep --plan NAME|FILE`: size the plan, run it, store every sample,
//! print a summary. `merge` combines the stores of a sharded sweep.

use crate::plan::{parse_shard, MachineBudget};
use crate::store;
use crate::sweep::{self, human_bytes, subject::Peer, summary, SweepConfig};
use crate::target::TargetSpec;
use anyhow::{bail, Result};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct SweepArgs {
    /// A built-in plan (quick, guide, filesystems, ci) or a plan TOML file.
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
    /// Python of the reference writer's virtualenv (shared/peer/setup.sh).
    #[arg(long, default_value = ".venv-peer/bin/python")]
    pub peer_python: PathBuf,
    /// The reference CLI script.
    #[arg(long, default_value = "../shared/peer/cellucid_prepare_092.py")]
    pub peer_script: PathBuf,
    /// Leave out the plan's reference cells.
    #[arg(long)]
    pub no_reference: bool,
    /// Leave out the plan's optional blocks (e.g. guide's 1M cells).
    #[arg(long)]
    pub no_optional: bool,
    /// Do not measure the physical floor.
    #[arg(long)]
    pub no_floor: bool,
    /// Print the plan's size and stop.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(a: SweepArgs) -> Result<ExitCode> {
    let mut plan = super::load_plan(&a.plan)?;
    if a.no_optional {
        plan = plan.without_optional();
    }
    let shard = a.shard.as_deref().map(parse_shard).transpose().map_err(|e| anyhow::anyhow!("--shard: {e}"))?;
    plan.validate().map_err(|e| anyhow::anyhow!("plan {}: {e}", plan.name))?;
    let mut machine = MachineBudget::detect();
    // Exports, floors and datasets all land under the work dir (disk targets) or in RAM.
    let probe = a.work_dir.ancestors().find(|p| p.exists()).unwrap_or(std::path::Path::new("."));
    machine.free_disk_bytes = crate::target::info::query(probe).ok().map(|i| i.free_bytes);
    let cells = match shard {
        Some((i, n)) => plan.shard(i, n),
        None => plan.cells(),
    };
    let size = plan.size_of(&cells, &machine);
    eprintln!(
        "plan {}{}: {} cells, {} runs ({} timed), {} datasets; estimated {}; disk needed {}{}",
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
        }
    );
    if a.dry_run {
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
        eprintln!("(the model in harness/src/plan/size.rs; generating datasets adds {})", crate::plan::human_duration(size.generation_seconds));
        return Ok(ExitCode::SUCCESS);
    }
    if size.fits_disk == Some(false) {
        bail!("plan {} needs {} of disk, more than is free (use --no-optional or a shard)", plan.name, human_bytes(size.disk_bytes));
    }
    let user_targets =
        a.targets.iter().map(|t| TargetSpec::parse(t).map_err(|e| anyhow::anyhow!("--target: {e}"))).collect::<Result<Vec<_>>>()?;
    let peer = (!a.no_reference && a.peer_python.exists()).then(|| Peer { python: a.peer_python.clone(), script: a.peer_script.clone() });
    if a.no_reference {
        plan = plan.without_subject(crate::plan::Subject::Reference);
    }
    let out = a.out.clone().unwrap_or_else(|| sweep::default_out(&plan.name, shard));
    let cfg = SweepConfig {
        plan,
        shard,
        out: out.clone(),
        resume: a.resume,
        work_dir: a.work_dir.clone(),
        user_targets,
        only_targets: a.only_targets.as_deref().map(|s| s.split(',').map(|x| x.trim().to_string()).collect()),
        peer,
        floor: !a.no_floor,
        progress: true,
    };
    let outcome = sweep::run(&cfg)?;
    let (_, all) = store::read(&out).map_err(|e| anyhow::anyhow!("{e}"))?;
    print!("{}", summary::table(&all));
    for (t, why) in &outcome.skipped_targets {
        println!("target {t} skipped: {why}");
    }
    println!("{} samples in {} ({} new)", all.len(), out.display(), outcome.samples.len());
    Ok(if outcome.failed_runs > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
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
