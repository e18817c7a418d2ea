//! The export with its gene matrix built beside the other inputs' checks
//! (`export_with_built_matrix`, as the Python package calls it), for tests that must
//! hold for both ways of handing core the matrix.

use cellucid_core::{export, export_with_built_matrix, Dataset, ExportOptions, ExportReport, Result};
use std::path::Path;

/// An export entry point, as the tests that run on both take it.
pub type Exporter = fn(&Dataset, &ExportOptions, &Path) -> Result<ExportReport>;

/// `export(ds, options, out)`, but with `ds.gene_expression` handed over as a build
/// closure (a plain export when there is none).
pub fn export_built(ds: &Dataset, options: &ExportOptions, out: &Path) -> Result<ExportReport> {
    let Some(matrix) = ds.gene_expression.clone() else { return export(ds, options, out) };
    let rest = Dataset { gene_expression: None, ..ds.clone() };
    export_with_built_matrix(&rest, &|| matrix.clone(), options, out, &|_| {})
}
