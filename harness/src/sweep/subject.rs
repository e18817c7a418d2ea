//! The two subjects of a sweep as commands: our exporter (`cellucid-bench export … --json`,
//! a fresh child process per run) and the reference writer (cellucid 0.9.2 through
//! `shared/peer/cellucid_prepare_092.py`), both driven by the same `.h5ad` and the same
//! `params.json`.

use crate::plan::{Cell, Codec, Durability, Subject};
use anyhow::{Context, Result};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the reference writer lives.
#[derive(Clone, Debug)]
pub struct Peer {
    pub python: PathBuf,
    pub script: PathBuf,
}

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
        "dataset_name": format!("sweep {}", cell.label()),
        "dataset_id": format!("sweep-{}", cell.id()),
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

/// The command that exports `input` to `out` with `params`: our exporter (a fresh
/// `cellucid-bench export … --quiet --json`, plus `extra` flags) or the reference writer.
pub fn export_command(
    subject: Subject,
    input: &Path,
    params: &Path,
    out: &Path,
    peer: Option<&Peer>,
    extra: &[String],
) -> Result<Command> {
    Ok(match subject {
        Subject::Ours => {
            let mut c = Command::new(std::env::current_exe().context("cannot locate this executable")?);
            c.arg("export").arg(input).arg(out).arg("--params").arg(params).args(["--quiet", "--json"]).args(extra);
            c
        }
        Subject::Reference => {
            let peer = peer.context("this export needs the reference writer: pass --peer-python (see shared/peer/setup.sh)")?;
            let mut c = Command::new(&peer.python);
            c.arg(&peer.script).arg("export").arg(input).arg(out).arg("--params").arg(params);
            c
        }
    })
}

/// The command that exports `input` to `out` for this cell.
pub fn command(cell: &Cell, input: &Path, params: &Path, out: &Path, peer: Option<&Peer>) -> Result<Command> {
    let mut extra = Vec::new();
    if cell.durability == Durability::Durable {
        extra.push("--durable".to_string());
    }
    if let Codec::Zstd(l) = cell.settings.compression {
        extra.extend(["--zstd-what-if".to_string(), l.to_string()]);
    }
    export_command(cell.subject, input, params, out, peer, &extra)
}
