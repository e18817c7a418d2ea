//! The viewer's checks on a finished folder (VIEWER.md). INTERFACE STUB.

use std::path::Path;

/// One problem found in an export folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Path relative to the export root.
    pub file: String,
    /// The JSON key or payload aspect concerned.
    pub field: String,
    pub message: String,
}

/// Every problem found.
#[derive(Clone, Debug, Default)]
pub struct ValidationReport {
    pub problems: Vec<Problem>,
    pub files_checked: usize,
}

impl ValidationReport {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Check `dir` as the viewer would.
pub fn validate(dir: &Path) -> ValidationReport {
    let _ = dir;
    todo!()
}
