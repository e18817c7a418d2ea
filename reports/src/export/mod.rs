//! Output formats: one module per format, all behind [`Exporter`] (after hyperfine's
//! `export/`). [`write_all`] writes every format into one directory.

pub mod csv;
pub mod html;
pub mod json;
pub mod markdown;
pub mod plot;
pub mod png;
pub mod svg;

use crate::error::ReportError;
use crate::report::Report;
use std::path::{Path, PathBuf};

/// One output format.
pub trait Exporter {
    /// Short name (`markdown`, `csv`, ...).
    fn name(&self) -> &'static str;
    /// Writes the report into `dir` (which exists); returns the files written.
    fn write(&self, report: &Report, dir: &Path) -> Result<Vec<PathBuf>, ReportError>;
}

/// Every format.
pub fn all() -> Vec<Box<dyn Exporter>> {
    vec![
        Box::new(markdown::Markdown),
        Box::new(csv::Csv),
        Box::new(json::Json),
        Box::new(svg::Svg),
        Box::new(png::Png),
        Box::new(html::Html),
    ]
}

/// Creates `dir` and writes every format into it.
pub fn write_all(report: &Report, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(dir).map_err(|e| ReportError::io(dir, e))?;
    let mut files = Vec::new();
    for e in all() {
        files.extend(e.write(report, dir)?);
    }
    Ok(files)
}

/// Writes `bytes` to `dir/name`, creating parent directories.
pub(crate) fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, ReportError> {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| ReportError::io(parent, e))?;
    }
    std::fs::write(&path, bytes).map_err(|e| ReportError::io(&path, e))?;
    Ok(path)
}
