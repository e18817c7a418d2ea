//! `cellucid_bench._native`: cellucid-core behind Python.
//!
//! The public API is the Python package (`cellucid_bench/__init__.py`), which normalizes
//! pandas/scipy/numpy inputs and applies the reference's type rules; this module turns the
//! normalized form into core's `Dataset` and `ExportOptions`, exports with the GIL
//! released, and maps every failure to a Python exception (a panic included).

mod dataset;
mod error;
mod frames;
mod matrix;
mod options;
mod progress;
mod values;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::mpsc;

use cellucid_core::{export_with_progress, Dataset, ExportOptions, ExportReport, Progress};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

type Outcome = std::thread::Result<cellucid_core::Result<ExportReport>>;

/// Run the export on a scoped thread and relay its progress on this one.
fn run(dataset: &Dataset, options: &ExportOptions, out_dir: &std::path::Path, callback: Option<&Py<PyAny>>) -> Outcome {
    let Some(callback) = callback else {
        return catch_unwind(AssertUnwindSafe(|| export_with_progress(dataset, options, out_dir, &|_| {})));
    };
    let (tx, rx) = mpsc::channel::<Progress>();
    std::thread::scope(|s| {
        let worker = s.spawn(move || {
            catch_unwind(AssertUnwindSafe(|| {
                // A send fails only once the relay has returned, i.e. never before we drop tx.
                export_with_progress(dataset, options, out_dir, &|p| {
                    let _ = tx.send(p);
                })
            }))
        });
        progress::relay(&rx, callback);
        worker.join().and_then(|r| r)
    })
}

/// Export `data` (the normalized `prepare()` data) with `options` to `out_dir`.
/// Returns the export report as JSON text.
#[pyfunction]
#[pyo3(signature = (data, options, out_dir, progress=None))]
fn export(
    py: Python<'_>,
    data: &Bound<'_, PyDict>,
    options: &Bound<'_, PyDict>,
    out_dir: PathBuf,
    progress: Option<Py<PyAny>>,
) -> PyResult<String> {
    let dataset = dataset::dataset(data)?;
    let options = options::options(options)?;
    let outcome = py.detach(|| run(&dataset, &options, &out_dir, progress.as_ref()));
    match outcome {
        Ok(Ok(report)) => serde_json::to_string(&report).map_err(|e| PyRuntimeError::new_err(e.to_string())),
        Ok(Err(e)) => Err(error::to_py(py, e)),
        Err(panic) => Err(error::panic_to_py(panic)),
    }
}

/// The viewer's checks on a finished folder: `[(file, field, message), …]`.
#[pyfunction]
fn validate(py: Python<'_>, path: PathBuf) -> Vec<(String, String, String)> {
    let report = py.detach(|| cellucid_core::validate(&path));
    report.problems.into_iter().map(|p| (p.file, p.field, p.message)).collect()
}

/// Folder equivalence under the conformance rule (`cellucid_core::compare`):
/// every difference, one line each; `expected_dirs` overrides the expected directory set.
#[pyfunction]
#[pyo3(signature = (expected, actual, expected_dirs=None))]
fn compare_folders(
    py: Python<'_>,
    expected: PathBuf,
    actual: PathBuf,
    expected_dirs: Option<std::collections::BTreeSet<String>>,
) -> Vec<String> {
    py.detach(|| cellucid_core::compare::compare_folders(&expected, &actual, expected_dirs.as_ref()))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(export, m)?)?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(compare_folders, m)?)?;
    Ok(())
}
