//! # cellucid-reports
//!
//! Turns the harness's stored samples into the performance-tuning guide's tables with
//! measured numbers, plots, and one self-contained HTML page, with a verdict on every
//! rule of thumb. One small module per output format behind one trait
//! ([`export::Exporter`]).
//!
//! Every writer in the results (`cellucid-bench`, `cellucid-py-0.9.2`, any user-declared
//! one) is judged on its own runs: the verdicts are a rule × writer matrix, tables 1–8
//! are built per writer and set side by side, and table 9 compares writers on the same
//! cells. Cells skipped for a writer's budget never enter a statistic. Scenario stores
//! (`cellucid-bench scenario NAME`) are read beside sweep stores: their records judge
//! the rules no timing can ([`scenarios`]) and are listed in one table per scenario.
//!
//! Layering: this crate reads result stores with its own tolerant model ([`model`]) and
//! never depends on the harness; it depends on `cellucid-core` only for the
//! quantization codec (fidelity in table 5).
//!
//! ```no_run
//! use cellucid_reports::{build, model::{Results, Store}, recommend::Budget, Options};
//! # fn demo() -> Result<(), cellucid_reports::ReportError> {
//! let results = Results::new(vec![Store::read("results.jsonl".as_ref())?]);
//! let report = build(&results, &Options::new(Budget::default()))?;
//! cellucid_reports::export::write_all(&report, "report".as_ref())?;
//! # Ok(()) }
//! ```

pub mod cells;
pub mod error;
pub mod export;
pub mod model;
pub mod recommend;
pub mod report;
pub mod scenarios;
pub mod stats;
pub mod tables;
pub mod verdicts;

pub use error::ReportError;
pub use report::Report;

use model::Results;
use recommend::Budget;

/// What a report covers.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub budget: Budget,
    /// Writers to report on, in column order; empty: every writer in the results.
    pub writers: Vec<String>,
    /// Table 9's baseline; `None`: `cellucid-bench` if reported on, else the first writer.
    pub baseline: Option<String>,
}

impl Options {
    pub fn new(budget: Budget) -> Options {
        Options { budget, ..Options::default() }
    }
}

/// The writers and the baseline `options` select from `results`.
fn select(results: &Results, options: &Options) -> Result<(Vec<String>, String), ReportError> {
    let first = options.baseline.as_deref().unwrap_or(model::OURS);
    let known = results.writers(first);
    let writers = if options.writers.is_empty() {
        known.clone()
    } else {
        for w in &options.writers {
            if !known.contains(w) {
                return Err(ReportError::UnknownWriter { name: w.clone(), known: known.join(", ") });
            }
        }
        let mut sel = options.writers.clone();
        sel.dedup();
        sel
    };
    // A store without any sample still renders, its tables "not measured".
    let writers = if writers.is_empty() { vec![model::OURS.to_string()] } else { writers };
    let baseline = match &options.baseline {
        Some(b) if writers.contains(b) => b.clone(),
        Some(b) => return Err(ReportError::UnknownWriter { name: b.clone(), known: writers.join(", ") }),
        None if writers.iter().any(|w| w == model::OURS) => model::OURS.to_string(),
        None => writers[0].clone(),
    };
    Ok((writers, baseline))
}

/// Builds every table, plot and verdict from the results.
pub fn build(results: &Results, options: &Options) -> Result<Report, ReportError> {
    let (writers, baseline) = select(results, options)?;
    let input = tables::Input::new(results, options.budget, writers.clone(), baseline.clone());
    let (tables, plots) = tables::build(&input);
    let verdicts = verdicts::matrix(&input);
    let columns = writers
        .iter()
        .map(|w| report::WriterColumn {
            name: w.clone(),
            version: results.writer_version(w),
            samples: results.samples().filter(|s| s.writer == *w).count(),
        })
        .collect();
    Ok(Report {
        title: "Cellucid export performance on this machine: the tuning guide, measured".into(),
        machine: results.machine(),
        commits: results.commits(),
        date: results.date(),
        plans: results.plans(),
        samples: input.cells.iter().map(|c| c.n()).sum(),
        failed: results.stores.iter().map(|s| s.failed).sum(),
        skipped: input.skipped.len(),
        writers: columns,
        baseline,
        tables,
        plots,
        verdicts,
    })
}
