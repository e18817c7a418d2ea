//! `cellucid-bench report RESULTS.jsonl… --out DIR`: the guide's tables, verdicts and
//! plots from stored results, in every format (Markdown, CSV, JSON, SVG, PNG, HTML).
//! Every writer in the stores is reported on side by side unless `--writer` narrows it.

use anyhow::{Context, Result};
use cellucid_reports::model::{Results, Store};
use cellucid_reports::recommend::Budget;
use cellucid_reports::Options;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct ReportArgs {
    /// Result stores (JSONL) written by `sweep` or `merge`.
    #[arg(required = true)]
    pub results: Vec<PathBuf>,
    /// Directory to write report.md, report.html, report.json, csv/ and plots/ into.
    #[arg(long)]
    pub out: PathBuf,
    /// Time budget of the "recommended settings by scale" table, e.g. 5m, 300s.
    #[arg(long, default_value = "5m", value_parser = super::recommend::parse_duration)]
    pub budget_time: f64,
    /// Disk budget of that table, e.g. 2GB, 500MB.
    #[arg(long, default_value = "2GB", value_parser = super::recommend::parse_bytes)]
    pub budget_disk: f64,
    /// Report on this writer only (repeatable, in column order; default: every writer
    /// in the stores, side by side).
    #[arg(long = "writer", value_name = "NAME")]
    pub writers: Vec<String>,
    /// The writer table 9's speed-ups are measured against (default: cellucid-bench,
    /// or the first writer reported on if it is not among them).
    #[arg(long, value_name = "NAME")]
    pub baseline: Option<String>,
}

pub fn run(a: ReportArgs) -> Result<ExitCode> {
    let mut stores = Vec::new();
    for p in &a.results {
        let s = Store::read(p).with_context(|| format!("cannot read results {}", p.display()))?;
        if s.truncated {
            eprintln!("note: {}: the last line was torn (an interrupted run) and is skipped", p.display());
        }
        stores.push(s);
    }
    let results = Results::new(stores);
    let options = Options {
        budget: Budget { time_s: a.budget_time, disk_bytes: a.budget_disk },
        writers: a.writers.clone(),
        baseline: a.baseline.clone(),
    };
    let report = cellucid_reports::build(&results, &options).context("cannot build the report")?;
    let files = cellucid_reports::export::write_all(&report, &a.out).context("cannot write the report")?;
    println!(
        "report of {} samples by {}: {} tables, {} plots, {} rules judged per writer; {} files in {}",
        report.samples,
        report.writers_line(),
        report.tables.len(),
        report.plots.len(),
        report.verdicts.len(),
        files.len(),
        a.out.display()
    );
    println!("open {}", a.out.join("report.html").display());
    Ok(ExitCode::SUCCESS)
}
