//! `Mapping`: which AnnData element feeds which `prepare()` argument.
//!
//! An h5ad file holds many arrays; the exporter takes at most one of each kind. The
//! mapping names them by HDF5 path, the form used by the `inputs` object of the golden
//! cases' `params.json` (`"latent_space": "obsm/X_latent"`), so that the same text can
//! come from a CLI flag, a params file or [`Mapping::scanpy_defaults`].

use std::path::Path;

use serde_json::Value;

use super::error::{H5adError, Result};
use super::read::H5adFile;

/// The AnnData locations of the exporter's array arguments. `obs` is always read;
/// `var` is read whenever `gene_expression` is mapped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mapping {
    /// `"X"` or `"layers/<key>"`.
    pub gene_expression: Option<String>,
    /// `"obsm/<key>"`.
    pub latent_space: Option<String>,
    /// `X_umap_1d`, `X_umap_2d`, `X_umap_3d`, each `"obsm/<key>"`.
    pub x_umap: [Option<String>; 3],
    /// `"obsp/<key>"` or the legacy `"uns/neighbors/connectivities"`.
    pub connectivities: Option<String>,
    /// `(vector field key, "obsm/<key>")`, in the order passed.
    pub vector_fields: Vec<(String, String)>,
}

fn check_prefix(arg: &str, path: &str, prefixes: &[&str]) -> Result<String> {
    let ok = prefixes.iter().any(|p| if p.ends_with('/') { path.starts_with(p) && path.len() > p.len() } else { path == *p });
    if ok {
        Ok(path.to_string())
    } else {
        Err(H5adError::Mapping(format!("{arg} = {path:?} must be one of {}", prefixes.join(", "))))
    }
}

fn as_path(arg: &str, v: &Value) -> Result<String> {
    v.as_str().map(str::to_string).ok_or_else(|| H5adError::Mapping(format!("{arg} must be a string, found {v}")))
}

impl Mapping {
    /// Parses an `inputs` object: `{"latent_space": "obsm/X_latent", "gene_expression": "X",
    /// "X_umap_2d": "obsm/…", "connectivities": "obsp/…", "vector_fields": {"k": "obsm/k"}}`.
    /// Unknown keys are refused, so a typo cannot silently drop an argument.
    ///
    /// Vector fields come in the `Value`'s map order, which serde_json sorts by key
    /// (the workspace does not enable `preserve_order`). When the order passed matters,
    /// parse the text with [`Mapping::from_params_text`], which keeps document order.
    pub fn from_inputs_json(inputs: &Value) -> Result<Mapping> {
        let obj = inputs.as_object().ok_or_else(|| H5adError::Mapping("inputs must be a JSON object".into()))?;
        let mut m = Mapping::default();
        for (key, v) in obj {
            match key.as_str() {
                "gene_expression" => m.gene_expression = Some(check_prefix(key, &as_path(key, v)?, &["X", "layers/"])?),
                "latent_space" => m.latent_space = Some(check_prefix(key, &as_path(key, v)?, &["obsm/"])?),
                "X_umap_1d" | "X_umap_2d" | "X_umap_3d" => {
                    let d = usize::from(key.as_bytes()[7] - b'0');
                    m.x_umap[d - 1] = Some(check_prefix(key, &as_path(key, v)?, &["obsm/"])?);
                }
                "connectivities" => {
                    m.connectivities =
                        Some(check_prefix(key, &as_path(key, v)?, &["obsp/", "uns/neighbors/connectivities"])?)
                }
                "vector_fields" => {
                    let fields = v
                        .as_object()
                        .ok_or_else(|| H5adError::Mapping("vector_fields must be an object".into()))?;
                    for (name, p) in fields {
                        let label = format!("vector_fields[{name:?}]");
                        m.vector_fields.push((name.clone(), check_prefix(&label, &as_path(&label, p)?, &["obsm/"])?));
                    }
                }
                other => return Err(H5adError::Mapping(format!("unknown input {other:?}"))),
            }
        }
        Ok(m)
    }

    /// Parses a whole params file (`{"…": …, "inputs": {…}}`, as the golden cases'
    /// `params.json`), keeping `inputs.vector_fields` in document order.
    pub fn from_params_text(text: &str) -> Result<Mapping> {
        let params: Value = serde_json::from_str(text).map_err(|e| H5adError::Mapping(format!("params JSON: {e}")))?;
        let inputs = params.get("inputs").ok_or_else(|| H5adError::Mapping("params has no \"inputs\" object".into()))?;
        let mut m = Mapping::from_inputs_json(inputs)?;
        if !m.vector_fields.is_empty() {
            let ordered: ParamsOrder =
                serde_json::from_str(text).map_err(|e| H5adError::Mapping(format!("params JSON: {e}")))?;
            m.vector_fields = ordered.inputs.vector_fields.0;
        }
        Ok(m)
    }

    /// The mapping scanpy's conventions suggest for the file at `path`: latent
    /// `obsm/X_pca` if present; `obsm/X_umap` as the 1d/2d/3d embedding by its column
    /// count; `obsp/connectivities`, else the legacy `uns/neighbors/connectivities`; `X`
    /// as the gene matrix if present. Works on pre-0.8 files (compound `obsm`) too.
    pub fn scanpy_defaults(path: &Path) -> Result<Mapping> {
        let file = H5adFile::open(path)?;
        let mut m = Mapping::default();
        if file.exists("X") {
            m.gene_expression = Some("X".into());
        }
        if file.exists_obsm("X_pca")? {
            m.latent_space = Some("obsm/X_pca".into());
        }
        if file.exists_obsm("X_umap")? {
            let cols = file.obsm_columns("X_umap")?;
            if !(1..=3).contains(&cols) {
                return Err(H5adError::malformed("obsm/X_umap", format!("{cols} columns; an embedding has 1, 2 or 3")));
            }
            m.x_umap[cols - 1] = Some("obsm/X_umap".into());
        }
        if file.exists("obsp/connectivities") {
            m.connectivities = Some("obsp/connectivities".into());
        } else if file.exists("uns/neighbors/connectivities") {
            m.connectivities = Some("uns/neighbors/connectivities".into());
        }
        Ok(m)
    }

    /// The mapping under which [`super::write`] stores a dataset's arrays.
    pub fn written(dataset: &cellucid_core::Dataset) -> Mapping {
        let mut m = Mapping::default();
        if dataset.gene_expression.is_some() {
            m.gene_expression = Some("X".into());
        }
        if dataset.latent_space.is_some() {
            m.latent_space = Some(format!("obsm/{}", super::write::LATENT_KEY));
        }
        for d in 1..=3 {
            if dataset.embedding(d).is_some() {
                m.x_umap[d - 1] = Some(format!("obsm/{}", super::write::umap_key(d)));
            }
        }
        if dataset.connectivities.is_some() {
            m.connectivities = Some(format!("obsp/{}", super::write::CONNECTIVITIES_KEY));
        }
        for (k, _) in dataset.vector_fields.iter().flatten() {
            m.vector_fields.push((k.clone(), format!("obsm/{k}")));
        }
        m
    }
}

/// Just enough of a params file to recover `inputs.vector_fields` in document order.
#[derive(serde::Deserialize)]
struct ParamsOrder {
    inputs: InputsOrder,
}

#[derive(serde::Deserialize)]
struct InputsOrder {
    #[serde(default)]
    vector_fields: OrderedPairs,
}

/// A JSON object of strings as `(key, value)` pairs in document order.
#[derive(Default)]
struct OrderedPairs(Vec<(String, String)>);

impl<'de> serde::Deserialize<'de> for OrderedPairs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = OrderedPairs;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of strings")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<OrderedPairs, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    out.push((k, v));
                }
                Ok(OrderedPairs(out))
            }
        }
        d.deserialize_map(Visitor)
    }
}
