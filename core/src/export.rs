//! The export pipeline.
use crate::{Dataset, ExportOptions, ExportReport, Result};
use std::path::Path;

/// Progress of a running export.
#[derive(Clone, Copy, Debug)]
pub enum Progress {
    GenesStarted { total: usize },
    GeneDone { bytes: u64 },
}

pub fn export(dataset: &Dataset, options: &ExportOptions, out_dir: &Path) -> Result<ExportReport> {
    export_with_progress(dataset, options, out_dir, &|_| {})
}

pub fn export_with_progress(
    dataset: &Dataset,
    options: &ExportOptions,
    out_dir: &Path,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<ExportReport> {
    let _ = (dataset, options, out_dir, progress);
    todo!()
}
