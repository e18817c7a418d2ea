//! # cellucid-bench
//!
//! The command line and the harness behind it: `export` (an `.h5ad` to a Cellucid export
//! folder, like `cellucid.prepare()`), `validate` (the viewer's checks on a folder),
//! `generate` (seeded synthetic datasets to `.h5ad`), `compare` (this exporter beside the
//! reference writer, as measured child processes), `sweep` and `report` (the benchmark),
//! `scenario` (findings that are not timings, e.g. re-exporting into an old folder).
//! Errors are one line on stderr and a non-zero exit status.

pub mod benchmark;
pub mod ci;
pub mod cli;
pub mod fuzz;
pub mod measure;
pub mod params;
pub mod plan;
pub mod progress;
pub mod scenario;
pub mod store;
pub mod supervise;
pub mod sweep;
pub mod target;
pub mod writer;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "cellucid-bench", version, about = "Fast Cellucid exporter and export benchmarking harness")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Export an .h5ad file to a Cellucid compact_v1 folder (cellucid.prepare() 0.9.2).
    Export(cli::export::ExportArgs),
    /// Check an export folder as the Cellucid viewer's loader does.
    Validate(cli::validate::ValidateArgs),
    /// Generate a seeded synthetic dataset and write it as .h5ad.
    Generate(cli::generate::GenerateArgs),
    /// Export one .h5ad with this tool and with cellucid 0.9.2, side by side.
    Compare(cli::compare::CompareArgs),
    /// Run a benchmark plan: datasets × settings × filesystems × writers, measured.
    Sweep(cli::sweep::SweepArgs),
    /// Combine the result stores of a sharded sweep.
    Merge(cli::sweep::MergeArgs),
    /// Tables, verdicts and plots of the tuning guide from stored results (md, csv, json, svg, png, html).
    Report(cli::report::ReportArgs),
    /// Recommend export settings for a dataset on this machine within a time and disk budget.
    Recommend(cli::recommend::RecommendArgs),
    /// CI speed gate: a baseline and a candidate A/B interleaved (or their instructions
    /// counted); exit 1 on a regression.
    ///
    /// Exit statuses: 0 every configuration passed; 1 one is slower beyond the threshold,
    /// wrote different output, or failed to run; 2 usage error (bad revision, plan,
    /// target, missing valgrind); 3 inconclusive (wall time only: nothing failed, but a
    /// configuration had fewer pairs than --min-pairs, runs shorter than --min-run-ms,
    /// or noise wider than the threshold).
    Ci(cli::ci::CiArgs),
    /// List the filesystem targets on record, or clean up what killed sweeps left.
    Targets(cli::targets::TargetsArgs),
    /// Fuzz the .h5ad reader and the CLI: seeded mutants of .h5ad files through `export`.
    Fuzz(cli::fuzz::FuzzArgs),
    /// Run a scenario (stale-export, too-many-files, ...) with each writer and store its findings for `report`.
    Scenario(cli::scenario::ScenarioArgs),
}

/// The whole program: parse the command line, run, map errors to one line and an exit code.
pub fn run() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == benchmark::launcher::SUBCOMMAND) {
        return benchmark::launcher::main(&args[2..]);
    }
    if args.get(1).is_some_and(|a| a == supervise::WORKER_SUBCOMMAND) {
        return cli::export::worker_main(&args[2..]);
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Export(a) => cli::export::run(a),
        Command::Validate(a) => cli::validate::run(a),
        Command::Generate(a) => cli::generate::run(a),
        Command::Compare(a) => cli::compare::run(a),
        Command::Sweep(a) => cli::sweep::run(a),
        Command::Merge(a) => cli::sweep::merge(a),
        Command::Report(a) => cli::report::run(a),
        Command::Recommend(a) => cli::recommend::run(a),
        Command::Ci(a) => cli::ci::run(a),
        Command::Targets(a) => cli::targets::run(a),
        Command::Fuzz(a) => cli::fuzz::run(a),
        Command::Scenario(a) => cli::scenario::run(a),
    };
    exit_code(result)
}

/// A subcommand's result as the process's exit: errors are one line on stderr and status 2.
pub fn exit_code(result: anyhow::Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(e) => {
            // One line: the chain of contexts, outermost first.
            let msg = format!("{e:#}").replace('\n', " | ");
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
    }
}
