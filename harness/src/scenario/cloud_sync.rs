//! `cloud-sync`: the guide's "avoid paths synced by cloud clients (Dropbox/OneDrive)
//! during export", with real sync software watching the folder while writers export
//! into it.
//!
//! Two daemons, each started and stopped here, all traffic on 127.0.0.1:
//! - `syncthing` (`syncthing.rs`): a folder-sync daemon, two instances, the second
//!   receiving what the first watches;
//! - `rclone-webdav` (`rclone.rs`): a cloud-drive mount with a local write cache,
//!   `rclone mount --vfs-cache-mode writes` over a WebDAV remote that `rclone serve`
//!   serves from a local directory.
//!
//! For each daemon and writer, after one untimed warm-up export, interleaved (`repeats`
//! pairs, the order alternating): an export into the watched folder and one into an
//! unwatched folder on the same filesystem, then `sampled_runs` more watched exports
//! while the remote copy is sampled (`runs.rs`, `sampler.rs`). The record
//! (`summary.rs`): the export's time watched and unwatched and their ratio, the time
//! from the export's end until the remote copy is complete (or that the daemon stalled),
//! the bytes the sync moved against the bytes exported (an export staged and renamed
//! into place may travel twice), and how many samples of the remote copy looked
//! complete (identity and obs manifest present) but failed `validate`.
//!
//! Writers run exactly as the sweep runs them (their command template, the sweep's
//! params file, a measured child), on a synthetic dataset from the sweep's dataset cache.
//! The daemons' processes, mounts and directories are on a target ledger under
//! `WORK/targets` (`daemon.rs`), so a killed run's leftovers are reclaimed.

mod daemon;
mod http;
mod rclone;
mod runs;
mod sampler;
mod summary;
mod syncthing;
mod tree;

use crate::benchmark::executor::Executor;
use crate::plan::{Cell, Codec, Durability, Settings};
use crate::sweep::dataset_cache::DatasetCache;
use crate::target::TargetError;
use crate::writer::Writer;
use anyhow::{Context as _, Result};
use cellucid_datasets::synthetic::DatasetSpec;
use daemon::SyncDaemon;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

/// The scenario's name (the records' `scenario`).
pub const NAME: &str = "cloud-sync";

/// What the scenario exports and how often.
#[derive(Clone, Debug)]
pub struct Options {
    /// The daemons to run, by target name (`syncthing`, `rclone-webdav`), in this order.
    pub daemons: Vec<String>,
    pub dataset: DatasetSpec,
    /// Timed (watched, unwatched) pairs per writer and daemon.
    pub repeats: usize,
    /// Further watched exports whose remote copy is sampled.
    pub sampled_runs: usize,
    /// The pause between two looks at the remote copy while sampling.
    pub sample_every: Duration,
    /// How long the remote copy may take to become complete.
    pub sync_timeout: Duration,
}

impl Options {
    /// The published scenario: 20,000 cells × 2,000 genes (2,000 gene files, the size
    /// where the guide says "exports are fine"), q8 and gzip 6 as the guide recommends.
    pub fn standard() -> Options {
        Options {
            daemons: DAEMONS.iter().map(|(name, _)| name.to_string()).collect(),
            dataset: DatasetSpec { cells: 20_000, genes: 2_000, ..DatasetSpec::default() },
            repeats: 3,
            sampled_runs: 2,
            sample_every: Duration::from_millis(200),
            sync_timeout: Duration::from_secs(600),
        }
    }

    /// A few hundred cells and genes, one run of each kind: for tests.
    pub fn small() -> Options {
        Options {
            daemons: DAEMONS.iter().map(|(name, _)| name.to_string()).collect(),
            dataset: DatasetSpec { cells: 300, genes: 200, ..DatasetSpec::default() },
            repeats: 1,
            sampled_runs: 1,
            sample_every: Duration::from_millis(20),
            sync_timeout: Duration::from_secs(300),
        }
    }
}

/// The scenario as the `scenario` subcommand runs it.
pub fn run(ctx: &mut super::Context) -> Result<()> {
    let (writers, work_dir) = (ctx.writers, ctx.work_dir);
    let executor = Executor::current().context("cannot locate this executable")?;
    run_with(writers, work_dir, &Options::standard(), &executor, &mut |r| ctx.recorder.append(r))
}

/// The scenario for `writers` at `opts`, each record handed to `record`; `work_dir`
/// holds the dataset cache, params files and the daemons' private directories.
pub fn run_with(
    writers: &[Writer],
    work_dir: &Path,
    opts: &Options,
    executor: &Executor,
    record: &mut dyn FnMut(&Value) -> Result<()>,
) -> Result<()> {
    std::fs::create_dir_all(work_dir).with_context(|| format!("cannot create {}", work_dir.display()))?;
    crate::target::reclaim::stale(work_dir).map_err(|e| anyhow::anyhow!("{e}"))?;
    let probe = cell(opts, "", "");
    let (input, _) = DatasetCache::new(&work_dir.join("datasets"))?.get_or_generate(&probe.dataset_id(), &opts.dataset)?;
    let writers = expressible(writers, opts);
    let mut skipped = Vec::new();
    for name in &opts.daemons {
        let Some((_, start)) = DAEMONS.iter().find(|(n, _)| *n == name.as_str()) else {
            anyhow::bail!("unknown sync daemon {name:?} (known: {})", DAEMONS.map(|(n, _)| n).join(", "));
        };
        let mut daemon = match start(&work_dir.join("targets")) {
            Ok(d) => d,
            Err(TargetError::Skipped { target, reason }) => {
                eprintln!("{NAME} {target}: skipped: {reason}");
                skipped.push(format!("{target}: {reason}"));
                continue;
            }
            Err(e) => return Err(anyhow::anyhow!("{e}")),
        };
        eprintln!("{NAME} {}: {} running", daemon.name(), daemon.version());
        for w in &writers {
            record(&measure(daemon.as_mut(), w, &input, work_dir, opts, executor)?)?;
        }
        daemon.teardown().map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    if !opts.daemons.is_empty() && skipped.len() == opts.daemons.len() {
        anyhow::bail!("no sync daemon could run here ({})", skipped.join("; "));
    }
    Ok(())
}

/// The writers that can express the scenario's export (q8, gzip 6); the others are left
/// out with the reason, as a sweep drops a writer's inexpressible cells (cellucid 0.9.5
/// writes float32 only).
fn expressible<'w>(writers: &'w [Writer], opts: &Options) -> Vec<&'w Writer> {
    let mut out = Vec::new();
    for w in writers {
        match w.supports.why_not(&cell(opts, &w.name, ""), &w.name) {
            Some(why) => eprintln!("{NAME} {}: left out: {why}", w.name),
            None => out.push(w),
        }
    }
    out
}

type Starter = fn(&Path) -> Result<Box<dyn SyncDaemon>, TargetError>;

/// The daemons by target name.
const DAEMONS: [(&str, Starter); 2] = [(syncthing::TARGET, start_syncthing), (rclone::TARGET, start_rclone)];

fn start_syncthing(dir: &Path) -> Result<Box<dyn SyncDaemon>, TargetError> {
    Ok(Box::new(syncthing::start(dir)?))
}

fn start_rclone(dir: &Path) -> Result<Box<dyn SyncDaemon>, TargetError> {
    Ok(Box::new(rclone::start(dir)?))
}

/// The sweep cell of `writer`'s export on `target`: the dataset, q8, gzip 6.
pub(crate) fn cell(opts: &Options, writer: &str, target: &str) -> Cell {
    Cell {
        dataset: opts.dataset.clone(),
        settings: Settings { var_quantization: Some(8), obs_continuous_quantization: None, compression: Codec::Gzip(6), gene_panel: None },
        target: target.into(),
        writer: writer.into(),
        durability: Durability::Buffered,
        cold_cache: false,
        block: NAME.into(),
        memory_limit: None,
    }
}

/// Every run of `writer` on `daemon`, and its record.
fn measure(daemon: &mut dyn SyncDaemon, writer: &Writer, input: &Path, work_dir: &Path, opts: &Options, executor: &Executor) -> Result<Value> {
    let cell = cell(opts, &writer.name, daemon.name());
    let params_dir = work_dir.join("params");
    std::fs::create_dir_all(&params_dir).with_context(|| format!("cannot create {}", params_dir.display()))?;
    let params = crate::sweep::params::write_params(&cell, &params_dir)?;
    let export = runs::Export { writer, cell: &cell, input, params: &params, work_dir, executor };
    let samples = work_dir.join("cloud-sync-samples");
    let mut all = Vec::new();
    let label = format!("{NAME} {} {}", writer.name, daemon.name());
    // One untimed export first, as the sweep warms up: a writer's first run pays for
    // paging in its interpreter and the input (0.9.2: 9.9 s against 4.5 s after).
    let warmup = runs::unwatched(daemon, &export)?;
    eprintln!("{label}: warm-up: {}", warmup.describe());
    for r in 0..opts.repeats {
        // Alternate which comes first, so drift and warm caches favour neither.
        for watched in if r % 2 == 0 { [false, true] } else { [true, false] } {
            let run = if watched { runs::watched(daemon, &export, opts, None)? } else { runs::unwatched(daemon, &export)? };
            eprintln!("{label}: {} {}/{}: {}", run.kind.as_str(), r + 1, opts.repeats, run.describe());
            all.push(run);
        }
    }
    for s in 0..opts.sampled_runs {
        let run = runs::watched(daemon, &export, opts, Some(&samples))?;
        eprintln!("{label}: sampled {}/{}: {}", s + 1, opts.sampled_runs, run.describe());
        all.push(run);
    }
    let _ = std::fs::remove_dir_all(&samples);
    Ok(summary::record(daemon.name(), daemon.version(), &cell, export.validates(), opts, &all))
}
