//! What a sweep needs before its first run: each target provisioned once, each writer
//! set up once (and its version probed), each dataset generated once and each cell's
//! params file written.

use super::dataset_cache::DatasetCache;
use super::human_bytes;
use crate::plan::Cell;
use crate::target::{self, Target, TargetError, TargetSpec};
use crate::writer::{self, Writer, WriterInfo, Writers};
use anyhow::{Context, Result};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Provisioned targets by name (torn down when dropped) and the ones that cannot exist
/// here, with the reason.
pub struct Targets {
    pub by_name: HashMap<String, Target>,
    pub skipped: Vec<(String, String)>,
}

fn target_spec(name: &str, user: &[TargetSpec]) -> Result<TargetSpec> {
    if let Some(u) = user.iter().find(|t| t.name() == name) {
        return Ok(u.clone());
    }
    TargetSpec::parse(name).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Provisions every target `cells` use, sized for the largest export.
pub fn targets(cells: &[Cell], user: &[TargetSpec], work_dir: &Path) -> Result<Targets> {
    let largest = cells.iter().map(|c| c.dataset.cells as u64 * c.genes_exported() as u64 * 4).max().unwrap_or(0);
    let size = (largest * 3 + (256 << 20)).max(512 << 20);
    let mut names: Vec<&str> = cells.iter().map(|c| c.target.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let mut out = Targets { by_name: HashMap::new(), skipped: Vec::new() };
    for name in names {
        let spec = target_spec(name, user)?;
        match target::provision(&spec, &work_dir.join("targets"), size) {
            Ok(t) => {
                eprintln!("target {name}: {} at {} ({} free)", t.info.fs_type, t.root.display(), human_bytes(t.info.free_bytes));
                out.by_name.insert(name.to_string(), t);
            }
            Err(TargetError::Skipped { reason, .. }) => {
                eprintln!("target {name}: skipped: {reason}");
                out.skipped.push((name.to_string(), reason));
            }
            Err(e) => return Err(anyhow::anyhow!("{e}")),
        }
    }
    Ok(out)
}

/// The writers `cells` use, each set up once (output captured; a failure is an error
/// naming the writer) and its version probed, in first-use order.
pub fn writers<'a>(cells: &[Cell], all: &'a Writers, work_dir: &Path) -> Result<Vec<(&'a Writer, WriterInfo)>> {
    let mut out: Vec<(&Writer, WriterInfo)> = Vec::new();
    for c in cells {
        if out.iter().any(|(w, _)| w.name == c.writer) {
            continue;
        }
        let w = all.get(&c.writer).map_err(|e| anyhow::anyhow!("{e}"))?;
        out.push((w, writer_ready(w, work_dir)?));
    }
    Ok(out)
}

/// One writer set up (output captured; a failure is an error naming the writer) and its
/// version probed, each printed; the store header's record of it. Scenarios
/// (`crate::scenario`) prepare their writers with it too.
pub fn writer_ready(w: &Writer, work_dir: &Path) -> Result<WriterInfo> {
    let ctx = writer::Context::global(work_dir);
    if let Some(s) = writer::run_setup(w, &ctx).map_err(|e| anyhow::anyhow!("{e}"))? {
        eprintln!("writer {}: set up in {s:.1} s", w.name);
    }
    let version = writer::probe_version(w, &ctx);
    eprintln!("writer {}: version {}", w.name, version.as_deref().unwrap_or("unknown (no probe, or it failed)"));
    Ok(w.info(version))
}

/// Each cell's input `.h5ad` (by dataset id) and params file (by cell id).
pub struct Inputs {
    pub h5ad: HashMap<String, PathBuf>,
    pub params: HashMap<String, PathBuf>,
}

/// Generates (or finds cached) every dataset of `cells` and writes their params files.
pub fn inputs(cells: &[Cell], work_dir: &Path) -> Result<Inputs> {
    let cache = DatasetCache::new(&work_dir.join("datasets"))?;
    let params_dir = work_dir.join("params");
    std::fs::create_dir_all(&params_dir).with_context(|| format!("cannot create {}", params_dir.display()))?;
    let mut out = Inputs { h5ad: HashMap::new(), params: HashMap::new() };
    for c in cells {
        let id = c.dataset_id();
        if let std::collections::hash_map::Entry::Vacant(slot) = out.h5ad.entry(id.clone()) {
            let t = std::time::Instant::now();
            let (path, generated) = cache.get_or_generate(&id, &c.dataset)?;
            if generated {
                eprintln!("dataset {id}: {}×{} generated in {:.1} s", c.dataset.cells, c.dataset.genes, t.elapsed().as_secs_f64());
            }
            slot.insert(path);
        }
        out.params.insert(c.id(), super::params::write_params(c, &params_dir)?);
    }
    Ok(out)
}
