//! One export of a scenario, run exactly as the sweep runs it: the dataset from the
//! sweep's dataset cache (a synthetic spec written once as `.h5ad`), the cell's params
//! file (`sweep::params`) with the scenario's own `prepare()` arguments added, and the
//! writer's command from its template (`sweep::executor::command`) as a measured child
//! (`benchmark::executor`). So every writer, built in or declared with `--writers`,
//! runs in a scenario as it runs in a sweep.

use crate::benchmark::executor::{ChildRun, Executor};
use crate::plan::{Cell, Codec, Durability, Settings};
use crate::sweep::dataset_cache::DatasetCache;
use crate::sweep::executor::{command, RunPaths};
use crate::target::Target;
use crate::writer::Writer;
use anyhow::{Context, Result};
use cellucid_datasets::synthetic::DatasetSpec;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The target name of exports into the work directory (the sweep's `disk` target is the
/// work directory's filesystem too).
pub const WORK_DIR_TARGET: &str = "disk";

/// `writer` exporting `dataset` with `prepare()`'s defaults (float32, no compression, all
/// genes), which every writer can express (`writer::Supports`).
pub fn cell(writer: &Writer, dataset: DatasetSpec) -> Cell {
    Cell {
        dataset,
        settings: Settings { var_quantization: None, obs_continuous_quantization: None, compression: Codec::None, gene_panel: None },
        target: WORK_DIR_TARGET.into(),
        writer: writer.name.clone(),
        durability: Durability::Buffered,
        cold_cache: false,
        block: "scenario".into(),
        memory_limit: None,
    }
}

/// The `.h5ad` of the cell's dataset, generated into the sweep's cache
/// (`WORK_DIR/datasets`) unless it is there already.
pub fn input(cell: &Cell, work_dir: &Path) -> Result<PathBuf> {
    let cache = DatasetCache::new(&work_dir.join("datasets"))?;
    let (path, generated) = cache.get_or_generate(&cell.dataset_id(), &cell.dataset)?;
    if generated {
        eprintln!("dataset {}: {}×{} generated", cell.dataset_id(), cell.dataset.cells, cell.dataset.genes);
    }
    Ok(path)
}

/// Writes the cell's params (as the sweep writes them) with `extra` `prepare()`
/// arguments set (e.g. `force`) to `path`.
pub fn write_params(cell: &Cell, extra: &[(&str, Value)], path: &Path) -> Result<()> {
    let mut params = crate::sweep::params::params(cell);
    for (k, v) in extra {
        params[*k] = v.clone();
    }
    std::fs::write(path, serde_json::to_string_pretty(&params)?).with_context(|| format!("cannot write {}", path.display()))
}

/// Runs the writer's export of `cell` with `paths` as one measured child, its command
/// wrapped by `target` where the target limits the process (`ulimit-nofile:N`).
/// `paths.out` is left as it is: what an earlier export left there is what some
/// scenarios study.
pub fn run(executor: &Executor, writer: &Writer, cell: &Cell, paths: &RunPaths, target: Option<&Target>) -> Result<ChildRun> {
    let mut cmd = command(writer, cell, paths)?;
    if let Some(t) = target {
        cmd = t.wrap(cmd);
    }
    // As the sweep: no earlier run's dirty pages are written back during this one.
    crate::target::tools::write_back_dirty_pages();
    executor.run(&cmd).with_context(|| format!("cannot run {}", writer.name))
}
