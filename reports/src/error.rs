//! Why a report could not be made.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot read or write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}: {message}", path.display())]
    Parse { path: PathBuf, line: usize, message: String },
    /// Plots need a TrueType font for text metrics (SVG) and glyphs (PNG).
    #[error("no font for plots: {0} (install fonts-dejavu-core, or set CELLUCID_FONT to a .ttf file)")]
    Font(String),
    #[error("cannot draw plot {plot}: {message}")]
    Plot { plot: String, message: String },
    #[error("writer {name:?} is not in the results (they hold: {known})")]
    UnknownWriter { name: String, known: String },
    #[error("cannot serialise {what}: {message}")]
    Serialise { what: String, message: String },
}

impl ReportError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> ReportError {
        ReportError::Io { path: path.to_path_buf(), source }
    }
}
