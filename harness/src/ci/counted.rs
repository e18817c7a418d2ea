//! The deterministic gate's runs (`ci --counter instructions`): every configuration of
//! the plan once per binary under cachegrind (`super::cachegrind`), baseline first. One
//! run each is enough: the counts do not vary between runs of the same binary (tested
//! A/A in `harness/tests/ci_gate.rs`), so there is no noise to pair or repeat away.
//!
//! The export writes to one fixed path under the work dir for both binaries (the out
//! path's length enters the count, through path handling), on whatever filesystem the
//! work dir is on: cachegrind counts user-space instructions, and the plan's target
//! would change only the kernel's share, which it does not see.

use super::cachegrind::{self, CountedRun, Counts};
use crate::measure::tree::{tree_stats, TreeStats};
use crate::plan::{Cell, Plan};
use crate::sweep::dataset_cache::DatasetCache;
use anyhow::{bail, Context, Result};
use std::ffi::OsString;
use std::path::Path;
use std::time::Instant;

/// What was counted for one configuration.
#[derive(Clone, Debug)]
pub struct CountedCell {
    pub cell_id: String,
    pub label: String,
    pub baseline: Option<Counts>,
    pub candidate: Option<Counts>,
    pub baseline_tree: Option<TreeStats>,
    pub candidate_tree: Option<TreeStats>,
    pub failures: Vec<String>,
    /// Wall seconds of the two counted runs (valgrind's cost, for the report).
    pub run_s: Vec<f64>,
}

/// How to count.
pub struct CountConfig<'a> {
    pub plan: &'a Plan,
    pub baseline: &'a Path,
    pub candidate: &'a Path,
    pub work_dir: &'a Path,
    pub cache_sim: bool,
    pub progress: bool,
}

/// A counted export's memory budget when its cell sets none. Fixed, because the default
/// (half of `MemAvailable`) is parsed from `/proc/meminfo` at start-up, and the text of
/// a number that changes between runs took a different count of instructions to parse
/// (A/A differences of 1–45 instructions, measured 2026-12-03).
const COUNTED_MEMORY_LIMIT: u64 = 8 << 30;

/// The export's arguments: the sweep's command for our exporter without `--json` (it
/// prints wall times), in this process and on this thread only, with a fixed budget
/// when the binary has `--memory-limit` (a revision from before it has no budget and
/// reads no `/proc/meminfo`).
fn export_args(input: &Path, out: &Path, params: &Path, memory_limit: Option<u64>) -> Vec<OsString> {
    let mut a: Vec<OsString> = vec!["export".into(), input.into(), out.into(), "--params".into(), params.into()];
    a.extend(["--quiet", "--in-process", "--threads", "1"].map(OsString::from));
    if let Some(limit) = memory_limit {
        a.extend(["--memory-limit".into(), limit.to_string().into()]);
    }
    a
}

/// The budget to pass `binary`: the cell's, else [`COUNTED_MEMORY_LIMIT`]; `None` when
/// its `export --help` does not list `--memory-limit`.
fn memory_limit_for(binary: &Path, cell_limit: Option<u64>) -> Option<u64> {
    let help = std::process::Command::new(binary).args(["export", "--help"]).output().ok()?;
    let has_flag = String::from_utf8_lossy(&help.stdout).contains("--memory-limit");
    has_flag.then(|| cell_limit.unwrap_or(COUNTED_MEMORY_LIMIT))
}

/// Count every `ours` configuration of the plan with both binaries.
pub fn run(cfg: &CountConfig) -> Result<Vec<CountedCell>> {
    cachegrind::check_installed()?;
    let cells: Vec<Cell> = cfg.plan.cells().into_iter().filter(|c| c.writer == crate::writer::OURS).collect();
    if cells.is_empty() {
        bail!("plan {} has no configuration of this exporter (writer = \"{}\") to count", cfg.plan.name, crate::writer::OURS);
    }
    let cache = DatasetCache::new(&cfg.work_dir.join("datasets"))?;
    let params_dir = cfg.work_dir.join("params");
    std::fs::create_dir_all(&params_dir).with_context(|| format!("cannot create {}", params_dir.display()))?;
    let run_dir = cfg.work_dir.join("counted");
    let mut results = Vec::with_capacity(cells.len());
    for cell in &cells {
        let (input, _) = cache.get_or_generate(&cell.dataset_id(), &cell.dataset)?;
        let params = crate::sweep::params::write_params(cell, &params_dir)?;
        let mut r = CountedCell {
            cell_id: cell.id(),
            label: cell.label(),
            baseline: None,
            candidate: None,
            baseline_tree: None,
            candidate_tree: None,
            failures: Vec::new(),
            run_s: Vec::new(),
        };
        for (name, binary) in [("baseline", cfg.baseline), ("candidate", cfg.candidate)] {
            if cfg.progress {
                eprintln!("ci: counting {} with the {name} …", cell.label());
            }
            let t = Instant::now();
            let limit = memory_limit_for(binary, cell.memory_limit);
            let counted = count_one(cfg, &run_dir, binary, &input, &params, limit);
            r.run_s.push(t.elapsed().as_secs_f64());
            match counted {
                Ok((counts, tree)) if name == "baseline" => (r.baseline, r.baseline_tree) = (Some(counts), Some(tree)),
                Ok((counts, tree)) => (r.candidate, r.candidate_tree) = (Some(counts), Some(tree)),
                Err(e) => r.failures.push(format!("{name}: {e:#}")),
            }
        }
        results.push(r);
    }
    let _ = std::fs::remove_dir_all(&run_dir);
    Ok(results)
}

/// One counted export into `run_dir/out`, with what it wrote.
fn count_one(
    cfg: &CountConfig,
    run_dir: &Path,
    binary: &Path,
    input: &Path,
    params: &Path,
    memory_limit: Option<u64>,
) -> Result<(Counts, TreeStats)> {
    // Everything goes, not only the last output: the lock file a first export leaves
    // beside `out` would send the second one down another path (open, not create).
    if run_dir.exists() {
        std::fs::remove_dir_all(run_dir).with_context(|| format!("cannot clear {}", run_dir.display()))?;
    }
    let out = run_dir.join("out");
    let cg = run_dir.join("cachegrind");
    std::fs::create_dir_all(&cg).with_context(|| format!("cannot create {}", cg.display()))?;
    let program = at_fixed_path(binary, run_dir)?;
    let counts = cachegrind::run(&CountedRun {
        program: &program,
        args: export_args(input, &out, params, memory_limit),
        cwd: run_dir,
        out_dir: &cg,
        cache_sim: cfg.cache_sim,
    })?;
    let tree = tree_stats(&out, true).with_context(|| format!("cannot measure {}", out.display()))?;
    Ok((counts, tree))
}

/// `binary` at the same path for both sides, `run_dir/bin/cellucid-bench` (a hard link,
/// or a copy across filesystems). The program's path is in its arguments and in
/// `/proc/self/exe`, so two binaries at paths of different lengths (a built revision and
/// `target/release/cellucid-bench`) counted a few hundred instructions apart.
fn at_fixed_path(binary: &Path, run_dir: &Path) -> Result<std::path::PathBuf> {
    let dir = run_dir.join("bin");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let program = dir.join("cellucid-bench");
    if std::fs::hard_link(binary, &program).is_err() {
        std::fs::copy(binary, &program).with_context(|| format!("cannot copy {} to {}", binary.display(), program.display()))?;
    }
    Ok(program)
}
