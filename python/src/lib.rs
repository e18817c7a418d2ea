//! `cellucid_bench._native`: cellucid-core behind Python.
//!
//! The public API is the Python package (`cellucid_bench/__init__.py`), which normalizes
//! pandas/scipy/numpy inputs and applies the reference's type rules; this module turns the
//! normalized form into core's `Dataset` and `ExportOptions`, exports with the GIL
//! released, and maps every failure to a Python exception (a panic included).

mod borrowed;
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

use borrowed::{BorrowedCsr, CsrSlices};
use cellucid_core::{export_with_built_matrix, export_with_progress, Dataset, ExportOptions, ExportReport, Matrix, Progress};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

type Outcome = std::thread::Result<cellucid_core::Result<ExportReport>>;

/// One export, inside `pool` when there is one, a panic caught; a borrowed CSR
/// `gene_expression` is transposed by core on the same pool, beside its checks of the
/// other inputs.
fn exporting(
    pool: Option<&rayon::ThreadPool>,
    dataset: &Dataset,
    csr: Option<&CsrSlices<'_>>,
    options: &ExportOptions,
    out_dir: &std::path::Path,
    progress: &(dyn Fn(Progress) + Sync),
) -> Outcome {
    let go = || {
        catch_unwind(AssertUnwindSafe(|| match csr {
            Some(csr) => export_with_built_matrix(dataset, &|| Matrix::Csc(csr.to_csc()), options, out_dir, progress),
            None => export_with_progress(dataset, options, out_dir, progress),
        }))
    };
    match pool {
        Some(pool) => pool.install(go),
        None => go(),
    }
}

/// Run the export in a rayon pool of its own, dropped (its threads ending) afterwards,
/// relaying its progress to `callback` on this thread.
///
/// Why not rayon's global pool: Python programs fork (multiprocessing's default on
/// Linux). A child forked after one export would inherit the global pool's bookkeeping
/// but not its threads, and its next export would wait for them forever. A pool per
/// call costs one thread start per core (well under a millisecond). Without threads to
/// be had (a process limit), core runs on the calling thread.
fn run(
    dataset: &Dataset,
    csr: Option<&CsrSlices<'_>>,
    options: &ExportOptions,
    out_dir: &std::path::Path,
    callback: Option<&Py<PyAny>>,
) -> Outcome {
    let pool = rayon::ThreadPoolBuilder::new().thread_name(|i| format!("cellucid-bench-{i}")).build().ok();
    let Some(callback) = callback else {
        return exporting(pool.as_ref(), dataset, csr, options, out_dir, &|_| {});
    };
    let (tx, rx) = mpsc::channel::<Progress>();
    let pool = pool.as_ref();
    std::thread::scope(|s| {
        let worker = s.spawn(move || {
            // A send fails only once the relay has returned, i.e. never before tx is dropped.
            exporting(pool, dataset, csr, options, out_dir, &|p| {
                let _ = tx.send(p);
            })
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
    let borrowed = data.get_item("gene_expression")?.and_then(|m| BorrowedCsr::from_tuple(&m));
    let dataset = dataset::dataset(data, borrowed.is_some())?;
    let options = options::options(options)?;
    let csr = borrowed.as_ref().map(BorrowedCsr::slices);
    let outcome = py.detach(|| run(&dataset, csr.as_ref(), &options, &out_dir, progress.as_ref()));
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

/// Panics inside Rust and returns what Python receives: the same catch and mapping as
/// `export` uses, so that a test can check that a panic becomes RuntimeError.
#[pyfunction]
fn _panic_for_tests(message: String) -> PyResult<()> {
    match catch_unwind::<_, ()>(|| panic!("{message}")) {
        Ok(()) => Ok(()),
        Err(panic) => Err(error::panic_to_py(panic)),
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(export, m)?)?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(compare_folders, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_tests, m)?)?;
    Ok(())
}
