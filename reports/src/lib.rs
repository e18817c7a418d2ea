//! # cellucid-reports
//!
//! Turns the harness's stored samples into the performance-tuning guide's tables with
//! measured numbers, plots, and one self-contained HTML page, with a verdict on every
//! rule of thumb. One small module per output format behind one trait
//! ([`export::Exporter`]).
//!
//! Layering: this crate reads result stores with its own tolerant model ([`model`]) and
//! never depends on the harness; it depends on `cellucid-core` only for the
//! quantization codec (fidelity in table 5).
//!
//! ```no_run
//! use cellucid_reports::{build, model::{Results, Store}, recommend::Budget};
//! # fn demo() -> Result<(), cellucid_reports::ReportError> {
//! let results = Results::new(vec![Store::read("results.jsonl".as_ref())?]);
//! let report = build(&results, Budget::default());
//! cellucid_reports::export::write_all(&report, "report".as_ref())?;
//! # Ok(()) }
//! ```

pub mod cells;
pub mod error;
pub mod export;
pub mod model;
pub mod recommend;
pub mod report;
pub mod stats;
pub mod tables;
pub mod verdicts;

pub use error::ReportError;
pub use report::Report;

use model::Results;
use recommend::Budget;

/// Builds every table, plot and verdict from the results.
pub fn build(results: &Results, budget: Budget) -> Report {
    let input = tables::Input::new(results, budget);
    let (tables, plots) = tables::build(&input);
    let verdicts = verdicts::verdicts(&input);
    Report {
        title: "Cellucid export performance on this machine: the tuning guide, measured".into(),
        machine: results.machine(),
        date: results.date(),
        plans: results.plans(),
        samples: results.samples().count(),
        failed: results.stores.iter().map(|s| s.failed).sum(),
        tables,
        plots,
        verdicts,
    }
}
