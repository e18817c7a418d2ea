//! The `params.json` of a cell, the same for every writer: `prepare()` parameters by
//! name and the `inputs` map of the synthetic `.h5ad` (the writers' CLI contract).

use crate::plan::{Cell, Codec};
use anyhow::{Context, Result};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The `params.json` of a cell: prepare() arguments and the h5ad mapping that
/// `cellucid_datasets::h5ad::write` uses for synthetic datasets.
pub fn params(cell: &Cell) -> Value {
    let spec = &cell.dataset;
    let mut inputs = serde_json::Map::new();
    inputs.insert("gene_expression".into(), json!("X"));
    inputs.insert("latent_space".into(), json!("obsm/X_latent"));
    for d in &spec.embedding_dims {
        inputs.insert(format!("X_umap_{d}d"), json!(format!("obsm/X_umap_{d}d")));
    }
    if !matches!(spec.graph, cellucid_datasets::synthetic::GraphSpec::None) {
        inputs.insert("connectivities".into(), json!("obsp/connectivities"));
    }
    if !spec.vector_fields.is_empty() {
        let mut vf = serde_json::Map::new();
        for id in &spec.vector_fields {
            for d in &spec.embedding_dims {
                let key = format!("{id}_{d}d");
                vf.insert(key.clone(), json!(format!("obsm/{key}")));
            }
        }
        inputs.insert("vector_fields".into(), Value::Object(vf));
    }
    let wide = spec.categorical_fields.iter().any(|&c| c > 255);
    let mut p = json!({
        // The same for every writer of the cell, so that their outputs compare byte for byte.
        "dataset_name": format!("sweep {}", cell.export_label()),
        "dataset_id": format!("sweep-{}", cell.export_id()),
        "created_at": "2026-01-01T00:00:00Z",
        "obs_categorical_dtype": if wide { "uint16" } else { "uint8" },
        "var_quantization": cell.settings.var_quantization,
        "obs_continuous_quantization": cell.settings.obs_continuous_quantization,
        "compression": match cell.settings.compression { Codec::Gzip(l) => json!(l), _ => Value::Null },
        "inputs": Value::Object(inputs),
    });
    if let Some(n) = cell.settings.gene_panel {
        p["gene_identifiers"] = json!((0..n.min(spec.genes)).map(|g| format!("gene_{g}")).collect::<Vec<_>>());
    }
    if !spec.vector_fields.is_empty() {
        p["vector_field_default"] = json!(spec.vector_fields[0]);
    }
    p
}

/// Write the cell's params file into `dir` and return its path.
pub fn write_params(cell: &Cell, dir: &Path) -> Result<PathBuf> {
    let path = dir.join(format!("{}.params.json", cell.id()));
    std::fs::write(&path, serde_json::to_string_pretty(&params(cell))?).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}
