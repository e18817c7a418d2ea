//! One export counted by valgrind's cachegrind: the command, run in a fixed environment,
//! and the parsed totals (instructions, and simulated D1/LL misses), split into the
//! parts of the exporter that ran them.
//!
//! **Why the counts are identical run to run** (A/A, same binary and input): every source
//! of variation found was removed or is pinned here, not averaged away.
//! - One thread, the calling one (`--threads 1`: the export builds rayon's pool with
//!   `use_current_thread`), so no latch waits whose spin count depends on scheduling;
//!   `--fair-sched=yes` orders valgrind's threads anyway.
//! - An empty environment plus fixed variables, a fixed working directory, and the same
//!   input, params and out paths for both binaries; each binary runs from the same
//!   hard-linked path (`counted.rs`: a program's path is in its argv and
//!   `/proc/self/exe`, and paths of different lengths counted differently).
//! - `--vgdb=no`: valgrind's gdb server maps a file named after the pid, which changes the
//!   length of `/proc/self/maps`, which std's start-up parses (below).
//! - Fixed simulated caches (`--I1/--D1/--LL`), so the miss counts do not follow the host.
//! - In the exporter: the transaction id is hex-encoded by table (the formatter's cost
//!   depended on the random bytes) and the export path's hash maps use a fixed hasher
//!   (`cellucid_core::fixed_hash`); the phase clock adds integer nanoseconds, not
//!   `Duration`s (whose carries and borrows branch on the readings); a hidden progress
//!   bar does no work; `created_at` comes from the params, never the clock; no `--json`
//!   (it prints wall times).
//! - The run directory is cleared whole before each run (a lock file left beside the
//!   output sent the second export down another path).
//! - Left out of the totals, by name, and reported as `excluded`: glibc's
//!   `pthread_getattr_np`, which std calls once at start-up to find the main thread's
//!   stack by parsing `/proc/self/maps`; valgrind's own mappings there still differ by a
//!   line break or so between runs (±3 instructions seen).
//!
//! **Parts.** Cachegrind gives self costs per function symbol; each symbol is mapped to
//! the exporter's module it belongs to (`part_of`). Generic code is named after the
//! module that instantiated it (a rayon helper running a gene closure names
//! `stage::genes` in its type arguments and counts as genes). Kernels shared by several
//! phases (deflate, the quantize/JSON codecs, memcpy and the allocator) are parts of
//! their own: cachegrind has no call graph, so a change there is named as such, not
//! charged to the phase that called it.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use thiserror::Error;

/// Symbols left out of the totals (see the module doc).
pub const EXCLUDED: &[&str] = &["pthread_getattr_np"];

/// Failures of a counted run.
#[derive(Debug, Error)]
pub enum CachegrindError {
    #[error("valgrind is not installed (Debian: apt-get install valgrind): {0}")]
    Missing(std::io::Error),
    #[error("cannot run valgrind: {0}")]
    Spawn(std::io::Error),
    #[error("the export under cachegrind failed ({status}): {stderr}")]
    Failed { status: String, stderr: String },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cachegrind output {0}: {1}")]
    Format(String, String),
}

/// The totals of one counted run.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Instructions executed (Ir), without [`EXCLUDED`] symbols.
    pub ir: u64,
    /// Simulated first-level data cache misses (reads + writes), with `--cache-sim`.
    pub d1_misses: Option<u64>,
    /// Simulated last-level misses (instruction and data), with `--cache-sim`.
    pub ll_misses: Option<u64>,
    /// Instructions per part of the exporter (`part_of`).
    pub parts: BTreeMap<String, u64>,
    /// Instructions of the excluded symbols.
    pub excluded: u64,
}

/// The part of the exporter a function symbol belongs to. Order matters: a generic
/// symbol can name several modules, the exporter's stage wins over its helpers.
pub fn part_of(function: &str) -> &'static str {
    const STAGES: &[(&str, &str)] = &[
        ("cellucid_core::stage::genes", "genes"),
        ("cellucid_core::stage::csc", "genes"),
        ("cellucid_core::stage::obs", "obs"),
        ("cellucid_core::stage::embeddings", "embeddings"),
        ("cellucid_core::stage::latent", "latent"),
        ("cellucid_core::stage::graph", "graph"),
        ("cellucid_core::stage::vectors", "vectors"),
        ("cellucid_core::stage::identity", "identity"),
        ("cellucid_core::publish", "publish"),
        ("cellucid_core::codec", "codecs (shared)"),
        ("cellucid_core::numeric", "numeric (shared)"),
        ("cellucid_core::", "core (other)"),
        ("cellucid_datasets::", "read .h5ad"),
    ];
    if let Some((_, part)) = STAGES.iter().find(|(m, _)| function.contains(m)) {
        return part;
    }
    if ["libdeflate", "deflate", "miniz_oxide", "zlib_rs", "crc32"].iter().any(|k| function.contains(k)) {
        return "deflate (shared)";
    }
    if function.starts_with("H5") || function.contains("hdf5") {
        return "read .h5ad";
    }
    if function.contains("cellucid_bench::") {
        return "harness";
    }
    "runtime (std, libc, allocator)"
}

/// The event columns this parser needs, by name.
struct Columns {
    ir: usize,
    d1: Vec<usize>,
    ll: Vec<usize>,
}

fn columns(events: &str) -> Result<Columns, String> {
    let names: Vec<&str> = events.split_whitespace().collect();
    let at = |n: &str| names.iter().position(|x| *x == n);
    let ir = at("Ir").ok_or("no Ir event")?;
    let d1: Vec<usize> = ["D1mr", "D1mw"].iter().filter_map(|n| at(n)).collect();
    let ll: Vec<usize> = ["ILmr", "DLmr", "DLmw"].iter().filter_map(|n| at(n)).collect();
    Ok(Columns { ir, d1, ll })
}

/// Parse a `cachegrind.out` file's text.
pub fn parse(name: &str, text: &str) -> Result<Counts, CachegrindError> {
    let bad = |m: String| CachegrindError::Format(name.to_string(), m);
    let mut cols: Option<Columns> = None;
    let mut function = String::new();
    let mut c = Counts::default();
    let (mut d1, mut ll) = (0u64, 0u64);
    for (i, line) in text.lines().enumerate() {
        if let Some(ev) = line.strip_prefix("events:") {
            cols = Some(columns(ev).map_err(|m| bad(m.to_string()))?);
        } else if let Some(f) = line.strip_prefix("fn=") {
            function = f.to_string();
        } else if line.starts_with(|ch: char| ch.is_ascii_digit()) {
            let cols = cols.as_ref().ok_or_else(|| bad("cost line before the events line".into()))?;
            let v: Vec<u64> = line.split_whitespace().skip(1).map(str::parse).collect::<Result<_, _>>().map_err(|e| bad(format!("line {}: {e}", i + 1)))?;
            // Cachegrind may leave out trailing zero counts.
            let get = |k: usize| v.get(k).copied().unwrap_or(0);
            if EXCLUDED.iter().any(|x| function.starts_with(x)) {
                c.excluded += get(cols.ir);
                continue;
            }
            c.ir += get(cols.ir);
            *c.parts.entry(part_of(&function).to_string()).or_default() += get(cols.ir);
            d1 += cols.d1.iter().map(|&k| get(k)).sum::<u64>();
            ll += cols.ll.iter().map(|&k| get(k)).sum::<u64>();
        }
    }
    let cols = cols.ok_or_else(|| bad("no events line".into()))?;
    c.d1_misses = (!cols.d1.is_empty()).then_some(d1);
    c.ll_misses = (!cols.ll.is_empty()).then_some(ll);
    Ok(c)
}

/// Add `b` into `a` (a run whose command started child processes has one file each).
fn add(a: &mut Counts, b: Counts) {
    a.ir += b.ir;
    a.excluded += b.excluded;
    a.d1_misses = a.d1_misses.zip(b.d1_misses).map(|(x, y)| x + y).or(b.d1_misses);
    a.ll_misses = a.ll_misses.zip(b.ll_misses).map(|(x, y)| x + y).or(b.ll_misses);
    for (k, v) in b.parts {
        *a.parts.entry(k).or_default() += v;
    }
}

/// Fails with [`CachegrindError::Missing`] when `valgrind` cannot be started.
pub fn check_installed() -> Result<(), CachegrindError> {
    Command::new("valgrind").arg("--version").output().map(|_| ()).map_err(CachegrindError::Missing)
}

/// How to count one command.
pub struct CountedRun<'a> {
    pub program: &'a Path,
    pub args: Vec<OsString>,
    /// The working directory (fixed: the same for both binaries).
    pub cwd: &'a Path,
    /// An empty directory for cachegrind's output files.
    pub out_dir: &'a Path,
    pub cache_sim: bool,
}

/// The valgrind command for `r` (see the module doc for every flag's reason).
pub fn command(r: &CountedRun) -> Command {
    let mut c = Command::new("valgrind");
    c.args(["--tool=cachegrind", "--vgdb=no", "--fair-sched=yes", "--trace-children=yes"]);
    if r.cache_sim {
        c.args(["--cache-sim=yes", "--I1=32768,8,64", "--D1=32768,8,64", "--LL=8388608,16,64"]);
    } else {
        c.arg("--cache-sim=no");
    }
    c.arg(format!("--cachegrind-out-file={}/cachegrind.out.%p", r.out_dir.display()));
    c.arg(r.program).args(&r.args);
    c.env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("LC_ALL", "C")
        .env("RAYON_NUM_THREADS", "1")
        .current_dir(r.cwd);
    // The one variable passed through: the injected-slowdown knob of a build with the
    // `slowdown` feature (core's stage/slowdown.rs), so that a calibration can count a
    // known regression. A normal build never reads it; unset, nothing changes.
    if let Some(pct) = std::env::var_os("CELLUCID_SLOWDOWN_PCT") {
        c.env("CELLUCID_SLOWDOWN_PCT", pct);
    }
    c
}

/// Run `r` and sum its output files (one per process).
pub fn run(r: &CountedRun) -> Result<Counts, CachegrindError> {
    let out = command(r).output().map_err(CachegrindError::Spawn)?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().filter(|l| !l.starts_with("==")).collect();
        return Err(CachegrindError::Failed { status: out.status.to_string(), stderr: tail.join(" / ") });
    }
    let read_err = |path: &Path, source| CachegrindError::Read { path: path.to_path_buf(), source };
    let mut total: Option<Counts> = None;
    for entry in std::fs::read_dir(r.out_dir).map_err(|e| read_err(r.out_dir, e))? {
        let path = entry.map_err(|e| read_err(r.out_dir, e))?.path();
        let text = std::fs::read_to_string(&path).map_err(|e| read_err(&path, e))?;
        let c = parse(&path.display().to_string(), &text)?;
        match total.as_mut() {
            Some(t) => add(t, c),
            None => total = Some(c),
        }
    }
    total.ok_or_else(|| CachegrindError::Format(r.out_dir.display().to_string(), "no cachegrind.out file".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUT: &str = "desc: I1 cache: 32768 B, 64 B, 8-way associative\ncmd: x\nevents: Ir I1mr ILmr Dr D1mr DLmr Dw D1mw DLmw\nfl=a.rs\nfn=cellucid_core::stage::genes::write\n1 100 1 1 10 2 1 5 3 1\n2 50\nfn=libdeflate_deflate_compress\n3 1000 0 0 0 0 0 0 7 0\nfl=???\nfn=pthread_getattr_np@@GLIBC_2.32\n0 9 0 0 0 0 0 0 0 0\nfn=main\n0 1\nsummary: 1160 1 1 10 2 1 5 10 1\n";

    #[test]
    fn totals_parts_and_exclusions() {
        let c = parse("t", OUT).expect("parsed");
        assert_eq!(c.ir, 1151);
        assert_eq!(c.excluded, 9);
        assert_eq!(c.d1_misses, Some(2 + 3 + 7));
        assert_eq!(c.ll_misses, Some(1 + 1 + 1));
        assert_eq!(c.parts["genes"], 150);
        assert_eq!(c.parts["deflate (shared)"], 1000);
        assert_eq!(c.parts["runtime (std, libc, allocator)"], 1);
    }

    #[test]
    fn without_cache_simulation_there_are_no_misses() {
        let c = parse("t", "events: Ir\nfn=f\n1 7\n").expect("parsed");
        assert_eq!((c.ir, c.d1_misses, c.ll_misses), (7, None, None));
        assert!(parse("t", "fn=f\n1 7\n").is_err(), "a cost line needs the events line first");
        assert!(parse("t", "events: Dr\n").is_err(), "Ir is required");
    }

    #[test]
    fn generic_symbols_count_for_the_stage_they_run() {
        assert_eq!(part_of("rayon::iter::plumbing::helper<cellucid_core::stage::genes::run::{{closure}}>"), "genes");
        assert_eq!(part_of("cellucid_core::codec::quantize::q8"), "codecs (shared)");
        assert_eq!(part_of("H5D__read"), "read .h5ad");
        assert_eq!(part_of("__memcpy_avx_unaligned_erms"), "runtime (std, libc, allocator)");
    }
}
