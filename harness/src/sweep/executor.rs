//! One run of one cell: the writer's command built from its template, started from a
//! clean state (no dirty pages; the page cache dropped for cold-cache cells) as a fresh,
//! measured child process.

use crate::benchmark::executor::{ChildRun, Executor};
use crate::plan::{Cell, Codec, Durability};
use crate::target::Target;
use crate::writer::{Context as Placeholders, Writer};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The files of one run.
pub struct RunPaths<'a> {
    pub input: &'a Path,
    pub params: &'a Path,
    pub out: PathBuf,
    pub work_dir: &'a Path,
}

/// The command that makes `writer` export `cell`. Our exporter also gets the flags the
/// contract has no place for (durability, the zstd what-if codec, a memory limit); other writers never
/// see such cells (the sizing dropped them, see `scheduler`).
pub fn command(writer: &Writer, cell: &Cell, paths: &RunPaths) -> Result<Command> {
    let ctx = Placeholders::run(paths.work_dir, paths.input, &paths.out, paths.params);
    let mut c = writer.command(&ctx).map_err(|e| anyhow::anyhow!("{e}"))?;
    if writer.export_flags {
        if cell.durability == Durability::Durable {
            c.arg("--durable");
        }
        if let Codec::Zstd(l) = cell.settings.compression {
            c.arg("--zstd-what-if").arg(l.to_string());
        }
        if let Some(limit) = cell.memory_limit {
            c.arg("--memory-limit").arg(limit.to_string());
        }
    }
    Ok(c)
}

/// Runs `cell` once with `writer` into `paths.out` (cleared first) on `target`.
pub fn run_once(executor: &Executor, writer: &Writer, cell: &Cell, target: &Target, paths: &RunPaths) -> Result<ChildRun> {
    if paths.out.exists() {
        std::fs::remove_dir_all(&paths.out).with_context(|| format!("cannot clear {}", paths.out.display()))?;
    }
    // Start every run with no dirty pages (untimed), so that the write-back of earlier
    // runs, datasets and floors cannot land in this one (the guide plan interleaves
    // 40 GB exports with 1 MB ones). A buffered export still pays for its own
    // write-back, as a user's would.
    crate::target::tools::write_back_dirty_pages();
    if cell.cold_cache {
        target.drop_caches().map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    // A target may limit the run (`ulimit-nofile:N` sets its RLIMIT_NOFILE).
    let cmd = target.wrap(command(writer, cell, paths)?);
    executor.run(&cmd).with_context(|| format!("cannot run {}", cell.label()))
}
