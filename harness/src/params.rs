//! `--params PARAMS.json`: `prepare()`'s argument names with their JSON types, plus an
//! `inputs` object mapping array arguments to h5ad locations (the CLI contract of
//! `../shared/DESIGN.md`, shared with the reference peer script).
//!
//! Values of the wrong JSON type get the reference's own message where it has one
//! (`"compression": 6.0` → "compression must be None or one integer from 1 to 9."),
//! so the CLI refuses exactly what `prepare()` refuses.

use anyhow::{bail, Context, Result};
use cellucid_core::ExportOptions;
use serde_json::{Map, Value};
use std::path::Path;

/// Parsed params: the prepare() arguments and the optional `inputs` mapping.
pub struct Params {
    pub args: Map<String, Value>,
    pub inputs: Option<Value>,
    /// The file's text: the input mapping is read from it in document order.
    pub text: String,
}

const KNOWN: &[&str] = &[
    "obs_keys",
    "gene_identifiers",
    "var_gene_id_column",
    "var_quantization",
    "obs_continuous_quantization",
    "obs_categorical_dtype",
    "compression",
    "centroid_outlier_quantile",
    "centroid_min_points",
    "dataset_name",
    "dataset_id",
    "dataset_description",
    "created_at",
    "source_name",
    "source_url",
    "source_citation",
    "vector_field_default",
    "force",
];

impl Params {
    pub fn read(path: &Path) -> Result<Params> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let v: Value = serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))?;
        let Value::Object(mut args) = v else { bail!("{}: the params file must hold one JSON object", path.display()) };
        let inputs = args.remove("inputs");
        if let Some(k) = args.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            bail!("{}: unknown parameter {k:?} (prepare() has no such argument)", path.display());
        }
        Ok(Params { args, inputs, text })
    }

    /// Apply every parameter to `options`.
    pub fn apply(&self, options: &mut ExportOptions) -> Result<()> {
        for (k, v) in &self.args {
            apply_one(options, k, v)?;
        }
        Ok(())
    }
}

fn int_param(key: &str, v: &Value, msg: &str) -> Result<Option<i64>> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) if n.is_i64() => Ok(n.as_i64()),
        _ => bail!("{key}: {msg}"),
    }
}

fn str_param(key: &str, v: &Value) -> Result<Option<String>> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => bail!("{key}: {key} must be None or a native string."),
    }
}

fn list_param(key: &str, v: &Value) -> Result<Option<Vec<String>>> {
    match v {
        Value::Null => Ok(None),
        Value::String(_) => bail!("{key}: {key} must be a sequence of strings, not a string scalar."),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, x)| match x {
                Value::String(s) => Ok(s.clone()),
                _ => bail!("{key}: entry at position {i} must be a string"),
            })
            .collect::<Result<Vec<_>>>()
            .map(Some),
        _ => bail!("{key}: {key} must be a list of strings"),
    }
}

fn apply_one(o: &mut ExportOptions, key: &str, v: &Value) -> Result<()> {
    match key {
        "obs_keys" => o.obs_keys = list_param(key, v)?,
        "gene_identifiers" => o.gene_identifiers = list_param(key, v)?,
        "var_gene_id_column" => o.var_gene_id_column = str_param(key, v)?,
        "var_quantization" => o.var_quantization = int_param(key, v, "var_quantization must be None, 8, or 16.")?,
        "obs_continuous_quantization" => {
            o.obs_continuous_quantization = int_param(key, v, "obs_continuous_quantization must be None, 8, or 16.")?
        }
        "compression" => o.compression = int_param(key, v, "compression must be None or one integer from 1 to 9.")?,
        "obs_categorical_dtype" => match v {
            Value::String(s) => o.obs_categorical_dtype = s.clone(),
            _ => bail!("obs_categorical_dtype: obs_categorical_dtype must be exactly 'uint8' or 'uint16'."),
        },
        "centroid_outlier_quantile" => {
            o.centroid_outlier_quantile = match v {
                Value::Null => None,
                Value::Number(n) => n.as_f64(),
                _ => bail!("centroid_outlier_quantile: centroid_outlier_quantile must be None or one finite number strictly between 0.5 and 1."),
            }
        }
        "centroid_min_points" => {
            o.centroid_min_points = match v {
                Value::Number(n) if n.is_i64() => n.as_i64().unwrap_or(0),
                _ => bail!("centroid_min_points: centroid_min_points must be a native integer."),
            }
        }
        "dataset_name" => o.dataset_name = str_param(key, v)?.unwrap_or_default(),
        "dataset_id" => o.dataset_id = str_param(key, v)?.unwrap_or_default(),
        "dataset_description" => o.dataset_description = str_param(key, v)?,
        "created_at" => o.created_at = str_param(key, v)?,
        "source_name" => o.source_name = str_param(key, v)?,
        "source_url" => o.source_url = str_param(key, v)?,
        "source_citation" => o.source_citation = str_param(key, v)?,
        "vector_field_default" => o.vector_field_default = str_param(key, v)?,
        "force" => match v {
            Value::Bool(b) => o.force = *b,
            _ => bail!("force: force must be exactly True or False."),
        },
        _ => bail!("unknown parameter {key:?}"),
    }
    Ok(())
}
