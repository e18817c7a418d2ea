//! Errors crossing into Python: core's refusals become the reference's exception
//! classes, conversion mistakes become TypeError/ValueError, panics RuntimeError.

use cellucid_core::{ErrorClass, ExportError};
use pyo3::exceptions::{
    PyFileExistsError, PyKeyError, PyNotADirectoryError, PyOSError, PyRuntimeError, PyTypeError, PyValueError,
};
use pyo3::prelude::*;
use pyo3::types::PyType;

/// A Python object that cannot become part of a `Dataset` or `ExportOptions`.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// The object has the wrong Python type (raised as TypeError).
    #[error("{0}")]
    Type(String),
    /// The object has the right type but an impossible value (raised as ValueError).
    #[error("{0}")]
    Value(String),
}

impl From<ConvertError> for PyErr {
    fn from(e: ConvertError) -> PyErr {
        match e {
            ConvertError::Type(m) => PyTypeError::new_err(m),
            ConvertError::Value(m) => PyValueError::new_err(m),
        }
    }
}

/// `cellucid_bench.NonFinitePayloadError`, defined in Python as a ValueError subclass
/// (as the reference's `cellucid.continuous_payload_diagnosis.NonFinitePayloadError`).
fn non_finite(py: Python<'_>, message: String) -> PyErr {
    let class = py.import("cellucid_bench._errors").and_then(|m| m.getattr("NonFinitePayloadError"));
    match class.map(|c| c.cast_into::<PyType>()) {
        Ok(Ok(class)) => PyErr::from_type(class, message),
        // The package's own module is missing or changed: still a ValueError, as the subclass is.
        _ => PyValueError::new_err(message),
    }
}

/// The Python exception the reference raises for the same failure.
pub fn to_py(py: Python<'_>, e: ExportError) -> PyErr {
    let message = e.to_string();
    match e {
        ExportError::Refused { class, .. } => match class {
            ErrorClass::TypeError => PyTypeError::new_err(message),
            ErrorClass::ValueError => PyValueError::new_err(message),
            ErrorClass::KeyError => PyKeyError::new_err(message),
            ErrorClass::NonFinitePayloadError => non_finite(py, message),
            ErrorClass::FileExistsError => PyFileExistsError::new_err(message),
            ErrorClass::NotADirectoryError => PyNotADirectoryError::new_err(message),
            ErrorClass::RuntimeError => PyRuntimeError::new_err(message),
        },
        // OSError(errno, text) picks the errno's subclass (PermissionError, …), as
        // Python's own file functions do.
        ExportError::Io { ref error, .. } => match error.raw_os_error() {
            Some(errno) => PyOSError::new_err((errno, message)),
            None => PyOSError::new_err(message),
        },
        ExportError::Internal(_) => PyRuntimeError::new_err(message),
    }
}

/// A panic inside the exporter: a bug, reported as RuntimeError rather than aborting Python.
pub fn panic_to_py(payload: Box<dyn std::any::Any + Send>) -> PyErr {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string());
    PyRuntimeError::new_err(format!("internal error in cellucid_bench (a bug, please report): {what}"))
}
