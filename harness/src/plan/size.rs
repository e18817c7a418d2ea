//! Sizing a plan before running it: how many runs, roughly how long, how much disk.
//!
//! The time model is deliberately simple and documented here, calibrated on the
//! development machine (2 cores, tmpfs and an ext4 virtual disk) with the release
//! build: a 20,000 × 2,000 export at density 0.1 took 0.27 s as f32 plain, 0.29 s q8
//! plain, 0.42 s q8 gzip 1, 0.61 s q8 gzip 6, 2.2 s q8 gzip 9 and 0.04 s for 5,000 × 500;
//! the reference writer took 3.0 s (f32 plain) and 4.3 s (q8 gzip 6), of which ~0.85 s
//! is importing Python packages.
//!
//! For one run of "ours", with `v = cells × exported genes` values and `b = v × bytes per
//! value` raw payload bytes:
//!
//! ```text
//! work    = v × 12 ns  +  b × codec_ns            (CPU core-seconds; codec_ns per raw byte:
//!                                                  none 0, gzip 1: 6.5, 2–3: 9, 4–6: 16.5,
//!                                                  7–8: 50, 9: 98; zstd ≤3: 3, ≤9: 10,
//!                                                  ≤15: 30, else 120)
//! seconds = 0.03 + work / (cores × speed)  +  io
//! io      = written bytes × target_ns  +  files × per_file
//!           (written = b, or 0.3 b when compressed; target_ns: tmpfs 0, sshfs 10, other
//!            0.7; per_file: sshfs 1.5 ms + 8 × its added one-way latency (170 ms a
//!            file was measured at 20 ms); durable adds 1 ms per
//!            file off tmpfs; a cold cache adds reading the input at 500 MB/s)
//! ```
//!
//! Every other writer is modelled as the reference is, single-threaded:
//! `seconds = 1.0 + reference_factor × work / speed + io` (`reference_factor` 3.5 by
//! default, from the measurements above). A writer calibrated on its own runs (see
//! [`WriterFit`]; the sweep fits it on a writer's first runs, or on stored results) is
//! predicted as `fixed_s + scale × (the model's variable part)` instead.
//! Generating each distinct dataset once costs `0.05 + nnz × 160 ns / (cores × speed)`
//! (+ `cells × k × 1 µs` for a kNN graph), writing its `.h5ad` included.
//!
//! Disk: the largest single export, uncompressed, plus 1 GiB for the physical floor's
//! scratch files (it measures at most 512 MiB of an export, see `measure::floor`), plus the
//! `.h5ad` of every distinct dataset (kept in the dataset cache).
//!
//! Memory (what one sweep process and its runs hold at once, for a batch job's `--mem`):
//! per cell, the larger of one run's peak RSS and the floor's (the decoded payloads it
//! compresses, at most 1 GiB as the floor samples 512 MiB on disk; on a tmpfs also its
//! scratch files, at most 512 MiB), plus the whole uncompressed export when the target
//! is a tmpfs (its pages are RAM, and a job's memory limit counts them), plus 128 MiB for
//! the sweep process; the plan's figure is its largest cell's. A run's peak RSS is its
//! writer's [`MemoryModel`] (ours ~1.0× the matrix, cellucid 0.9.2 ~2×, fitted on every
//! stored run; see `plan::memory`), refitted on the writer's own runs when the sweep has
//! them. Cells whose predicted peak exceeds the RAM available now are listed in
//! [`PlanSize::over_memory`], so the sweep warns before it runs them.

use super::memory::MemoryScales;
use super::{Cell, Codec, Durability, Plan};
use std::collections::BTreeMap;
use cellucid_datasets::synthetic::{DatasetSpec, GraphSpec};
use std::collections::HashSet;
use std::fmt;

/// What the machine offers, for [`Plan::size`].
#[derive(Clone, Debug, PartialEq)]
pub struct MachineBudget {
    /// Cores the exporter may use.
    pub cores: usize,
    /// Per-core speed relative to the calibration machine (1.0 = the same).
    pub speed: f64,
    /// How many times more CPU time the reference writer needs for the same export.
    pub reference_factor: f64,
    /// Free space where exports and datasets go, when known.
    pub free_disk_bytes: Option<u64>,
    /// Writers calibrated on their own runs, by name.
    pub writer_fits: BTreeMap<String, WriterFit>,
    /// RAM available to runs, when known (`MemAvailable`).
    pub ram_bytes: Option<u64>,
    /// Per-writer peak-memory margins refitted on their own runs.
    pub memory_scales: MemoryScales,
}

/// A writer's own time model: `seconds = fixed_s + scale × variable`, where `variable` is
/// the default model's size-dependent part (work and io) for that writer. Fitted on
/// measured runs by [`WriterFit::fit`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WriterFit {
    pub fixed_s: f64,
    pub scale: f64,
    /// Runs (distinct cells) it was fitted on.
    pub points: usize,
}

impl WriterFit {
    /// Fits `(default model's fixed part, variable part, measured seconds)` points. With
    /// two or more distinct variable parts both coefficients are fitted (least squares;
    /// kept when both are positive); otherwise the variable part is the default model's
    /// and the median of what the runs took beyond it is the fixed part. `None` without
    /// points.
    pub fn fit(points: &[(f64, f64, f64)]) -> Option<WriterFit> {
        let n = points.len();
        let first = points.first()?;
        let spread = points.iter().any(|p| (p.1 - first.1).abs() > 1e-3 * first.1.abs().max(1e-9));
        if n >= 2 && spread {
            let mx = points.iter().map(|p| p.1).sum::<f64>() / n as f64;
            let my = points.iter().map(|p| p.2).sum::<f64>() / n as f64;
            let sxy: f64 = points.iter().map(|p| (p.1 - mx) * (p.2 - my)).sum();
            let sxx: f64 = points.iter().map(|p| (p.1 - mx).powi(2)).sum();
            let scale = sxy / sxx;
            let fixed = my - scale * mx;
            if scale > 0.0 && fixed >= 0.0 {
                return Some(WriterFit { fixed_s: fixed, scale, points: n });
            }
        }
        // One size (or a fit that makes no sense, e.g. the larger cell ran faster): the
        // default per-value cost, and what the runs took beyond it is start-up. On small
        // cells the start-up dominates (Python's imports: 1 s quiet, 4-5 s on a loaded
        // machine); scaling the per-value cost by it instead predicted a 20k x 2k
        // reference export at 63 s that takes 6.
        // Runs faster than the default per-value cost alone say that cost is too high:
        // it is scaled down to them (0.9.2's 200k x 20k f32 run took 83 s where the
        // default model said 180 s; unscaled, its 500k cell was predicted at 449 s a run
        // and skipped, where it takes 110 s).
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let start = median(points.iter().map(|&(_, v, y)| y - v).collect());
        if start < 0.0 {
            let scale = median(points.iter().map(|&(_, v, y)| if v > 0.0 { y / v } else { 1.0 }).collect());
            return Some(WriterFit { fixed_s: 0.0, scale, points: n });
        }
        Some(WriterFit { fixed_s: start, scale: 1.0, points: n })
    }
}

impl Default for MachineBudget {
    /// The calibration machine: 2 cores, speed 1.
    fn default() -> Self {
        MachineBudget {
            cores: 2,
            speed: 1.0,
            reference_factor: 3.5,
            free_disk_bytes: None,
            writer_fits: BTreeMap::new(),
            ram_bytes: None,
            memory_scales: MemoryScales::default(),
        }
    }
}

impl MachineBudget {
    /// This machine's core count and available RAM, the calibration speed, disk unknown.
    pub fn detect() -> MachineBudget {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        MachineBudget { cores, ram_bytes: super::memory::available_ram_bytes(), ..MachineBudget::default() }
    }
}

/// The size of a plan.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanSize {
    pub cells: usize,
    /// Timed runs (with adaptive repeats: the most each cell may take) plus the warm-ups
    /// of the cells that get them.
    pub runs: usize,
    pub timed_runs: usize,
    /// Distinct datasets to generate.
    pub datasets: usize,
    pub run_seconds: f64,
    pub generation_seconds: f64,
    /// `run_seconds + generation_seconds`.
    pub estimated_seconds: f64,
    /// The largest single export, uncompressed.
    pub largest_export_bytes: u64,
    /// All distinct datasets as `.h5ad`.
    pub dataset_bytes: u64,
    /// `largest_export_bytes + 1 GiB + dataset_bytes`.
    pub disk_bytes: u64,
    /// The most memory the sweep and one run hold at once (see the module's "Memory").
    pub memory_bytes: u64,
    /// Whether `disk_bytes` fits the budget's free disk, when that is known.
    pub fits_disk: Option<bool>,
    /// Cells whose predicted memory (their run with the sweep, see "Memory") exceeds
    /// the budget's RAM, with that prediction; empty when the RAM is unknown.
    pub over_memory: Vec<(String, u64)>,
    /// The same estimate per `[[block]]`, in plan order (generation not included).
    pub blocks: Vec<BlockSize>,
}

/// One block's share of a [`PlanSize`].
#[derive(Clone, Debug, PartialEq)]
pub struct BlockSize {
    pub name: String,
    pub cells: usize,
    pub run_seconds: f64,
    /// The block's slowest cell (all its runs) and that cell's label.
    pub slowest_cell_seconds: f64,
    pub slowest_cell: String,
}

impl fmt::Display for PlanSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} cells, {} runs ({} timed), {} datasets; about {} ({} running, {} generating); disk {} \
             (largest export {}, datasets {}); memory {}",
            self.cells,
            self.runs,
            self.timed_runs,
            self.datasets,
            human_duration(self.estimated_seconds),
            human_duration(self.run_seconds),
            human_duration(self.generation_seconds),
            bytes(self.disk_bytes),
            bytes(self.largest_export_bytes),
            bytes(self.dataset_bytes),
            bytes(self.memory_bytes),
        )?;
        if self.fits_disk == Some(false) {
            f.write_str(" — does NOT fit the free disk")?;
        }
        if !self.over_memory.is_empty() {
            write!(f, " — {} cell(s) may NOT fit in RAM", self.over_memory.len())?;
        }
        Ok(())
    }
}

/// `42 s`, `17 min`, `3.2 h`: a duration as the sizing prints it.
pub fn human_duration(s: f64) -> String {
    if s < 120.0 {
        format!("{s:.0} s")
    } else if s < 7200.0 {
        format!("{:.0} min", s / 60.0)
    } else {
        format!("{:.1} h", s / 3600.0)
    }
}

fn bytes(b: u64) -> String {
    let b = b as f64;
    if b < 1e9 {
        format!("{:.0} MB", b / 1e6)
    } else {
        format!("{:.1} GB", b / 1e9)
    }
}

fn codec_ns(c: Codec) -> f64 {
    match c {
        Codec::None => 0.0,
        Codec::Gzip(1) => 6.5,
        Codec::Gzip(2..=3) => 9.0,
        Codec::Gzip(4..=6) => 16.5,
        Codec::Gzip(7..=8) => 50.0,
        Codec::Gzip(_) => 98.0,
        Codec::Zstd(l) if l <= 3 => 3.0,
        Codec::Zstd(l) if l <= 9 => 10.0,
        Codec::Zstd(l) if l <= 15 => 30.0,
        Codec::Zstd(_) => 120.0,
    }
}

fn bytes_per_value(q: Option<u8>) -> f64 {
    match q {
        Some(8) => 1.0,
        Some(16) => 2.0,
        _ => 4.0,
    }
}

fn nnz(d: &DatasetSpec) -> f64 {
    d.cells as f64 * d.genes as f64 * d.density
}

fn edges(d: &DatasetSpec) -> f64 {
    match d.graph {
        GraphSpec::None => 0.0,
        // Symmetrised: between k and 2k entries per cell.
        GraphSpec::Knn { k } => d.cells as f64 * k as f64 * 1.5,
        GraphSpec::Density { edges_per_cell } => d.cells as f64 * edges_per_cell * 2.0,
    }
}

/// Per-byte and per-file costs of a target name, and whether it is tmpfs. sshfs over
/// loopback costs ~1.5 ms a file (3.5 s for 2,011 files measured); an added latency
/// (`sshfs:20ms`, each way) adds about 8 one-way latencies a file (170 ms measured at
/// 20 ms: the create, write and close round trips).
fn target_costs(target: &str) -> (f64, f64, bool) {
    if target == "tmpfs" || target.starts_with("tmpfs-nr-inodes:") {
        return (0.0, 0.0, true);
    }
    // FUSE filesystems with file-count limits, per file created (issue 12, measured on
    // this machine): fusefat ~14 files/s, ntfs-3g ~2,300/s, exfat-fuse ~3,700/s.
    match target {
        "fat32" => return (0.7e-9, 1.0 / 14.0, false),
        "ntfs" => return (0.7e-9, 1.0 / 2300.0, false),
        "exfat" => return (0.7e-9, 1.0 / 3700.0, false),
        _ => {}
    }
    if let Some(rest) = target.strip_prefix("sshfs") {
        let added = rest
            .strip_prefix(':')
            .and_then(|l| l.strip_suffix("ms"))
            .and_then(|l| l.parse::<f64>().ok())
            .map_or(0.0, |ms| ms / 1e3);
        return (10e-9, 1.5e-3 + 8.0 * added, false);
    }
    (0.7e-9, 0.0, false)
}

/// Uncompressed size of one export.
pub(super) fn export_bytes(cell: &Cell) -> f64 {
    let d = &cell.dataset;
    let n = d.cells as f64;
    let genes = n * cell.genes_exported() as f64 * bytes_per_value(cell.settings.var_quantization);
    let obs = n
        * (d.continuous_fields.count as f64 * bytes_per_value(cell.settings.obs_continuous_quantization)
            + d.categorical_fields.len() as f64 * 2.0);
    let dims: usize = d.embedding_dims.iter().sum();
    let embeddings = n * dims as f64 * 4.0 * (1 + d.vector_fields.len()) as f64;
    genes + obs + embeddings + edges(d) * 8.0 + 64e3
}

/// `.h5ad` size of a dataset (CSR/CSC: f32 values and i32 indices per non-zero).
fn dataset_bytes(d: &DatasetSpec) -> f64 {
    let n = d.cells as f64;
    let x = match d.layout {
        cellucid_datasets::synthetic::Layout::Dense => n * d.genes as f64 * 4.0,
        _ => nnz(d) * 8.0 + n * 8.0,
    };
    let dims: usize = d.embedding_dims.iter().sum();
    x + n * (d.latent_dims + dims) as f64 * 4.0
        + n * (d.continuous_fields.count + d.categorical_fields.len()) as f64 * 4.0
        + edges(d) * 12.0
        + 1e6
}

/// Bytes of memory one run of `cell` needs while the sweep holds it (module docs, "Memory").
fn memory_bytes(cell: &Cell, m: &MachineBudget) -> f64 {
    let export = export_bytes(cell);
    // Ours without a limit of its own takes half the RAM available when it starts.
    let limit = cell.memory_limit.or(m.ram_bytes.map(|r| r / 2));
    let run = m.memory_scales.model(&cell.writer).peak_bytes(&cell.dataset, limit);
    let sample = crate::measure::floor::SAMPLE_BYTES as f64;
    let (_, _, tmpfs) = target_costs(&cell.target);
    let floor = export.min(2.0 * sample) + if tmpfs { export.min(sample) } else { 0.0 };
    run.max(floor) + if tmpfs { export } else { 0.0 } + 128.0 * MIB
}

const MIB: f64 = (1u64 << 20) as f64;

/// Seconds of one run of `cell`: the writer's own fit when it has one, else the default
/// model.
pub fn run_seconds(cell: &Cell, m: &MachineBudget) -> f64 {
    let (fixed, variable) = model_parts(cell, m);
    match m.writer_fits.get(&cell.writer) {
        Some(f) => f.fixed_s + f.scale * variable,
        None => fixed + variable,
    }
}

/// The default model's `(fixed, variable)` seconds of one run of `cell`.
pub fn model_parts(cell: &Cell, m: &MachineBudget) -> (f64, f64) {
    let cores = m.cores.max(1) as f64;
    let speed = if m.speed > 0.0 { m.speed } else { 1.0 };
    let values = cell.dataset.cells as f64 * cell.genes_exported() as f64;
    let raw = values * bytes_per_value(cell.settings.var_quantization);
    let work = values * 12e-9 + raw * codec_ns(cell.settings.compression) * 1e-9;
    let written = if cell.settings.compression == Codec::None { raw } else { 0.3 * raw };
    let files = (cell.genes_exported() + cell.dataset.continuous_fields.count + cell.dataset.categorical_fields.len() + 8) as f64;
    let (per_byte, per_file, tmpfs) = target_costs(&cell.target);
    let mut io = written * per_byte + files * per_file;
    if cell.durability == Durability::Durable && !tmpfs {
        io += files * 1e-3;
    }
    if cell.cold_cache {
        io += dataset_bytes(&cell.dataset) / 500e6;
    }
    if cell.writer == crate::writer::OURS {
        (0.03, work / (cores * speed) + io)
    } else {
        (1.0, m.reference_factor * work / speed + io)
    }
}

/// A cell's timed runs: the plan's `repeats`, or with adaptive repeats the most it may
/// take (`max_repeats`, fewer when `max_cell_seconds` stops it first), so that sizing
/// is an upper bound.
fn timed_runs_at_most(plan: &Plan, run_s: f64) -> u32 {
    match plan.adaptive {
        None => plan.repeats,
        Some(a) => {
            let by_budget = (a.max_cell_seconds / run_s.max(1e-3)).floor() as u32;
            a.max_repeats.min(by_budget.saturating_add(1)).max(plan.repeats)
        }
    }
}

fn generation_seconds(d: &DatasetSpec, m: &MachineBudget) -> f64 {
    let cores = m.cores.max(1) as f64;
    let speed = if m.speed > 0.0 { m.speed } else { 1.0 };
    let graph = match d.graph {
        GraphSpec::Knn { k } => d.cells as f64 * k as f64 * 1e-6,
        _ => edges(d) * 0.1e-6,
    };
    0.05 + (nnz(d) * 160e-9 + graph) / (cores * speed)
}

/// Size of `cells` (all of a plan, or one shard's) run with `plan`'s warmup and repeats.
pub(super) fn estimate(plan: &Plan, cells: &[Cell], m: &MachineBudget) -> PlanSize {
    let warm = plan.warms_up(cells, m);
    let timed_of = |i: usize| timed_runs_at_most(plan, run_seconds(&cells[i], m)) as usize;
    let runs_of = |i: usize| timed_of(i) + if warm[i] { plan.warmup as usize } else { 0 };
    let total_runs: usize = (0..cells.len()).map(runs_of).sum();
    let cell_seconds: Vec<f64> = cells.iter().enumerate().map(|(i, c)| run_seconds(c, m) * runs_of(i) as f64).collect();
    let total_run_seconds: f64 = cell_seconds.iter().sum();
    let mut blocks: Vec<BlockSize> = Vec::new();
    for (c, &s) in cells.iter().zip(&cell_seconds) {
        let i = match blocks.iter().position(|b| b.name == c.block) {
            Some(i) => i,
            None => {
                blocks.push(BlockSize { name: c.block.clone(), cells: 0, run_seconds: 0.0, slowest_cell_seconds: 0.0, slowest_cell: String::new() });
                blocks.len() - 1
            }
        };
        let b = &mut blocks[i];
        b.cells += 1;
        b.run_seconds += s;
        if s > b.slowest_cell_seconds {
            b.slowest_cell_seconds = s;
            b.slowest_cell = c.label();
        }
    }
    let mut seen = HashSet::new();
    let mut generation = 0.0;
    let mut data = 0.0;
    for c in cells {
        if seen.insert(c.dataset_id()) {
            generation += generation_seconds(&c.dataset, m);
            data += dataset_bytes(&c.dataset);
        }
    }
    let largest = cells.iter().map(export_bytes).fold(0.0, f64::max);
    let disk = (largest + 2.0 * crate::measure::floor::SAMPLE_BYTES as f64 + data) as u64;
    let per_cell: Vec<f64> = cells.iter().map(|c| memory_bytes(c, m)).collect();
    let memory = per_cell.iter().copied().fold(0.0, f64::max);
    let over_memory = match m.ram_bytes {
        Some(ram) => cells.iter().zip(&per_cell).filter(|(_, &b)| b > ram as f64).map(|(c, &b)| (c.label(), b as u64)).collect(),
        None => Vec::new(),
    };
    PlanSize {
        cells: cells.len(),
        runs: total_runs,
        timed_runs: (0..cells.len()).map(timed_of).sum(),
        datasets: seen.len(),
        run_seconds: total_run_seconds,
        generation_seconds: generation,
        estimated_seconds: total_run_seconds + generation,
        largest_export_bytes: largest as u64,
        dataset_bytes: data as u64,
        disk_bytes: disk,
        memory_bytes: memory as u64,
        fits_disk: m.free_disk_bytes.map(|free| disk <= free),
        over_memory,
        blocks,
    }
}
