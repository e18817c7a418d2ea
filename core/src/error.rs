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
    /// A filesystem operation failed. The message ends with the OS error, which is
    /// therefore deliberately *not* also exposed as [`std::error::Error::source`]: an
    /// error-chain printer (anyhow's `{:#}`) would print it twice
    /// (`… (os error 28): No space left on device (os error 28)`). Use
    /// [`ExportError::io_error`] to inspect it.
    #[error("{context}: {error}")]
    Io { context: String, error: std::io::Error },
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
        ExportError::Io { context: format!("{what} {}", path.display()), error: source }
    }

    /// The OS error behind an [`ExportError::Io`].
    pub fn io_error(&self) -> Option<&std::io::Error> {
        match self {
            ExportError::Io { error, .. } => Some(error),
            _ => None,
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// What an error-chain printer (anyhow's `{:#}`, the CLI's one line) shows.
    fn chain(error: &dyn std::error::Error) -> String {
        let mut text = error.to_string();
        let mut next = error.source();
        while let Some(cause) = next {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            next = cause.source();
        }
        text
    }

    #[test]
    fn an_io_error_names_the_os_error_once() {
        let enospc = std::io::Error::from_raw_os_error(libc::ENOSPC);
        let error = ExportError::io("write", Path::new("/exports/x/var/0.values.u8"), enospc);
        let line = chain(&error);
        assert_eq!(line.matches("os error 28").count(), 1, "{line}");
        assert!(line.starts_with("write /exports/x/var/0.values.u8: No space left on device"), "{line}");
        assert_eq!(error.io_error().and_then(|e| e.raw_os_error()), Some(libc::ENOSPC));
    }
}
