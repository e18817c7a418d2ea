//! `cellucid-bench recommend --cells N --genes G [--h5ad FILE] [--budget-time 5m]
//! [--budget-disk 2GB] [--target PATH] [--results FILE…]`: the best export settings for a
//! dataset on this machine and target, within a time and disk budget.
//!
//! Calibration exports small synthetic datasets (same density as the user's) with
//! `cellucid_core::export` **in this process**, straight into the target directory:
//! 5 sizes × 12 settings (float32, 16- and 8-bit × none, gzip 1, 6, 9), three rounds in
//! a seeded order, in about 30 s on 2 cores. In-process calls are used instead of the sweep's child
//! processes because they need no input file and no cache, and the time they leave out
//! (process start, reading the `.h5ad`) is not what the settings change; the fitted
//! model (`cellucid_reports::recommend`) then predicts time, bytes and files for every
//! setting and gene panel. With `--results`, stored sweep results are used instead
//! (our writer, buffered, warm cache, on the target named by `--results-target`).
//!
//! `--writer NAME` recommends settings for another writer (a built-in or one declared
//! with `--writers FILE`): calibration then runs that writer, each export a measured
//! child process through the sweep's command machinery (`recommend_writer`), on the
//! settings it can express.

use anyhow::{bail, Context, Result};
use cellucid_core::{export, ExportOptions};
use cellucid_datasets::synthetic::{self, DatasetSpec};
use cellucid_reports::model::{Codec, Store};
use cellucid_reports::recommend::{recommend, Budget, Candidate, Model, Observation, Setting};
use cellucid_reports::report::{fmt_num, group_thousands};
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Args)]
pub struct RecommendArgs {
    /// Cells of the dataset (taken from --h5ad when given).
    #[arg(long)]
    pub cells: Option<u64>,
    /// Genes of the dataset (taken from --h5ad when given).
    #[arg(long)]
    pub genes: Option<u64>,
    /// The dataset itself: cells, genes and the expression matrix's density are read from it.
    #[arg(long)]
    pub h5ad: Option<PathBuf>,
    /// Share of non-zero expression values (gzip sizes depend on it); default 0.1, or the file's.
    #[arg(long)]
    pub density: Option<f64>,
    /// Longest acceptable export, e.g. 5m, 90s, 1h.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub budget_time: f64,
    /// Largest acceptable export folder, e.g. 2GB, 500MB.
    #[arg(long, default_value = "2GB", value_parser = parse_bytes)]
    pub budget_disk: f64,
    /// Where the export will be written (calibration writes there; default: the system temp dir).
    #[arg(long)]
    pub target: Option<PathBuf>,
    /// Use stored sweep results instead of calibrating.
    #[arg(long, num_args = 1..)]
    pub results: Vec<PathBuf>,
    /// With --results: which stored target to fit on.
    #[arg(long, default_value = "disk")]
    pub results_target: String,
    /// Recommend settings for this writer (calibration runs it as child processes).
    #[arg(long, value_name = "NAME")]
    pub writer: Option<String>,
    /// A writers file declaring more writers (repeatable).
    #[arg(long = "writers", value_name = "FILE")]
    pub writers: Vec<PathBuf>,
    /// Runs per calibration point (default 3; 1 calibrates a slow writer in a third of
    /// the time, with a noisier model).
    #[arg(long, default_value_t = CALIBRATION_REPEATS)]
    pub calibration_repeats: usize,
    /// Print the recommendation as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `5m`, `300s`, `1h`, `90` (seconds).
pub fn parse_duration(s: &str) -> Result<f64, String> {
    let s = s.trim();
    let (num, mult) = match s.chars().last() {
        Some('s') => (&s[..s.len() - 1], 1.0),
        Some('m') => (&s[..s.len() - 1], 60.0),
        Some('h') => (&s[..s.len() - 1], 3600.0),
        _ => (s, 1.0),
    };
    match num.trim().parse::<f64>() {
        Ok(v) if v > 0.0 && v.is_finite() => Ok(v * mult),
        _ => Err(format!("{s:?} is not a duration like 5m, 90s or 1h")),
    }
}

/// `2GB`, `500MB`, `1.5G`, `10k`, `123` (bytes); decimal units.
pub fn parse_bytes(s: &str) -> Result<f64, String> {
    let t = s.trim().to_ascii_uppercase();
    let t = t.strip_suffix('B').unwrap_or(&t);
    let (num, mult) = match t.chars().last() {
        Some('K') => (&t[..t.len() - 1], 1e3),
        Some('M') => (&t[..t.len() - 1], 1e6),
        Some('G') => (&t[..t.len() - 1], 1e9),
        Some('T') => (&t[..t.len() - 1], 1e12),
        _ => (t, 1.0),
    };
    match num.trim().parse::<f64>() {
        Ok(v) if v > 0.0 && v.is_finite() => Ok(v * mult),
        _ => Err(format!("{s:?} is not a size like 2GB or 500MB")),
    }
}

/// The settings calibration measures.
pub fn calibration_settings() -> Vec<Setting> {
    let mut v = Vec::new();
    for q in [None, Some(16), Some(8)] {
        for codec in [Codec::None, Codec::Gzip(1), Codec::Gzip(6), Codec::Gzip(9)] {
            v.push(Setting { var_quantization: q, codec });
        }
    }
    v
}

/// Calibration sizes (cells, genes): a 2 × 2 design plus its centre.
pub const CALIBRATION_SIZES: &[(usize, usize)] = &[(6000, 300), (24000, 300), (6000, 1200), (24000, 1200), (12000, 600)];

/// Runs per calibration point. The model fits each point's median; with three runs one
/// slow run (a busy neighbour on a shared machine) cannot move it, with two it would
/// move it halfway.
pub const CALIBRATION_REPEATS: usize = 3;

/// One in-process export of `dataset` with `setting` into a fresh directory under `target`.
pub fn measure(dataset: &cellucid_core::Dataset, cells: usize, genes: usize, setting: Setting, target: &Path) -> Result<Observation> {
    let dir = tempfile::Builder::new().prefix("cellucid-recommend-").tempdir_in(target).with_context(|| format!("cannot write into {}", target.display()))?;
    let mut opts = ExportOptions::new("calibration", "calibration", "uint8");
    opts.var_quantization = setting.var_quantization.map(i64::from);
    opts.compression = match setting.codec {
        Codec::Gzip(l) => Some(i64::from(l)),
        _ => None,
    };
    opts.created_at = Some("2024-01-01T00:00:00Z".into());
    let out = dir.path().join("export");
    let t = Instant::now();
    let report = export(dataset, &opts, &out).context("calibration export failed")?;
    let time_s = t.elapsed().as_secs_f64();
    Ok(Observation {
        setting,
        cells: cells as f64,
        genes_exported: genes as f64,
        time_s,
        bytes: report.bytes_written as f64,
        files: report.files_written as f64,
    })
}

/// The synthetic dataset calibration (and the tests) export.
pub fn synthetic_dataset(cells: usize, genes: usize, density: f64) -> Result<cellucid_core::Dataset> {
    let spec = DatasetSpec { cells, genes, density, seed: 7, ..DatasetSpec::default() };
    synthetic::generate(&spec).context("cannot generate a calibration dataset")
}

/// Exports every size × setting `repeats` times into `target`, in rounds: every point
/// once per round, each round in its own seeded order (as the sweep schedules runs), so
/// that a drift of the machine during the calibration lands on all points alike instead
/// of on whichever size happened to run then. Measured here: with the points in order
/// (each repeated back to back) the fitted model missed its own centre point by up to
/// 54 %; interleaved, every calibration point is fitted within a few %.
pub fn calibrate(target: &Path, density: f64, sizes: &[(usize, usize)], settings: &[Setting], repeats: usize) -> Result<Vec<Observation>> {
    let datasets = sizes.iter().map(|&(cells, genes)| synthetic_dataset(cells, genes, density)).collect::<Result<Vec<_>>>()?;
    let mut points: Vec<(usize, Setting)> = (0..sizes.len()).flat_map(|i| settings.iter().map(move |&s| (i, s))).collect();
    let mut rng = crate::plan::SplitMix64::new(0x5245_434f_4d4d_454e);
    let mut obs = Vec::with_capacity(points.len() * repeats);
    for _ in 0..repeats {
        rng.shuffle(&mut points);
        for &(i, s) in &points {
            let (cells, genes) = sizes[i];
            obs.push(measure(&datasets[i], cells, genes, s, target)?);
        }
    }
    Ok(obs)
}

/// Cells, genes and density of an `.h5ad` file's expression matrix.
fn describe_h5ad(path: &Path) -> Result<(u64, u64, f64)> {
    use cellucid_datasets::h5ad;
    let mapping = h5ad::Mapping::scanpy_defaults(path).with_context(|| format!("cannot map {}", path.display()))?;
    let ds = h5ad::read(path, &mapping).with_context(|| format!("cannot read {}", path.display()))?;
    let Some(x) = &ds.gene_expression else { bail!("{} has no gene expression matrix", path.display()) };
    let shape = x.shape();
    let (n, g) = (shape.first().copied().unwrap_or(0) as u64, shape.get(1).copied().unwrap_or(1) as u64);
    let nnz = match x {
        cellucid_core::Matrix::Csr(c) | cellucid_core::Matrix::Csc(c) => c.nnz() as f64,
        cellucid_core::Matrix::Coo(c) => c.data.len() as f64,
        cellucid_core::Matrix::Dense(d) => d.values.to_f64_vec().iter().filter(|v| **v != 0.0).count() as f64,
    };
    Ok((n, g, nnz / (n.max(1) * g.max(1)) as f64))
}

fn describe(c: &Candidate, genes: u64) -> String {
    let panel = if c.all_genes { format!("all {} genes", group_thousands(genes)) } else { format!("a panel of {} genes", group_thousands(c.genes_exported)) };
    format!(
        "{:<10} {:<22} {:>9} s {:>9} GB {:>9} files{}",
        c.setting,
        panel,
        fmt_num(c.prediction.time_s),
        fmt_num(c.prediction.bytes / 1e9),
        group_thousands(c.prediction.files.round().max(0.0) as u64),
        if c.within_budget { "" } else { "  (over budget)" }
    )
}

/// `--var-quantization 8 --compression 6` as prepare() arguments.
fn prepare_args(flags: &str) -> String {
    let words: Vec<&str> = flags.split_whitespace().collect();
    let args: Vec<String> = words.chunks(2).filter_map(|p| Some(format!("{}={}", p.first()?.trim_start_matches("--").replace('-', "_"), p.get(1)?))).collect();
    if args.is_empty() {
        "its defaults (float32, no compression)".into()
    } else {
        args.join(", ")
    }
}

/// In-process calibration of our exporter.
fn calibrate_here(a: &RecommendArgs, density: f64) -> Result<(Vec<Observation>, String)> {
    let t = Instant::now();
    let target = a.target.clone().unwrap_or_else(std::env::temp_dir);
    let settings = calibration_settings();
    let obs = calibrate(&target, density, CALIBRATION_SIZES, &settings, a.calibration_repeats)?;
    Ok((obs, calibration_source("calibrated", &target, settings.len(), a, density, "", t)))
}

/// What a calibration measured, for the printed "source" line.
fn calibration_source(what: &str, target: &Path, settings: usize, a: &RecommendArgs, density: f64, how: &str, t: Instant) -> String {
    format!(
        "{what} on {} ({settings} settings × {} sizes × {} runs at density {}{how}, {:.0} s)",
        target.display(),
        CALIBRATION_SIZES.len(),
        a.calibration_repeats,
        fmt_num(density),
        t.elapsed().as_secs_f64()
    )
}

/// Calibration that runs `writer` as child processes, on the settings it can express.
fn calibrate_with(writer: &crate::writer::Writer, a: &RecommendArgs, density: f64) -> Result<(Vec<Observation>, String)> {
    let t = Instant::now();
    let target = a.target.clone().unwrap_or_else(std::env::temp_dir);
    let (settings, dropped) = super::recommend_writer::supported(writer, &calibration_settings());
    for d in &dropped {
        eprintln!("{d}");
    }
    if settings.is_empty() {
        bail!("{} can express none of the calibrated settings", writer.name);
    }
    let ctx = crate::writer::Context::global(&target);
    if let Some(s) = crate::writer::run_setup(writer, &ctx).map_err(|e| anyhow::anyhow!("{e}"))? {
        eprintln!("writer {}: set up in {s:.1} s", writer.name);
    }
    let work = tempfile::Builder::new().prefix("cellucid-recommend-work-").tempdir().context("cannot create a work directory")?;
    let obs = super::recommend_writer::calibrate_writer(writer, &target, work.path(), density, CALIBRATION_SIZES, &settings, a.calibration_repeats)?;
    let version = crate::writer::probe_version(writer, &ctx).unwrap_or_else(|| "version unknown".into());
    let what = format!("calibrated {} ({version})", writer.name);
    Ok((obs, calibration_source(&what, &target, settings.len(), a, density, ", child processes", t)))
}

/// Observations from stored sweep results.
fn from_results(a: &RecommendArgs) -> Result<(Vec<Observation>, String)> {
    let mut obs = Vec::new();
    for p in &a.results {
        let store = Store::read(p).with_context(|| format!("cannot read results {}", p.display()))?;
        obs.extend(store.samples.iter().filter(|s| s.target == a.results_target).filter_map(Observation::from_sample));
    }
    if obs.is_empty() {
        bail!("the results hold no usable runs on target {:?} (see --results-target)", a.results_target);
    }
    let src = format!("fitted on {} stored runs on target {:?}", obs.len(), a.results_target);
    Ok((obs, src))
}

pub fn run(a: RecommendArgs) -> Result<ExitCode> {
    let (mut cells, mut genes, mut density) = (a.cells, a.genes, a.density);
    if let Some(p) = &a.h5ad {
        let (n, g, d) = describe_h5ad(p)?;
        cells = cells.or(Some(n));
        genes = genes.or(Some(g));
        density = density.or(Some(d));
    }
    let (Some(cells), Some(genes)) = (cells, genes) else { bail!("give --cells and --genes, or --h5ad") };
    let density = density.unwrap_or(0.1).clamp(0.001, 1.0);
    let budget = Budget { time_s: a.budget_time, disk_bytes: a.budget_disk };
    let writer = match &a.writer {
        None => None,
        Some(name) => {
            let (all, _) = super::sweep::load_writers(&a.writers, None, None)?;
            Some(all.get(name).cloned().map_err(|e| anyhow::anyhow!("--writer: {e}"))?)
        }
    };
    if a.calibration_repeats == 0 {
        bail!("--calibration-repeats must be at least 1");
    }
    let (observations, source) = match (&writer, a.results.is_empty()) {
        (Some(w), false) if w.name != crate::writer::OURS => {
            bail!("--results holds cellucid-bench's runs only; leave out --results to calibrate {} here", w.name)
        }
        (Some(w), true) => calibrate_with(w, &a, density)?,
        (None, true) => calibrate_here(&a, density)?,
        (_, false) => from_results(&a)?,
    };
    let model = Model::fit(&observations);
    let rec = recommend(&model, cells, genes, budget);
    let fit_error = |key: Setting| model.get(key).map_or(0.0, |m| m.time_fit_error);
    let writer_name = writer.as_ref().map_or(crate::writer::OURS, |w| w.name.as_str());
    let memory = PeakMemory::predict(writer_name, cells, genes, density);
    if a.json {
        let json = serde_json::json!({
            "recommendation": rec,
            "model": model,
            "source": source,
            "peak_memory_bytes": memory.peak_bytes,
            "available_ram_bytes": memory.available_bytes,
        });
        println!("{}", serde_json::to_string_pretty(&json)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} cells x {} genes (density {}), budget {} s and {} GB; {source}",
        group_thousands(cells),
        group_thousands(genes),
        fmt_num(density),
        fmt_num(budget.time_s),
        fmt_num(budget.disk_bytes / 1e9)
    );
    match &rec.best {
        Some(b) => {
            println!("\nbest:  {}", describe(b, genes));
            let panel = if b.all_genes { String::new() } else { " --gene-identifiers @panel.txt".into() };
            match &writer {
                Some(w) if w.name != crate::writer::OURS => println!("       {}: prepare() with {}{panel}", w.name, prepare_args(&b.flags)),
                _ => println!("       cellucid-bench export INPUT.h5ad OUT_DIR {}{panel}", b.flags),
            }
            println!(
                "       (the time model of {} fits its calibration points within {} %)",
                b.setting,
                fmt_num(fit_error(b.key) * 100.0)
            );
        }
        None => println!("\nnothing fits the budget, not even a 50-gene panel; the cheapest candidates are below"),
    }
    let mut others: Vec<&Candidate> = rec.runner_ups.iter().collect();
    if rec.best.is_none() {
        let mut all: Vec<&Candidate> = rec.candidates.iter().collect();
        all.sort_by(|x, y| x.cost.total_cmp(&y.cost));
        others = all.into_iter().take(5).collect();
    }
    if !others.is_empty() {
        println!("\nrunner-ups:");
        for c in others {
            println!("       {}", describe(c, genes));
        }
    }
    println!("\n{}", memory.describe(writer_name));
    // What all genes would cost, for the trade-off.
    if let Some(c) = rec.candidates.iter().filter(|c| c.all_genes).min_by(|x, y| x.cost.total_cmp(&y.cost)) {
        if rec.best.as_ref().is_none_or(|b| !b.all_genes) {
            println!("\nall genes, cheapest setting: {}", describe(c, genes));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A writer's predicted peak memory for the user's dataset, against the RAM available now.
struct PeakMemory {
    peak_bytes: u64,
    available_bytes: Option<u64>,
}

impl PeakMemory {
    /// The writer's memory model (`plan::memory`) on a dataset of this size: the matrix
    /// at `density`, the default obs and embeddings, no graph (a graph adds about 36
    /// bytes an edge).
    fn predict(writer: &str, cells: u64, genes: u64, density: f64) -> PeakMemory {
        let spec = DatasetSpec { cells: cells as usize, genes: genes as usize, density, ..DatasetSpec::default() };
        // Ours runs under its default limit (half the RAM available), spilling above it.
        let peak = crate::plan::MemoryModel::for_writer(writer).peak_bytes(&spec, Some(crate::plan::default_memory_limit()));
        PeakMemory { peak_bytes: peak as u64, available_bytes: crate::plan::available_ram_bytes() }
    }

    fn describe(&self, writer: &str) -> String {
        let gb = |b: u64| fmt_num(b as f64 / 1e9);
        let line = format!("memory: {writer} peaks at about {} GB on this dataset", gb(self.peak_bytes));
        match self.available_bytes {
            Some(avail) if self.peak_bytes > avail => format!(
                "{line}, MORE than the {} GB available now: it may be killed by the OOM killer (free memory, or export on a larger machine)",
                gb(avail)
            ),
            Some(avail) => format!("{line} ({} GB available now)", gb(avail)),
            None => line,
        }
    }
}
