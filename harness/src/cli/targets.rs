//! `cellucid-bench targets list|clean [--work-dir DIR]… [--dry-run]`: the filesystem
//! targets recorded in work dirs (their ledgers, see `crate::target::reclaim`), and
//! removing what killed sweeps or gates left: mounts, loop devices, daemons, images.
//! A target whose sweep still runs is listed as in use and never touched.

use crate::target::reclaim::{self, Leftover, Ownership};
use anyhow::Result;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct TargetsArgs {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Subcommand)]
pub enum Action {
    /// List the targets on record and what of each is on the machine now.
    List(Where),
    /// Remove what dead sweeps left (targets of running sweeps are left alone).
    Clean {
        #[command(flatten)]
        at: Where,
        /// Only say what would be removed.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Args)]
pub struct Where {
    /// Work dirs to look in (repeatable; their targets/ subdirectory holds the ledgers).
    #[arg(long = "work-dir", value_name = "DIR", default_values = ["results/work", "results/ci-work"])]
    pub work_dirs: Vec<PathBuf>,
}

pub fn run(a: TargetsArgs) -> Result<ExitCode> {
    match a.action {
        Action::List(at) => list(&at),
        Action::Clean { at, dry_run } => clean(&at, dry_run),
    }
}

fn leftovers(at: &Where) -> Result<Vec<Leftover>> {
    let mut all = Vec::new();
    for dir in &at.work_dirs {
        all.extend(reclaim::scan(dir)?);
    }
    Ok(all)
}

fn describe(l: &Leftover) -> String {
    let whose = match &l.ownership {
        Ownership::Live { pid } => format!("in use by running pid {pid}"),
        Ownership::Stale { pid } => format!("left by dead pid {pid}"),
        Ownership::Unreadable(why) => format!("unreadable ledger: {why}"),
    };
    let found = if l.found.is_empty() { "nothing on the machine".to_string() } else { l.found.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ") };
    format!("{} [{}] {whose}: {found}\n  ledger {}", l.target, if l.is_stale() { "stale" } else { "kept" }, l.ledger.display())
}

fn list(at: &Where) -> Result<ExitCode> {
    let all = leftovers(at)?;
    if all.is_empty() {
        println!("no targets on record in {}", shown(at));
    }
    for l in &all {
        println!("{}", describe(l));
    }
    Ok(ExitCode::SUCCESS)
}

/// Exit 0 when nothing stale is left, 1 when something could not be removed.
fn clean(at: &Where, dry_run: bool) -> Result<ExitCode> {
    let all = leftovers(at)?;
    let (stale, kept): (Vec<Leftover>, Vec<Leftover>) = all.into_iter().partition(Leftover::is_stale);
    for l in &kept {
        println!("left alone: {}", describe(l));
    }
    if stale.is_empty() {
        println!("nothing to clean in {}", shown(at));
        return Ok(ExitCode::SUCCESS);
    }
    let mut failed = false;
    for l in &stale {
        if dry_run {
            println!("would remove: {}", describe(l));
            continue;
        }
        let r = reclaim::reclaim(l);
        failed |= !r.problems.is_empty();
        println!("{}", r);
    }
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn shown(at: &Where) -> String {
    at.work_dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
}
