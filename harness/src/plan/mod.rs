//! Sweep plans: which configurations a benchmark sweep measures, how often, and in
//! which order.
//!
//! A plan is a TOML file (or one of the built-in plans in `harness/plans/`):
//!
//! ```toml
//! name = "example"
//! description = "what this sweep is for"
//! seed = 1          # run order and shard shuffle (not the datasets)
//! repeats = 3       # timed runs per cell
//! warmup = 1        # untimed runs per cell, done first
//! warmup_max_seconds = 20  # optional: no warm-up for cells estimated to run longer
//! mode = "factorial"
//!
//! [dataset]         # synthetic-spec fields that are not axes (layout, seed, ...)
//! layout = "csr"
//!
//! [axes]            # defaults for every block; a scalar or a list per axis
//! density = 0.1
//! target = "tmpfs"
//!
//! [[block]]         # a full factorial over its axes (missing axes come from [axes])
//! name = "core"
//! cells = [5000, 20000]
//! compression = ["none", 6, "zstd:3"]
//! ```
//!
//! Axes: `cells`, `genes`, `density`, `graph` (`none` | `knn:K` | `edges:E`),
//! `var_quantization` and `obs_continuous_quantization` (`none` | 8 | 16),
//! `compression` (`none` | 1–9 | `zstd:N`, the last a what-if codec the viewer cannot
//! load), `gene_panel` (`all` | a number of genes), `obs_fields` (a preset `default`,
//! `none`, `many`, or `{continuous = N, categorical = [..]}`), `target` (a filesystem
//! target name), `writer` (writer names: `cellucid-bench`, `cellucid-py-0.9.2`,
//! `cellucid-py-0.0.9`, `cellucid-py-0.9.5` or one declared with `--writers FILE`; the
//! old axis name `subject` with `ours` | `reference` is read as an alias), `durability`
//! (`buffered` | `durable`),
//! `cold_cache` (bool). In `mode = "list"` the plan holds `[[cell]]` tables with one value
//! per axis instead of blocks.
//!
//! A block may set `memory_limit = "4G"`: our exporter runs its cells with
//! `--memory-limit` (the limit is part of the cell's id and label, `mem=4G`; writers
//! without a memory budget cannot express such cells).
//!
//! A block may be `optional = true` with a `note` (e.g. the 1M-cell block of the `guide`
//! plan, "where disk allows"); [`Plan::without_optional`] drops such blocks.
//!
//! Adaptive repeats (see [`Adaptive`]): `[adaptive]` with `interval`, `max_repeats`,
//! `max_cell_seconds` repeats each cell past `repeats` until its median is known to
//! ±`interval` at 95 %, or its budget is spent.
//!
//! Per-writer time budgets (defaults come from the writer's own `[writer.budget]`):
//!
//! ```toml
//! [budget."cellucid-py-0.9.2"]
//! run_seconds = 120      # a cell predicted longer is skipped (stored as skipped)
//! sweep_seconds = 3600   # all of this writer's runs together
//! ```
//!
//! Factorial expansion skips impossible combinations instead of refusing the plan: a
//! `gene_panel` larger than `genes`. A block whose every combination is impossible, and
//! any impossible `[[cell]]` in list mode, is an error. Cells that two blocks both produce
//! are kept once (first block wins). Cells a writer cannot express (e.g. the reference
//! with the `zstd` what-if codec) are dropped by the sweep's sizing, which knows the
//! writers, and printed with the reason.

mod adaptive;
mod axis;
mod cell;
mod error;
mod expand;
mod memory;
mod parse;
mod rng;
mod schedule;
mod size;

pub use adaptive::{relative_half_width, Adaptive, Stop};
pub use axis::{check_writer_name, Codec, Durability, ObsFields, Settings, OBS_PRESETS, ZSTD_LEVELS};
pub use cell::{canonical_text, dataset_json, fnv1a64, Cell};
pub use error::PlanError;
pub use memory::{available_ram_bytes, default_memory_limit, parse_memory_size, DatasetParts, MemoryModel, MemoryScales};
pub use rng::SplitMix64;
pub use schedule::{schedule, schedule_warming, ScheduledRun};
pub use size::{human_duration, model_parts, run_seconds, BlockSize, MachineBudget, PlanSize, WriterFit};

use cellucid_datasets::synthetic::{DatasetSpec, GraphSpec};

/// How a plan lists its cells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Each block is a full factorial over its axes.
    Factorial,
    /// Each block is one explicit `[[cell]]` (one value per axis).
    List,
}

/// The values of every axis for one block (defaults already filled in).
#[derive(Clone, Debug, PartialEq)]
pub struct Axes {
    pub cells: Vec<usize>,
    pub genes: Vec<usize>,
    pub density: Vec<f64>,
    pub graph: Vec<GraphSpec>,
    pub var_quantization: Vec<Option<u8>>,
    pub obs_continuous_quantization: Vec<Option<u8>>,
    pub compression: Vec<Codec>,
    pub gene_panel: Vec<Option<usize>>,
    pub obs_fields: Vec<ObsFields>,
    pub target: Vec<String>,
    /// Writer names.
    pub writer: Vec<String>,
    pub durability: Vec<Durability>,
    pub cold_cache: Vec<bool>,
}

impl Axes {
    /// One value per axis: the base dataset's size, density, graph and obs mix, no
    /// quantization or compression, all genes, `tmpfs`, ours, buffered, warm cache.
    pub fn defaults(base: &DatasetSpec) -> Axes {
        Axes {
            cells: vec![base.cells],
            genes: vec![base.genes],
            density: vec![base.density],
            graph: vec![base.graph.clone()],
            var_quantization: vec![None],
            obs_continuous_quantization: vec![None],
            compression: vec![Codec::None],
            gene_panel: vec![None],
            obs_fields: vec![ObsFields {
                continuous: base.continuous_fields.count,
                categorical: base.categorical_fields.clone(),
            }],
            target: vec!["tmpfs".into()],
            writer: vec![crate::writer::OURS.into()],
            durability: vec![Durability::Buffered],
            cold_cache: vec![false],
        }
    }

    /// Number of combinations (before impossible ones are skipped).
    pub fn combinations(&self) -> usize {
        [
            self.cells.len(),
            self.genes.len(),
            self.density.len(),
            self.graph.len(),
            self.var_quantization.len(),
            self.obs_continuous_quantization.len(),
            self.compression.len(),
            self.gene_panel.len(),
            self.obs_fields.len(),
            self.target.len(),
            self.writer.len(),
            self.durability.len(),
            self.cold_cache.len(),
        ]
        .iter()
        .product()
    }
}

/// A named group of cells: a factorial block, or one `[[cell]]` in list mode.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub name: String,
    pub note: Option<String>,
    /// Only run where the machine allows (disk, memory, time); see [`Plan::without_optional`].
    pub optional: bool,
    /// `memory_limit = "4G"`: our exporter's `--memory-limit` for every cell of the block
    /// (other writers have none and cannot express such cells).
    pub memory_limit: Option<u64>,
    pub axes: Axes,
}

/// A sweep plan.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub name: String,
    pub description: String,
    /// Seeds the run order and the shard shuffle (datasets have their own seed in
    /// `[dataset]`, so the same cell has the same id in every plan).
    pub seed: u64,
    /// Timed runs per cell.
    pub repeats: u32,
    /// Untimed runs per cell, done before any timed run.
    pub warmup: u32,
    /// Cells whose estimated run (see [`size`]) is longer than this get no warm-up. A
    /// warm-up pages in the binary and the input; a run of minutes amortises that, and
    /// in a sweep of large cells the input is evicted again by the other cells' writes
    /// before its timed run comes. `None`: every cell is warmed up.
    pub warmup_max_seconds: Option<f64>,
    pub mode: Mode,
    /// The synthetic spec every cell starts from; axes override its fields.
    pub dataset: DatasetSpec,
    pub blocks: Vec<Block>,
    /// `[budget.NAME]`: time budgets per writer name, over the writer's own defaults.
    pub budgets: std::collections::BTreeMap<String, crate::writer::Budget>,
    /// `[adaptive]`: repeat cells beyond `repeats` until their median is known to ±N %.
    pub adaptive: Option<Adaptive>,
}

/// The built-in plans, embedded in the binary.
const BUILTIN: &[(&str, &str)] = &[
    ("quick", include_str!("../../plans/quick.toml")),
    ("guide", include_str!("../../plans/guide.toml")),
    ("filesystems", include_str!("../../plans/filesystems.toml")),
    ("ci", include_str!("../../plans/ci.toml")),
    ("ci-instructions", include_str!("../../plans/ci-instructions.toml")),
    ("server", include_str!("../../plans/server.toml")),
    ("guide-parts", include_str!("../../plans/guide-parts.toml")),
];

const BUILTIN_NAMES: &[&str] = &["quick", "guide", "filesystems", "ci", "ci-instructions", "server", "guide-parts"];

impl Plan {
    /// Parses and validates a plan.
    pub fn from_toml_str(text: &str) -> Result<Plan, PlanError> {
        let plan = parse::parse(text)?;
        plan.validate()?;
        Ok(plan)
    }

    /// A built-in plan by name (see [`Plan::builtin_names`]).
    pub fn builtin(name: &str) -> Result<Plan, PlanError> {
        let (_, text) = BUILTIN.iter().find(|(n, _)| *n == name).ok_or_else(|| PlanError::UnknownBuiltin {
            name: name.to_string(),
            known: BUILTIN_NAMES.join(", "),
        })?;
        Plan::from_toml_str(text)
    }

    pub fn builtin_names() -> &'static [&'static str] {
        BUILTIN_NAMES
    }

    /// The TOML text of a built-in plan (for `sweep --show-plan` and for copying).
    pub fn builtin_text(name: &str) -> Option<&'static str> {
        BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
    }

    /// Every cell, in plan order (blocks in order, axes nested in the order listed in
    /// [`Axes`], the last varying fastest), impossible combinations skipped, duplicates
    /// kept once.
    pub fn cells(&self) -> Vec<Cell> {
        expand::cells(self)
    }

    /// Checks every value and every cell; the error names the axis.
    pub fn validate(&self) -> Result<(), PlanError> {
        expand::validate(self)
    }

    /// The plan with only the blocks named (e.g. the guide's `atlas` block); a name the
    /// plan does not have is an error listing the ones it has.
    pub fn only_blocks(&self, names: &[String]) -> Result<Plan, String> {
        if let Some(unknown) = names.iter().find(|n| !self.blocks.iter().any(|b| &b.name == *n)) {
            let known: Vec<&str> = self.blocks.iter().map(|b| b.name.as_str()).collect();
            return Err(format!("{unknown:?} is not a block of plan {} (its blocks: {})", self.name, known.join(", ")));
        }
        Ok(Plan { blocks: self.blocks.iter().filter(|b| names.contains(&b.name)).cloned().collect(), ..self.clone() })
    }

    /// The plan without its optional blocks.
    pub fn without_optional(&self) -> Plan {
        Plan { blocks: self.blocks.iter().filter(|b| !b.optional).cloned().collect(), ..self.clone() }
    }

    /// The plan without the writer `name` (e.g. without the reference writer when it is
    /// not installed); blocks left with no writer are dropped.
    pub fn without_writer(&self, name: &str) -> Plan {
        let blocks = self
            .blocks
            .iter()
            .filter_map(|b| {
                let mut b = b.clone();
                b.axes.writer.retain(|x| x != name);
                (!b.axes.writer.is_empty()).then_some(b)
            })
            .collect();
        Plan { blocks, ..self.clone() }
    }

    /// Runs, estimated time and disk for this plan on `machine` (see [`size`]).
    pub fn size(&self, machine: &MachineBudget) -> PlanSize {
        size::estimate(self, &self.cells(), machine)
    }

    /// Whether each of `cells` gets this plan's warm-up runs (see
    /// [`Plan::warmup_max_seconds`]).
    pub fn warms_up(&self, cells: &[Cell], machine: &MachineBudget) -> Vec<bool> {
        cells
            .iter()
            .map(|c| self.warmup > 0 && self.warmup_max_seconds.is_none_or(|max| size::run_seconds(c, machine) <= max))
            .collect()
    }

    /// Like [`Plan::size`] for some of this plan's cells (one shard's).
    pub fn size_of(&self, cells: &[Cell], machine: &MachineBudget) -> PlanSize {
        size::estimate(self, cells, machine)
    }

    /// Shard `i` of `n`: the exports (cells without their writer, [`Cell::export_id`]) at
    /// positions `p` with `p % n == i` of a seeded shuffle, with every writer of each,
    /// returned in plan order. Keeping a cell's writers in one shard keeps their ratio
    /// measured side by side, interleaved in one run, however the plan is split. The
    /// shuffle spreads large and small cells over the shards; the shards are disjoint and
    /// together are the plan. `n == 0` or `i >= n` gives no cells (use [`parse_shard`] to
    /// check user input).
    pub fn shard(&self, i: usize, n: usize) -> Vec<Cell> {
        let cells = self.cells();
        if n == 0 || i >= n {
            return Vec::new();
        }
        let mut exports: Vec<String> = Vec::new();
        for c in &cells {
            let e = c.export_id();
            if !exports.contains(&e) {
                exports.push(e);
            }
        }
        // A stream of its own, so that the shard split does not move when the run
        // order's use of the seed changes.
        SplitMix64::new(self.seed ^ 0x5348_4152_445f_5631).shuffle(&mut exports);
        let mine: std::collections::HashSet<&String> =
            exports.iter().enumerate().filter(|(p, _)| p % n == i).map(|(_, e)| e).collect();
        cells.into_iter().filter(|c| mine.contains(&c.export_id())).collect()
    }
}

/// Parses `I/N` (as given to `--shard`, e.g. `$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT`).
pub fn parse_shard(s: &str) -> Result<(usize, usize), PlanError> {
    let bad = || PlanError::Shard(s.to_string());
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let i: usize = i.trim().parse().map_err(|_| bad())?;
    let n: usize = n.trim().parse().map_err(|_| bad())?;
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}
