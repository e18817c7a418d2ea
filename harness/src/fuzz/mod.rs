//! A fuzzer of our own for the `.h5ad` reader and the CLI: seeded mutants of real files,
//! each exported by the real binary, each outcome classified.
//!
//! A mutant is a seed file (the golden inputs, `pbmc68k_reduced.h5ad`, or any `.h5ad`)
//! changed once, either in its structure with the `hdf5` crate (`mutate_structure`) or
//! in its bytes (`mutate_bytes`). Mutant `i` of seed `S` depends on `(S, i)` only, so any
//! mutant can be rebuilt alone (`--only i`) and parallel runs are reproducible. Each is
//! exported by `cellucid-bench export` as a child with a hard timeout and classified by
//! `run`; `summary` tallies.
//!
//! Module map: `mutate_bytes`, `mutate_structure`, `run` (run and classify), `summary`.

pub mod mutate_bytes;
pub mod mutate_structure;
pub mod run;
pub mod summary;

use crate::plan::SplitMix64;
use anyhow::{Context, Result};
use run::{Outcome, Runner};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use summary::{Record, Summary};

/// A file mutants are made from, and the export parameters that go with it.
#[derive(Clone, Debug)]
pub struct SeedFile {
    pub input: PathBuf,
    /// `params.json` beside a golden `input.h5ad`, so that its mapping and settings apply.
    pub params: Option<PathBuf>,
}

/// One fuzzing run.
pub struct Config {
    pub seed: u64,
    pub mutants: usize,
    /// Run only this mutant index (reproduction).
    pub only: Option<usize>,
    /// Stop starting mutants after this long.
    pub max_time: Option<Duration>,
    pub keep_failures: Option<PathBuf>,
    pub seed_files: Vec<SeedFile>,
    pub runner: Runner,
    pub jobs: usize,
}

/// Seed files from paths: `.h5ad` files, and directories searched two levels deep.
pub fn seed_files(paths: &[PathBuf]) -> Result<Vec<SeedFile>> {
    let mut found = Vec::new();
    for p in paths {
        collect(p, 2, &mut found).with_context(|| format!("cannot read {}", p.display()))?;
    }
    found.sort_by(|a: &SeedFile, b| a.input.cmp(&b.input));
    found.dedup_by(|a, b| a.input == b.input);
    Ok(found)
}

fn collect(p: &Path, depth: usize, out: &mut Vec<SeedFile>) -> std::io::Result<()> {
    if p.is_dir() {
        if depth > 0 {
            for e in std::fs::read_dir(p)? {
                collect(&e?.path(), depth - 1, out)?;
            }
        }
    } else if p.extension().is_some_and(|e| e == "h5ad") {
        let params = p.with_file_name("params.json");
        out.push(SeedFile { input: p.to_path_buf(), params: params.is_file().then_some(params) });
    } else if !p.exists() {
        return Err(std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or directory"));
    }
    Ok(())
}

/// The generator of mutant `i`: independent of every other mutant.
fn rng_for(seed: u64, i: usize) -> SplitMix64 {
    let mut r = SplitMix64::new(seed ^ (i as u64).wrapping_mul(0xD1B5_4A32_D192_ED03));
    r.next_u64();
    r
}

/// Writes mutant `i` to `path`; returns (seed file, kind, description).
pub fn make_mutant<'a>(cfg: &'a Config, i: usize, path: &Path) -> Result<(&'a SeedFile, &'static str, String)> {
    let mut rng = rng_for(cfg.seed, i);
    let seed = &cfg.seed_files[rng.below(cfg.seed_files.len())];
    let original = std::fs::read(&seed.input).with_context(|| format!("cannot read {}", seed.input.display()))?;
    if rng.below(2) == 0 {
        std::fs::write(path, &original)?;
        if let Ok(what) = mutate_structure::mutate(path, &mut rng) {
            return Ok((seed, "structure", what));
        }
    }
    let mut bytes = original;
    let what = mutate_bytes::mutate(&mut bytes, &mut rng);
    std::fs::write(path, &bytes)?;
    Ok((seed, "bytes", what))
}

/// Runs the mutants on `cfg.jobs` threads; `report` sees each record as it completes.
pub fn run(cfg: &Config, report: &(dyn Fn(&Record) + Sync)) -> Result<Summary> {
    anyhow::ensure!(!cfg.seed_files.is_empty(), "no seed files (.h5ad) to mutate");
    if let Some(dir) = &cfg.keep_failures {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let indices: Vec<usize> = match cfg.only {
        Some(i) => vec![i],
        None => (0..cfg.mutants).collect(),
    };
    let scratch = tempfile::Builder::new().prefix("cellucid-fuzz-").tempdir()?;
    let summary = Mutex::new(Summary::new(cfg.seed, indices.len(), cfg.seed_files.len()));
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    let first_error: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..cfg.jobs.max(1) {
            s.spawn(|| loop {
                if cfg.max_time.is_some_and(|t| started.elapsed() >= t) {
                    break;
                }
                let Some(&i) = indices.get(next.fetch_add(1, Ordering::SeqCst)) else { break };
                match run_one(cfg, i, scratch.path()) {
                    Ok(r) => {
                        report(&r);
                        lock(&summary).add(r);
                    }
                    Err(e) => {
                        lock(&first_error).get_or_insert(e.context(format!("mutant {i}")));
                        break;
                    }
                }
            });
        }
    });
    if let Some(e) = lock(&first_error).take() {
        return Err(e);
    }
    let mut summary = summary.into_inner().unwrap_or_else(|p| p.into_inner());
    summary.seconds = started.elapsed().as_secs_f64();
    summary.capped = summary.run < indices.len();
    Ok(summary)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Makes, runs and (if notable) saves mutant `i`; its files in `scratch` are removed.
fn run_one(cfg: &Config, i: usize, scratch: &Path) -> Result<Record> {
    let dir = tempfile::Builder::new().prefix(&format!("m{i}-")).tempdir_in(scratch)?;
    let mutant = dir.path().join("mutant.h5ad");
    let out = dir.path().join("out");
    let (seed, kind, mutation) = make_mutant(cfg, i, &mutant)?;
    let t = Instant::now();
    let r = cfg.runner.run(&mutant, seed.params.as_deref(), &out).context("cannot run the CLI")?;
    let mut record = Record {
        index: i,
        seed_file: seed.input.display().to_string(),
        kind,
        mutation,
        outcome: r.outcome,
        exit_code: r.code,
        signal: r.signal,
        stderr: r.stderr.chars().take(300).collect(),
        detail: r.detail,
        seconds: t.elapsed().as_secs_f64(),
        saved: None,
    };
    if let (Some(keep), false) = (&cfg.keep_failures, matches!(r.outcome, Outcome::Ok | Outcome::CleanError)) {
        record.saved = Some(save(cfg, keep, &mutant, seed, &record)?);
    }
    Ok(record)
}

/// `DIR/mutant-S-I.h5ad` and a `.txt` beside it saying what it is and how to rerun it.
fn save(cfg: &Config, keep: &Path, mutant: &Path, seed: &SeedFile, r: &Record) -> Result<String> {
    let stem = format!("mutant-{}-{}", cfg.seed, r.index);
    let file = keep.join(format!("{stem}.h5ad"));
    std::fs::copy(mutant, &file).with_context(|| format!("cannot save {}", file.display()))?;
    let params = seed.params.as_ref().map(|p| format!(" --params {}", p.display())).unwrap_or_default();
    let note = format!(
        "outcome: {}\nseed file: {}\nmutation ({}): {}\nexit code: {:?}, signal: {:?}\n{}\nstderr:\n{}\n\nreproduce:\n  cellucid-bench export {}{params} /tmp/{stem}-out\n  cellucid-bench fuzz --seed {} --only {} (with the run's --corpus; the seed file is {})\n",
        r.outcome.name(),
        r.seed_file,
        r.kind,
        r.mutation,
        r.exit_code,
        r.signal,
        r.detail,
        r.stderr,
        file.display(),
        cfg.seed,
        r.index,
        seed.input.display(),
    );
    std::fs::write(keep.join(format!("{stem}.txt")), note)?;
    Ok(file.display().to_string())
}
