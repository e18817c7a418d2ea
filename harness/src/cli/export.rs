//! `cellucid-bench export INPUT.h5ad OUT_DIR [--params FILE] [flags]`.
//!
//! Flags are named after `prepare()`'s parameters and override `--params`; the input
//! mapping flags (`--latent`, `--embedding`, …) override the params' `inputs`. Without
//! either, scanpy-style defaults apply: latent `obsm/X_pca`, `obsm/X_umap` placed by its
//! column count, `obsp/connectivities` when present.
//!
//! The read and the export run in a supervised child process (`crate::supervise`), so
//! that a corrupt input that crashes or hangs HDF5 ends in one line on stderr and a
//! non-zero exit with nothing created; `--in-process` (or `CELLUCID_EXPORT_IN_PROCESS=1`)
//! runs both here, for debugging.

use crate::params::Params;
use crate::progress::ExportProgress;
use crate::supervise::channel::{Event, Reporter};
use crate::supervise::rollback::roll_back;
use crate::supervise::verdict::Verdict;
use crate::supervise::{signals, spawn::Worker, watch, IN_PROCESS_ENV};
use anyhow::{bail, Context, Result};
use cellucid_core::{Durability, ExportOptions, ExportReport, GzipBackend};
use super::memory;
use cellucid_datasets::h5ad::{self, Mapping, ReadOptions, SpillBudget};
use clap::{Args, Parser};
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Args)]
pub struct ExportArgs {
    /// The AnnData file to export.
    pub input: PathBuf,
    /// The export folder to publish (replaced atomically with --force).
    pub out_dir: PathBuf,
    /// prepare() parameters and the `inputs` mapping, as JSON.
    #[arg(long)]
    pub params: Option<PathBuf>,

    // --- prepare() parameters ---
    #[arg(long, value_name = "8|16")]
    pub var_quantization: Option<i64>,
    #[arg(long, value_name = "8|16")]
    pub obs_continuous_quantization: Option<i64>,
    /// uint8 or uint16 (default: uint8 when every categorical field fits, else uint16).
    #[arg(long)]
    pub obs_categorical_dtype: Option<String>,
    /// gzip level 1-9.
    #[arg(long, value_name = "1-9")]
    pub compression: Option<i64>,
    /// Genes to export, comma-separated, or @FILE with one per line.
    #[arg(long, value_name = "LIST|@FILE")]
    pub gene_identifiers: Option<String>,
    /// obs columns to export, comma-separated, or @FILE.
    #[arg(long, value_name = "LIST|@FILE")]
    pub obs_keys: Option<String>,
    #[arg(long)]
    pub var_gene_id_column: Option<String>,
    /// A number in (0.5, 1), or `none`.
    #[arg(long)]
    pub centroid_outlier_quantile: Option<String>,
    #[arg(long)]
    pub centroid_min_points: Option<i64>,
    /// Display name (default: the input file's stem).
    #[arg(long)]
    pub dataset_name: Option<String>,
    /// Portable id (default: derived from the input file's stem).
    #[arg(long)]
    pub dataset_id: Option<String>,
    #[arg(long)]
    pub dataset_description: Option<String>,
    /// YYYY-MM-DDTHH:MM:SSZ (default: now, UTC).
    #[arg(long)]
    pub created_at: Option<String>,
    #[arg(long)]
    pub source_name: Option<String>,
    #[arg(long)]
    pub source_url: Option<String>,
    #[arg(long)]
    pub source_citation: Option<String>,
    #[arg(long)]
    pub vector_field_default: Option<String>,
    /// Replace a non-empty out_dir (atomically).
    #[arg(long)]
    pub force: bool,

    // --- input mapping ---
    /// Latent space location, e.g. obsm/X_pca.
    #[arg(long, value_name = "obsm/KEY")]
    pub latent: Option<String>,
    /// Embedding, e.g. 2d=obsm/X_umap (repeatable).
    #[arg(long, value_name = "Nd=obsm/KEY")]
    pub embedding: Vec<String>,
    /// Connectivities, e.g. obsp/connectivities.
    #[arg(long, value_name = "obsp/KEY")]
    pub connectivities: Option<String>,
    /// Vector field, e.g. velocity_umap_2d=obsm/velocity_umap (repeatable).
    #[arg(long, value_name = "KEY=obsm/KEY")]
    pub vector_field: Vec<String>,
    /// Gene matrix location (X or layers/KEY); `none` exports no genes.
    #[arg(long, value_name = "X|layers/KEY|none")]
    pub genes: Option<String>,

    // --- the writer's own knobs ---
    /// fsync every file and directory before publishing.
    #[arg(long)]
    pub durable: bool,
    /// Deflate implementation: auto (libdeflate, quantized genes run-length coded),
    /// libdeflate, zlib-rs, miniz.
    #[arg(long, default_value = "auto", value_parser = ["auto", "libdeflate", "zlib-rs", "miniz"])]
    pub gzip_backend: String,
    /// What-if: zstd payloads at this level instead of gzip (not loadable by the viewer).
    #[arg(long, value_name = "1-22")]
    pub zstd_what_if: Option<i32>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Memory budget, e.g. 4G or 512M (default: half of the available RAM). A CSR gene
    /// matrix larger than half of it is transposed out of core through spill files.
    #[arg(long, value_name = "SIZE")]
    pub memory_limit: Option<String>,
    /// Where spill files go (default: the out_dir's parent); removed on every exit.
    #[arg(long, value_name = "DIR")]
    pub scratch_dir: Option<PathBuf>,
    /// Print the ExportReport as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// No summary and no progress bar.
    #[arg(long, short)]
    pub quiet: bool,

    // --- supervision ---
    /// Read and export in this process, not a supervised child (debugging; also
    /// CELLUCID_EXPORT_IN_PROCESS=1). A crash in HDF5 then takes the CLI with it.
    #[arg(long)]
    pub in_process: bool,
    /// Stop reading an input that makes no progress (no bytes read) for this long.
    #[arg(long, value_name = "SECONDS", default_value_t = 120.0)]
    pub read_timeout: f64,
}

fn list_arg(s: &str) -> Result<Vec<String>> {
    if let Some(path) = s.strip_prefix('@') {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read list file {path}"))?;
        return Ok(text.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect());
    }
    Ok(s.split(',').map(str::trim).filter(|x| !x.is_empty()).map(String::from).collect())
}

/// A portable dataset id from a file stem: invalid characters become `-`.
fn id_from_stem(stem: &str) -> String {
    let mut id: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '-' })
        .collect();
    while id.ends_with('.') {
        id.pop();
    }
    if !id.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        id.insert(0, 'd');
    }
    id.truncate(180);
    id
}

/// The input mapping `export` reads with (public so that other writers' drivers can be
/// tested against exactly what this CLI takes from a file: harness/tests/r_driver.rs).
pub fn mapping(a: &ExportArgs, params: Option<&Params>) -> Result<Mapping> {
    let mut m = match params.filter(|p| p.inputs.is_some()) {
        Some(p) => Mapping::from_params_text(&p.text).context("params.json inputs")?,
        None => Mapping::scanpy_defaults(&a.input).with_context(|| format!("cannot inspect {}", a.input.display()))?,
    };
    if let Some(l) = &a.latent {
        m.latent_space = Some(l.clone());
    }
    for e in &a.embedding {
        let Some((dim, loc)) = e.split_once('=') else { bail!("--embedding {e:?}: expected Nd=obsm/KEY") };
        let d: usize = match dim {
            "1d" => 1,
            "2d" => 2,
            "3d" => 3,
            _ => bail!("--embedding {e:?}: the dimension must be 1d, 2d or 3d"),
        };
        m.x_umap[d - 1] = Some(loc.to_string());
    }
    if let Some(c) = &a.connectivities {
        m.connectivities = if c == "none" { None } else { Some(c.clone()) };
    }
    for v in &a.vector_field {
        let Some((key, loc)) = v.split_once('=') else { bail!("--vector-field {v:?}: expected KEY=obsm/KEY") };
        m.vector_fields.push((key.to_string(), loc.to_string()));
    }
    if let Some(g) = &a.genes {
        m.gene_expression = if g == "none" { None } else { Some(g.clone()) };
    }
    Ok(m)
}

/// The `ExportOptions` `export` exports with, defaults included (public for the same reason).
pub fn options(a: &ExportArgs, params: Option<&Params>, dataset: &cellucid_core::Dataset) -> Result<ExportOptions> {
    let stem = a.input.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "dataset".into());
    let mut o = ExportOptions::new(stem.clone(), id_from_stem(&stem), "");
    if let Some(p) = params {
        p.apply(&mut o)?;
    }
    macro_rules! set {
        ($field:ident) => {
            if let Some(v) = &a.$field {
                o.$field = Some(v.clone());
            }
        };
    }
    set!(var_quantization);
    set!(obs_continuous_quantization);
    set!(compression);
    set!(var_gene_id_column);
    set!(dataset_description);
    set!(created_at);
    set!(source_name);
    set!(source_url);
    set!(source_citation);
    set!(vector_field_default);
    if let Some(v) = &a.obs_categorical_dtype {
        o.obs_categorical_dtype = v.clone();
    }
    if let Some(v) = &a.dataset_name {
        o.dataset_name = v.clone();
    }
    if let Some(v) = &a.dataset_id {
        o.dataset_id = v.clone();
    }
    if let Some(v) = &a.gene_identifiers {
        o.gene_identifiers = Some(list_arg(v)?);
    }
    if let Some(v) = &a.obs_keys {
        o.obs_keys = Some(list_arg(v)?);
    }
    if let Some(v) = &a.centroid_outlier_quantile {
        o.centroid_outlier_quantile = if v == "none" {
            None
        } else {
            Some(v.parse().with_context(|| format!("--centroid-outlier-quantile {v:?} is not a number"))?)
        };
    }
    if let Some(v) = a.centroid_min_points {
        o.centroid_min_points = v;
    }
    if a.force {
        o.force = true;
    }
    if o.obs_categorical_dtype.is_empty() {
        o.obs_categorical_dtype = auto_categorical_dtype(dataset).to_string();
    }
    if a.zstd_what_if.is_some() {
        o.zstd_what_if = a.zstd_what_if;
    }
    o.durability = if a.durable { Durability::Durable } else { Durability::Buffered };
    o.gzip_backend = match a.gzip_backend.as_str() {
        "auto" => GzipBackend::Auto,
        "zlib-rs" => GzipBackend::ZlibRs,
        "libdeflate" => GzipBackend::Libdeflate,
        "miniz" => GzipBackend::Miniz,
        other => bail!("--gzip-backend {other:?}: expected auto, libdeflate, zlib-rs or miniz"),
    };
    Ok(o)
}

/// uint8 when every categorical-kind obs column has at most 255 categories.
fn auto_categorical_dtype(ds: &cellucid_core::Dataset) -> &'static str {
    use cellucid_core::ObsData;
    let fits = ds.obs.as_ref().is_none_or(|f| {
        f.columns.iter().all(|c| match &c.data {
            ObsData::Categorical { categories, .. } => categories.len() <= 255,
            ObsData::Strings(v) => {
                let mut s: Vec<&String> = v.iter().flatten().collect();
                s.sort();
                s.dedup();
                s.len() <= 255
            }
            _ => true,
        })
    });
    if fits {
        "uint8"
    } else {
        "uint16"
    }
}

pub fn run(a: ExportArgs) -> Result<ExitCode> {
    let in_process_env = std::env::var_os(IN_PROCESS_ENV).is_some_and(|v| !v.is_empty() && v != "0");
    if a.in_process || in_process_env {
        return run_here(a, &Reporter::none());
    }
    supervised(a)
}

/// The parent: start the worker with this command line, relay its progress, and end as
/// it ended — or, if it died, roll back and print one line.
fn supervised(a: ExportArgs) -> Result<ExitCode> {
    if !(a.read_timeout.is_finite() && a.read_timeout > 0.0) {
        bail!("--read-timeout {}: expected a positive number of seconds", a.read_timeout);
    }
    let argv: Vec<OsString> = std::env::args_os().collect();
    if argv.get(1).is_none_or(|s| s != "export") {
        bail!("internal: the export supervisor expects `cellucid-bench export ARGS…`");
    }
    memory::limit(a.memory_limit.as_deref())?;
    signals::install().context("cannot install signal handlers")?;
    let worker = Worker::start(&argv[2..]).context("cannot start the export worker")?;
    let pid = worker.child.id();
    let bar = ExportProgress::new(!a.quiet && !a.json);
    let ended = watch::watch(worker, Duration::from_secs_f64(a.read_timeout), &|p| bar.event(p));
    bar.finish();
    // Whatever the worker's end, nothing of its spill may remain (a killed worker
    // cannot clean up after itself).
    memory::remove_leftover_spills(&memory::scratch_dir(a.scratch_dir.as_deref(), &a.out_dir), pid);
    let ended = ended.context("lost the export worker")?;
    match Verdict::of(&ended, &a.input, Duration::from_secs_f64(a.read_timeout)) {
        Verdict::Exited { code, stderr } => {
            let _ = std::io::stderr().write_all(&stderr);
            Ok(ExitCode::from(code))
        }
        Verdict::Interrupted(sig) => {
            // The worker rolls back on these signals itself; this covers one that died first.
            let _ = roll_back(&a.out_dir);
            signals::die_by(sig)
        }
        Verdict::Died(line) => match roll_back(&a.out_dir) {
            Ok(_) => bail!("{line}"),
            Err(e) => bail!("{line}; {e}"),
        },
    }
}

/// The worker: `cellucid-bench __export-worker ARGS…` (ARGS as given to `export`).
pub fn worker_main(args: &[OsString]) -> ExitCode {
    #[derive(Parser)]
    #[command(name = "cellucid-bench export")]
    struct Worker {
        #[command(flatten)]
        args: ExportArgs,
    }
    let parsed = Worker::parse_from(std::iter::once(OsString::from("export")).chain(args.iter().cloned()));
    let reporter: &'static Reporter = Box::leak(Box::new(Reporter::from_env()));
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let at = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        reporter.send(&Event::Panic(format!("{at}: {msg}")));
        default_hook(info);
    }));
    crate::exit_code(run_here(parsed.args, reporter))
}

/// Read and export in this process, reporting to `reporter`.
fn run_here(a: ExportArgs, reporter: &Reporter) -> Result<ExitCode> {
    // SIGINT/SIGTERM/SIGHUP roll the export back (stage, journal) before the process dies of them.
    cellucid_core::publish::roll_back_on_signals().context("cannot install the signal rollback")?;
    reporter.send(&Event::Reading);
    if let Some(t) = a.threads {
        // One thread: this one. A pool with one worker would leave this thread waiting on
        // the worker's latch, and how often that wait wakes up depends on scheduling,
        // which made the instruction counts of `ci --counter instructions` differ
        // between runs of the same binary.
        let pool = rayon::ThreadPoolBuilder::new().num_threads(t);
        let pool = if t == 1 { pool.use_current_thread() } else { pool };
        pool.build_global().context("cannot configure threads")?;
    }
    let params = a.params.as_deref().map(Params::read).transpose()?;
    let mapping = mapping(&a, params.as_ref())?;
    let limit = memory::limit(a.memory_limit.as_deref())?;
    let started = cellucid_core::report::monotonic_ns();
    let read_options = read_options(&a, params.as_ref(), &mapping, limit)?;
    let (dataset, spilled) = h5ad::read_for_export(&a.input, &mapping, &read_options)
        .with_context(|| format!("cannot read {}", a.input.display()))?;
    // Integer nanoseconds: `Instant` arithmetic branches on the readings (see
    // `cellucid_core::report::process_cpu_ns`).
    let read_time = std::time::Duration::from_nanos(cellucid_core::report::monotonic_ns().saturating_sub(started));
    let options = options(&a, params.as_ref(), &dataset)?;
    let bar = ExportProgress::new(!a.quiet && !a.json);
    let blocks = spilled.as_deref().map(|s| s as &dyn cellucid_core::ColumnBlocks);
    let report = cellucid_core::export_with_blocks(&dataset, blocks, &options, &a.out_dir, &|p| {
        reporter.progress(p);
        bar.event(p)
    });
    bar.finish();
    let by_blocks = spilled.is_some();
    drop(spilled);
    let report = report?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if !a.quiet {
        print_summary(&a.out_dir, &report, read_time, limit, a.memory_limit.is_none(), by_blocks);
    }
    Ok(ExitCode::SUCCESS)
}

/// How the gene matrix is read: as CSC, only a panel's columns (when the panel is one
/// the export accepts), and spilled beyond half the memory limit.
fn read_options(a: &ExportArgs, params: Option<&Params>, mapping: &Mapping, limit: u64) -> Result<ReadOptions> {
    let mut ro = ReadOptions { x_as_csc: true, ..ReadOptions::default() };
    let Some(_) = &mapping.gene_expression else { return Ok(ro) };
    // The panel and id column do not depend on the dataset (only the categorical
    // dtype's default does, which is not used here).
    let o = options(a, params, &cellucid_core::Dataset::default())?;
    if o.gene_identifiers.is_some() {
        // A var that cannot be read fails the full read below with the same message.
        if let Ok(var) = h5ad::read_var(&a.input) {
            ro.x_columns = cellucid_core::stage::genes::panel_columns(&var, &o);
        }
    }
    let scratch_dir = memory::scratch_dir(a.scratch_dir.as_deref(), &a.out_dir);
    ro.x_budget = Some(SpillBudget { bytes: limit / 2, scratch_dir });
    Ok(ro)
}

fn print_summary(out: &Path, r: &ExportReport, read_time: std::time::Duration, limit: u64, default_limit: bool, by_blocks: bool) {
    println!(
        "exported {} cells, {} genes{} to {}",
        r.n_cells,
        r.n_genes,
        r.n_edges.map(|e| format!(", {e} edges")).unwrap_or_default(),
        out.display()
    );
    println!(
        "  {} files, {:.1} MB on disk ({:.1} MB before compression), {:.2} s (+{:.2} s reading), {} threads",
        r.files_written,
        r.bytes_written as f64 / 1e6,
        r.raw_bytes as f64 / 1e6,
        r.wall.as_secs_f64(),
        read_time.as_secs_f64(),
        r.threads
    );
    let parts: Vec<String> = r
        .phases
        .iter()
        .filter(|p| p.wall.as_secs_f64() >= 0.0005)
        .map(|p| format!("{} {:.3}s", p.phase.name(), p.wall.as_secs_f64()))
        .collect();
    println!("  phases: {}", parts.join(", "));
    let spill = if r.spill_bytes > 0 {
        format!(", gene matrix spilled out of core: {}", memory::human(r.spill_bytes))
    } else if by_blocks {
        ", gene matrix read from the file by column blocks".to_string()
    } else {
        ", gene matrix in memory".to_string()
    };
    let origin = if default_limit { " (default: half of the available RAM)" } else { "" };
    println!("  memory limit {}{origin}{spill}", memory::human(limit));
}
