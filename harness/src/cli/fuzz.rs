//! `cellucid-bench fuzz`: seeded mutants of `.h5ad` files through the real `export`.

use crate::fuzz::{self, run::Runner, Config};
use anyhow::{bail, Context, Result};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Args)]
pub struct FuzzArgs {
    /// The run's seed: the same seed and corpus give the same mutants.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// How many mutants.
    #[arg(long, default_value_t = 500)]
    pub mutants: usize,
    /// Run only mutant I of this seed (to reproduce one).
    #[arg(long, value_name = "I")]
    pub only: Option<usize>,
    /// Start no mutant after this many seconds.
    #[arg(long, value_name = "SECONDS")]
    pub max_seconds: Option<f64>,
    /// Save failing (and contained crash/hang) mutants here, with a note each.
    #[arg(long, value_name = "DIR")]
    pub keep_failures: Option<PathBuf>,
    /// Seed files: .h5ad files or directories searched two levels deep (repeatable;
    /// default ../shared/golden and ../shared/data).
    #[arg(long, value_name = "PATH")]
    pub corpus: Vec<PathBuf>,
    /// Passed to `export --read-timeout`.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub read_timeout: f64,
    /// A mutant's export is killed (and counted as a hang) after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    pub timeout: f64,
    /// Mutants run at once (default: the number of cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// The binary to fuzz (default: this one).
    #[arg(long)]
    pub binary: Option<PathBuf>,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
    /// No line per notable mutant while running.
    #[arg(long, short)]
    pub quiet: bool,
}

fn seconds(flag: &str, v: f64) -> Result<Duration> {
    if !(v.is_finite() && v > 0.0) {
        bail!("{flag} {v}: expected a positive number of seconds");
    }
    Ok(Duration::from_secs_f64(v))
}

pub fn run(a: FuzzArgs) -> Result<ExitCode> {
    let corpus = if a.corpus.is_empty() {
        vec![PathBuf::from("../shared/golden"), PathBuf::from("../shared/data")]
    } else {
        a.corpus.clone()
    };
    let seed_files = fuzz::seed_files(&corpus).context("--corpus")?;
    let binary = match a.binary {
        Some(b) => b,
        None => std::env::current_exe().context("cannot find this binary")?,
    };
    let cfg = Config {
        seed: a.seed,
        mutants: a.mutants,
        only: a.only,
        max_time: a.max_seconds.map(|s| seconds("--max-seconds", s)).transpose()?,
        keep_failures: a.keep_failures,
        seed_files,
        runner: Runner {
            binary,
            read_timeout: seconds("--read-timeout", a.read_timeout)?,
            hard_timeout: seconds("--timeout", a.timeout)?,
        },
        jobs: a.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
    };
    let quiet = a.quiet || a.json;
    let summary = fuzz::run(&cfg, &|r| {
        if !quiet && r.outcome.is_failure() {
            eprintln!("#{} {}: {} — {}", r.index, r.outcome.name(), r.mutation, r.stderr.lines().next().unwrap_or(""));
        }
    })?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print!("{}", summary.text());
    }
    Ok(if summary.failures() == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
