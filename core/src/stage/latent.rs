//! `latent_space` (FORMAT.md §2 D.5): required, 2-D `(n, k)`, real, finite as float32.
//! It is used as float32 for the outlier quantiles.

use super::dense::to_dense;
use super::diagnosis::{diagnose, shape_repr};
use crate::dataset::Dataset;
use crate::error::{ExportError, Result};

/// The latent space as float32, row-major `n × k`.
pub struct Latent {
    pub k: usize,
    pub values: Vec<f32>,
}

pub fn prepare(ds: &Dataset, n_cells: usize) -> Result<Latent> {
    const F: &str = "latent_space";
    let Some(m) = &ds.latent_space else {
        return Err(ExportError::value(F, "latent_space is required for outlier quantile calculation."));
    };
    if !m.dtype().is_real_numeric() {
        return Err(ExportError::type_(F, "latent_space must contain real numeric values."));
    }
    let dense = to_dense(m);
    let diag = diagnose(&dense.values);
    if !diag.is_clean() {
        let cols = (dense.shape.len() == 2).then(|| dense.shape[1]);
        return Err(ExportError::value(F, diag.array_message(F, cols)));
    }
    if dense.shape.len() != 2 || dense.shape[0] != n_cells {
        return Err(ExportError::value(
            F,
            format!("latent_space must have shape ({n_cells}, n_dimensions), got {}.", shape_repr(&dense.shape)),
        ));
    }
    Ok(Latent { k: dense.shape[1], values: dense.values.to_f32_vec() })
}
