//! `dataset_identity.json` (FORMAT.md §12), `indent=2`, keys in the reference's order.

use super::embeddings::points_path;
use super::obs::{Field, Obs};
use super::output::{Output, Written};
use super::vectors::{vector_path, Vectors};
use crate::codec::json::Json;
use crate::error::Result;
use crate::options::ExportOptions;
use crate::text::utc_now;

/// What the identity summarises.
pub struct Summary<'a> {
    pub n_cells: usize,
    pub n_genes: usize,
    pub dims: &'a [usize],
    pub obs: &'a Obs,
    pub n_edges: Option<usize>,
    pub vectors: Option<&'a Vectors>,
}

fn ints(v: &[usize]) -> Json {
    Json::Array(v.iter().map(|&d| Json::Int(d as i64)).collect())
}

fn opt_int(v: Option<i64>) -> Json {
    v.map_or(Json::Null, Json::Int)
}

/// Build the identity document.
pub fn document(s: &Summary<'_>, options: &ExportOptions, output: &Output) -> Json {
    let mut continuous = Vec::new();
    let mut categorical = Vec::new();
    for f in &s.obs.fields {
        match f {
            Field::Continuous { key, .. } => continuous.push(Json::Object(vec![
                ("key".into(), Json::Str(key.clone())),
                ("kind".into(), Json::Str("continuous".into())),
            ])),
            Field::Categorical(c) => categorical.push(Json::Object(vec![
                ("key".into(), Json::Str(c.key.clone())),
                ("kind".into(), Json::Str("category".into())),
                ("n_categories".into(), Json::Int(c.categories.len() as i64)),
            ])),
        }
    }
    let (n_cont, n_cat) = (continuous.len(), categorical.len());
    let mut obs_fields = continuous;
    obs_fields.extend(categorical);
    let mut doc = vec![
        ("version".to_string(), Json::Int(2)),
        ("id".into(), Json::Str(options.dataset_id.clone())),
        ("name".into(), Json::Str(options.dataset_name.clone())),
        ("description".into(), Json::Str(options.dataset_description.clone().unwrap_or_default())),
        ("created_at".into(), Json::Str(options.created_at.clone().unwrap_or_else(utc_now))),
        ("cellucid_data_version".into(), Json::Str(options.cellucid_data_version.clone())),
        (
            "stats".into(),
            Json::Object(vec![
                ("n_cells".into(), Json::Int(s.n_cells as i64)),
                ("n_genes".into(), Json::Int(s.n_genes as i64)),
                ("n_obs_fields".into(), Json::Int((n_cont + n_cat) as i64)),
                ("n_categorical_fields".into(), Json::Int(n_cat as i64)),
                ("n_continuous_fields".into(), Json::Int(n_cont as i64)),
                ("has_connectivity".into(), Json::Bool(s.n_edges.is_some())),
                ("n_edges".into(), opt_int(s.n_edges.map(|e| e as i64))),
            ]),
        ),
        (
            "embeddings".into(),
            Json::Object(vec![
                ("available_dimensions".into(), ints(s.dims)),
                ("default_dimension".into(), Json::Int(s.dims.iter().copied().max().unwrap_or(0) as i64)),
                (
                    "files".into(),
                    Json::Object(s.dims.iter().map(|&d| (format!("{d}d"), Json::Str(points_path(d, output)))).collect()),
                ),
            ]),
        ),
        ("obs_fields".into(), Json::Array(obs_fields)),
        (
            "export_settings".into(),
            Json::Object(vec![
                ("compression".into(), opt_int(options.compression)),
                ("var_quantization".into(), opt_int(options.var_quantization)),
                ("obs_continuous_quantization".into(), opt_int(options.obs_continuous_quantization)),
                ("obs_categorical_dtype".into(), Json::Str(options.obs_categorical_dtype.clone())),
            ]),
        ),
    ];
    if let Some(name) = &options.source_name {
        let mut src = vec![("name".to_string(), Json::Str(name.clone()))];
        if let Some(u) = &options.source_url {
            src.push(("url".into(), Json::Str(u.clone())));
        }
        if let Some(c) = &options.source_citation {
            src.push(("citation".into(), Json::Str(c.clone())));
        }
        doc.push(("source".into(), Json::Object(src)));
    }
    if let Some(v) = s.vectors {
        let fields = v
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let dims: Vec<usize> = f.dims.iter().map(|(d, _)| *d).collect();
                (
                    f.id.clone(),
                    Json::Object(vec![
                        ("label".into(), Json::Str(f.id.clone())),
                        ("available_dimensions".into(), ints(&dims)),
                        ("default_dimension".into(), Json::Int(dims.iter().copied().max().unwrap_or(0) as i64)),
                        (
                            "files".into(),
                            Json::Object(dims.iter().map(|&d| (format!("{d}d"), Json::Str(vector_path(i, d, output)))).collect()),
                        ),
                        ("basis".into(), Json::Str("umap".into())),
                    ]),
                )
            })
            .collect();
        doc.push((
            "vector_fields".into(),
            Json::Object(vec![
                ("default_field".into(), Json::Str(v.default_field.clone())),
                ("fields".into(), Json::Object(fields)),
            ]),
        ));
    }
    Json::Object(doc)
}

/// Write `dataset_identity.json`.
pub fn write(s: &Summary<'_>, options: &ExportOptions, output: &Output) -> Result<Written> {
    output.write_json("dataset_identity.json", &document(s, options, output).to_pretty())
}
