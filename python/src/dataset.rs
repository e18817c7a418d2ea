//! The Python layer's data dict → `Dataset` (keys are `prepare()`'s parameter names).

use cellucid_core::{Dataset, Matrix};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::error::ConvertError;
use crate::frames;
use crate::matrix::matrix;

fn optional<T>(
    d: &Bound<'_, PyDict>,
    key: &str,
    convert: impl Fn(&Bound<'_, PyAny>) -> Result<T, ConvertError>,
) -> Result<Option<T>, ConvertError> {
    match d.get_item(key).map_err(|e| ConvertError::Value(format!("{key}: {e}")))? {
        Some(v) if !v.is_none() => convert(&v).map(Some),
        _ => Ok(None),
    }
}

fn vector_fields(obj: &Bound<'_, PyAny>) -> Result<Vec<(String, Matrix)>, ConvertError> {
    let pairs: Vec<(String, Bound<'_, PyAny>)> =
        obj.extract().map_err(|_| ConvertError::Type("vector_fields: expected (key, matrix) pairs".into()))?;
    pairs.into_iter().map(|(k, m)| matrix(&m, &k).map(|m| (k, m))).collect()
}

/// The dataset, without `gene_expression` when the caller borrows it (`borrowed.rs`).
pub fn dataset(d: &Bound<'_, PyDict>, gene_expression_borrowed: bool) -> Result<Dataset, ConvertError> {
    let gene_expression = if gene_expression_borrowed {
        None
    } else {
        optional(d, "gene_expression", |m| matrix(m, "gene_expression"))?
    };
    Ok(Dataset {
        latent_space: optional(d, "latent_space", |m| matrix(m, "latent_space"))?,
        obs: optional(d, "obs", frames::obs)?,
        var: optional(d, "var", frames::var)?,
        gene_expression,
        connectivities: optional(d, "connectivities", |m| matrix(m, "connectivities"))?,
        x_umap_1d: optional(d, "X_umap_1d", |m| matrix(m, "X_umap_1d"))?,
        x_umap_2d: optional(d, "X_umap_2d", |m| matrix(m, "X_umap_2d"))?,
        x_umap_3d: optional(d, "X_umap_3d", |m| matrix(m, "X_umap_3d"))?,
        vector_fields: optional(d, "vector_fields", vector_fields)?,
    })
}
