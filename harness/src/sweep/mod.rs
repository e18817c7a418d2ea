//! The sweep engine: a plan's cells (dataset × settings × target × subject), each run as
//! a fresh child process, in a seeded interleaved order, measured and appended to the
//! result store one sample at a time.
//!
//! Order of work: validate and size the plan; open (or resume) the store; provision each
//! target once (a target that cannot exist here is skipped with its reason, and so are
//! its cells); generate each dataset once (cached by the hash of its spec); then the
//! schedule — warm-ups first, then rounds of every cell in a seeded random order, so that
//! drift on a shared machine spreads over every configuration instead of favouring one.
//! Targets are torn down when the sweep ends, fails, or is interrupted.

pub mod dataset_cache;
pub mod subject;
pub mod summary;

use crate::benchmark::executor::Executor;
use crate::measure::floor::{self, Floor, FloorCodec};
use crate::measure::tree::tree_stats_hashing_if;
use crate::plan::{schedule_warming, Cell, Codec, MachineBudget, Plan, Subject};
use crate::store::{Header, Sample, Store};
use crate::target::{self, Target, TargetError, TargetSpec};
use anyhow::{bail, Context, Result};
use dataset_cache::DatasetCache;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::{HashMap, HashSet};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use subject::Peer;

/// Everything a sweep needs besides the plan.
pub struct SweepConfig {
    pub plan: Plan,
    pub shard: Option<(usize, usize)>,
    pub out: PathBuf,
    pub resume: bool,
    /// Datasets, params files, images and mount points live here (on the disk).
    pub work_dir: PathBuf,
    /// User paths given as `--target name=/path`, usable by name in the plan.
    pub user_targets: Vec<TargetSpec>,
    /// Only these targets (by name), if given.
    pub only_targets: Option<Vec<String>>,
    pub peer: Option<Peer>,
    /// Measure the physical floor of each cell (once per cell).
    pub floor: bool,
    pub progress: bool,
}

/// How a sweep ended.
pub struct Outcome {
    pub samples: Vec<Sample>,
    pub skipped_targets: Vec<(String, String)>,
    pub failed_runs: usize,
}

fn target_spec(name: &str, user: &[TargetSpec]) -> Result<TargetSpec> {
    if let Some(u) = user.iter().find(|t| t.name() == name) {
        return Ok(u.clone());
    }
    TargetSpec::parse(name).map_err(|e| anyhow::anyhow!("{e}"))
}

fn floor_codec(cell: &Cell) -> FloorCodec {
    match cell.settings.compression {
        Codec::None => FloorCodec::None,
        Codec::Gzip(l) => FloorCodec::Gzip(l as u32),
        Codec::Zstd(l) => FloorCodec::Zstd(l),
    }
}

/// Exports up to this size are hashed on every run; larger ones once per cell.
const HASH_EVERY_RUN_BYTES: u64 = 1 << 30;

/// Run the sweep; samples already in a resumed store are not run again.
pub fn run(cfg: &SweepConfig) -> Result<Outcome> {
    cfg.plan.validate().map_err(|e| anyhow::anyhow!("plan {}: {e}", cfg.plan.name))?;
    let mut cells = match cfg.shard {
        Some((i, n)) => cfg.plan.shard(i, n),
        None => cfg.plan.cells(),
    };
    if let Some(only) = &cfg.only_targets {
        cells.retain(|c| only.contains(&c.target));
    }
    if cells.is_empty() {
        bail!("no cell of plan {} left to run (check --targets and --shard)", cfg.plan.name);
    }
    std::fs::create_dir_all(&cfg.work_dir).with_context(|| format!("cannot create {}", cfg.work_dir.display()))?;
    target::reclaim::stale(&cfg.work_dir)?;
    if let Some(parent) = cfg.out.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let mut store = Store::create_or_resume(&cfg.out, Header::new(&cfg.plan.name, cfg.shard), cfg.resume)
        .map_err(|e| anyhow::anyhow!("{e}"))?;

    // Targets: provisioned once each, torn down when `targets` drops.
    let mut targets: HashMap<String, Target> = HashMap::new();
    let mut skipped = Vec::new();
    let largest = cells.iter().map(|c| c.dataset.cells as u64 * c.genes_exported() as u64 * 4).max().unwrap_or(0);
    let size = (largest * 3 + (256 << 20)).max(512 << 20);
    let mut names: Vec<String> = cells.iter().map(|c| c.target.clone()).collect();
    names.sort();
    names.dedup();
    for name in &names {
        let spec = target_spec(name, &cfg.user_targets)?;
        match target::provision(&spec, &cfg.work_dir.join("targets"), size) {
            Ok(t) => {
                eprintln!("target {name}: {} at {} ({} free)", t.info.fs_type, t.root.display(), human_bytes(t.info.free_bytes));
                targets.insert(name.clone(), t);
            }
            Err(TargetError::Skipped { reason, .. }) => {
                eprintln!("target {name}: skipped: {reason}");
                skipped.push((name.clone(), reason));
            }
            Err(e) => return Err(anyhow::anyhow!("{e}")),
        }
    }
    cells.retain(|c| targets.contains_key(&c.target));
    if cells.iter().any(|c| c.subject == Subject::Reference) && cfg.peer.is_none() {
        bail!("the plan has reference cells: pass --peer-python and --peer-script (set up with shared/peer/setup.sh), or --no-reference");
    }

    // Datasets and params.
    let cache = DatasetCache::new(&cfg.work_dir.join("datasets"))?;
    let params_dir = cfg.work_dir.join("params");
    std::fs::create_dir_all(&params_dir)?;
    let mut inputs: HashMap<String, PathBuf> = HashMap::new();
    let mut params: HashMap<String, PathBuf> = HashMap::new();
    for c in &cells {
        let id = c.dataset_id();
        if !inputs.contains_key(&id) {
            let t = std::time::Instant::now();
            let (path, generated) = cache.get_or_generate(&id, &c.dataset)?;
            if generated {
                eprintln!("dataset {id}: {}×{} generated in {:.1} s", c.dataset.cells, c.dataset.genes, t.elapsed().as_secs_f64());
            }
            inputs.insert(id, path);
        }
        params.insert(c.id(), subject::write_params(c, &params_dir)?);
    }

    let warm = cfg.plan.warms_up(&cells, &MachineBudget::detect());
    let runs = schedule_warming(&cells, &warm, cfg.plan.warmup, cfg.plan.repeats, cfg.plan.seed);
    let todo: Vec<_> = runs.iter().filter(|r| r.is_warmup || !store.is_finished(&cells[r.cell_index].id(), r.repeat)).collect();
    let bar = ProgressBar::with_draw_target(Some(todo.len() as u64), ProgressDrawTarget::hidden());
    if cfg.progress && std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::stderr());
    }
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} runs, ETA {eta} | {msg}").unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    // Without a terminal (nohup, a batch job) the bar is hidden: one line per run instead,
    // so a log shows where a long sweep is.
    let log_lines = cfg.progress && !std::io::stderr().is_terminal();
    let started = std::time::Instant::now();
    let executor = Executor::current().context("cannot locate this executable")?;
    let mut floors: HashMap<String, Floor> = HashMap::new();
    let mut hashed: HashSet<String> = HashSet::new();
    let mut samples = Vec::new();
    let mut failed = 0;
    for (n, run) in todo.iter().enumerate() {
        let cell = &cells[run.cell_index];
        let id = cell.id();
        bar.set_message(cell.label());
        let target = &targets[&cell.target];
        let out = target.root.join(format!("run-{n}"));
        if out.exists() {
            std::fs::remove_dir_all(&out).with_context(|| format!("cannot clear {}", out.display()))?;
        }
        // Start every run with no dirty pages (untimed), so that the write-back of earlier
        // runs, datasets and floors cannot land in this one (the guide plan interleaves
        // 40 GB exports with 1 MB ones). A buffered export still pays for its own
        // write-back, as a user's would.
        // SAFETY: sync has no preconditions.
        unsafe { libc::sync() };
        if cell.cold_cache {
            target.drop_caches().map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        let cmd = subject::command(cell, &inputs[&cell.dataset_id()], &params[&id], &out, cfg.peer.as_ref())?;
        let child = executor.run(&cmd).with_context(|| format!("cannot run {}", cell.label()))?;
        bar.inc(1);
        let mut sample = Sample {
            cell_id: id.clone(),
            label: cell.label(),
            repeat: run.repeat,
            target: cell.target.clone(),
            subject: cell.subject.as_str().to_string(),
            settings: cell.settings.to_json(),
            dataset: cell.dataset_json(),
            wall_s: child.wall.as_secs_f64(),
            user_s: child.user.as_secs_f64(),
            sys_s: child.sys.as_secs_f64(),
            max_rss_bytes: child.max_rss,
            ok: child.success(),
            error: (!child.success()).then(|| child.error_line()),
            finished_at: cellucid_core::text::utc_now(),
            ..Default::default()
        };
        if child.success() {
            // Hashing reads the whole export again (a minute for 40 GB): large exports are
            // hashed on their cell's first run in this sweep only.
            let stats = tree_stats_hashing_if(&out, |s| s.bytes_apparent <= HASH_EVERY_RUN_BYTES || hashed.insert(id.clone()))
                .with_context(|| format!("cannot measure {}", out.display()))?;
            sample.bytes_apparent = stats.bytes_apparent;
            sample.bytes_allocated = stats.bytes_allocated;
            sample.files = stats.files;
            sample.dirs = stats.dirs;
            sample.output_hash = (!stats.hash.is_empty()).then_some(stats.hash);
            if cell.subject == Subject::Ours {
                sample.phases = serde_json::from_str::<serde_json::Value>(&child.stdout).ok().map(|r| r["phases"].clone());
            }
            if cfg.floor && !floors.contains_key(&id) {
                let scratch = target.root.join("floor");
                std::fs::create_dir_all(&scratch)?;
                let f = floor::measure(&out, &scratch, floor_codec(cell)).with_context(|| format!("cannot measure the floor of {}", cell.label()))?;
                let _ = std::fs::remove_dir_all(&scratch);
                floors.insert(id.clone(), f);
            }
            if let Some(f) = floors.get(&id) {
                sample.floor = serde_json::to_value(f).ok();
                sample.efficiency = Some(f.floor_s / sample.wall_s.max(1e-9));
            }
            sample.target_info = target.info_now().ok().map(|i| {
                serde_json::json!({"fs_type": i.fs_type, "mount_options": i.mount_options, "free_bytes": i.free_bytes, "total_bytes": i.total_bytes, "device": i.device})
            });
        } else {
            failed += 1;
            bar.println(format!("run failed: {}: {}", cell.label(), child.error_line()));
        }
        let _ = std::fs::remove_dir_all(&out);
        if log_lines {
            let done = n + 1;
            let eta = started.elapsed().as_secs_f64() / done as f64 * (todo.len() - done) as f64;
            eprintln!(
                "[{done}/{}] {}{}: {} in {:.2} s (elapsed {}, ETA {})",
                todo.len(),
                cell.label(),
                if run.is_warmup { " (warm-up)" } else { "" },
                if sample.ok { "ok" } else { "FAILED" },
                sample.wall_s,
                crate::plan::human_duration(started.elapsed().as_secs_f64()),
                crate::plan::human_duration(eta)
            );
        }
        if !run.is_warmup {
            store.append(&sample).map_err(|e| anyhow::anyhow!("{e}"))?;
            samples.push(sample);
        }
    }
    bar.finish_and_clear();
    drop(targets);
    Ok(Outcome { samples, skipped_targets: skipped, failed_runs: failed })
}

/// `12.3 GB`-style sizes.
pub fn human_bytes(b: u64) -> String {
    let b = b as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{:.0} kB", b / 1e3)
    }
}

/// The store path a plan writes by default.
pub fn default_out(plan: &str, shard: Option<(usize, usize)>) -> PathBuf {
    match shard {
        Some((i, n)) => Path::new("results").join(format!("{plan}.shard{i}of{n}.jsonl")),
        None => Path::new("results").join(format!("{plan}.jsonl")),
    }
}
