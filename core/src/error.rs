//! Export errors: one type, carrying the reference's exception class and the field it names.
//!
//! Refusals mirror cellucid 0.9.2 (FORMAT.md §15): the message text is the reference's
//! wherever the Rust API can express the same mistake, and `field` names the
//! `prepare()` argument (or `obs_keys` entry, gene, vector field) at fault, so that a CLI
//! can print one line that says what to fix.

use std::fmt;
use std::path::Path;

/// The Python exception class 0.9.2 raises for the same refusal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorClass {
    TypeError,
    ValueError,
    KeyError,
    /// `cellucid.continuous_payload_diagnosis.NonFinitePayloadError`, a ValueError subclass.
    NonFinitePayloadError,
    FileExistsError,
    NotADirectoryError,
    RuntimeError,
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Everything `export()` can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The input or an option was refused, before anything was published.
    #[error("{message}")]
    Refused { class: ErrorClass, field: String, message: String },
    /// A filesystem operation failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// A self-check failed: a bug, never the user's input.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = ExportError> = std::result::Result<T, E>;

impl ExportError {
    pub fn refused(class: ErrorClass, field: impl Into<String>, message: impl Into<String>) -> Self {
        ExportError::Refused { class, field: field.into(), message: message.into() }
    }

    /// A `ValueError` naming `field`.
    pub fn value(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::refused(ErrorClass::ValueError, field, message)
    }

    /// A `TypeError` naming `field`.
    pub fn type_(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::refused(ErrorClass::TypeError, field, message)
    }

    /// A `KeyError` naming `field`.
    pub fn key(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::refused(ErrorClass::KeyError, field, message)
    }

    /// A `NonFinitePayloadError` naming `field`.
    pub fn non_finite(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::refused(ErrorClass::NonFinitePayloadError, field, message)
    }

    /// An I/O error with the operation and path it concerns.
    pub fn io(what: &str, path: &Path, source: std::io::Error) -> Self {
        ExportError::Io { context: format!("{what} {}", path.display()), source }
    }

    /// The argument or field a refusal names (`None` for I/O and internal errors).
    pub fn field(&self) -> Option<&str> {
        match self {
            ExportError::Refused { field, .. } => Some(field),
            _ => None,
        }
    }

    /// The reference's exception class for a refusal.
    pub fn class(&self) -> Option<ErrorClass> {
        match self {
            ExportError::Refused { class, .. } => Some(*class),
            _ => None,
        }
    }
}

/// Attach "what" and "path" to an `io::Result`.
pub(crate) trait IoContext<T> {
    fn ctx(self, what: &str, path: &Path) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn ctx(self, what: &str, path: &Path) -> Result<T> {
        self.map_err(|e| ExportError::io(what, path, e))
    }
}
