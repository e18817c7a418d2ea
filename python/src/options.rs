//! The Python layer's option dict → `ExportOptions`.
//!
//! The Python layer has already applied the reference's *type* rules (native int, bool,
//! str; see `_arguments.py`) and passes values core can hold; every *value* rule
//! (ranges, display text, timestamps) is core's, so the messages stay in one place.

use cellucid_core::ExportOptions;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::error::ConvertError;

fn get<'py, T: pyo3::conversion::FromPyObjectOwned<'py>>(d: &Bound<'py, PyDict>, key: &str) -> Result<T, ConvertError> {
    let value = d
        .get_item(key)
        .map_err(|e| ConvertError::Value(format!("option {key}: {e}")))?
        .ok_or_else(|| ConvertError::Value(format!("option {key} missing")))?;
    value.extract().map_err(|_| ConvertError::Type(format!("option {key}: unexpected type")))
}

pub fn options(d: &Bound<'_, PyDict>) -> Result<ExportOptions, ConvertError> {
    let mut o = ExportOptions::new(
        get::<String>(d, "dataset_name")?,
        get::<String>(d, "dataset_id")?,
        get::<String>(d, "obs_categorical_dtype")?,
    );
    o.var_gene_id_column = get(d, "var_gene_id_column")?;
    o.gene_identifiers = get(d, "gene_identifiers")?;
    o.obs_keys = get(d, "obs_keys")?;
    o.centroid_outlier_quantile = get(d, "centroid_outlier_quantile")?;
    o.centroid_min_points = get(d, "centroid_min_points")?;
    o.force = get(d, "force")?;
    o.var_quantization = get(d, "var_quantization")?;
    o.obs_continuous_quantization = get(d, "obs_continuous_quantization")?;
    o.compression = get(d, "compression")?;
    o.created_at = get(d, "created_at")?;
    o.dataset_description = get(d, "dataset_description")?;
    o.source_name = get(d, "source_name")?;
    o.source_url = get(d, "source_url")?;
    o.source_citation = get(d, "source_citation")?;
    o.vector_field_default = get(d, "vector_field_default")?;
    Ok(o)
}
