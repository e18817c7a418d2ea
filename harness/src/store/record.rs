//! The records of a result file: one `Header` line, then one `Sample` line per run.
//!
//! Both are plain serde structs. Fields a reader does not know are kept in `extra` (and
//! written back by `merge`), so files from a newer harness stay readable and mergeable.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Value of [`Header::format`].
pub const FORMAT: &str = "cellucid-bench-results";
/// Value of [`Header::version`] written by this harness.
pub const VERSION: u32 = 1;

/// The machine a file's samples were measured on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Machine {
    #[serde(default)]
    pub cpu_model: String,
    /// Logical cores.
    #[serde(default)]
    pub cores: usize,
    #[serde(default)]
    pub memory_bytes: u64,
    #[serde(default)]
    pub kernel: String,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub hostname: String,
}

impl Machine {
    /// This machine, as `sysinfo` sees it (empty strings where it cannot tell).
    pub fn detect() -> Machine {
        use sysinfo::{CpuRefreshKind, MemoryRefreshKind, RefreshKind, System};
        let sys = System::new_with_specifics(
            RefreshKind::nothing()
                .with_cpu(CpuRefreshKind::nothing())
                .with_memory(MemoryRefreshKind::nothing().with_ram()),
        );
        let cpu_model = sys.cpus().first().map(|c| c.brand().trim().to_string()).unwrap_or_default();
        let cores = match sys.cpus().len() {
            0 => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
            n => n,
        };
        Machine {
            cpu_model,
            cores,
            memory_bytes: sys.total_memory(),
            kernel: System::kernel_version().unwrap_or_default(),
            os: System::long_os_version().unwrap_or_default(),
            hostname: System::host_name().unwrap_or_default(),
        }
    }
}

/// The first line of a result file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    pub version: u32,
    /// The plan's name; a resume must use the same plan.
    pub plan: String,
    /// When the sweep started, UTC `YYYY-MM-DDTHH:MM:SSZ`.
    pub started: String,
    pub machine: Machine,
    #[serde(default)]
    pub git_commit: Option<String>,
    #[serde(default)]
    pub rustc: Option<String>,
    /// `(i, n)` for shard `i` of `n`; `None` for a whole plan or a merged file.
    #[serde(default)]
    pub shard: Option<(usize, usize)>,
    /// Every machine of a merged file whose shards ran on different machines (then
    /// samples carry `"machine": index` in their extra fields). Empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub machines: Vec<Machine>,
    /// Every commit of a merged file whose shards were built from different commits
    /// (`unknown` where a shard recorded none; then samples carry `"commit": index`, and
    /// [`Header::git_commit`] is the first shard's). Empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub git_commits: Vec<String>,
    /// The writers the sweep used, with their probed versions (empty in stores written
    /// before writers were data).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub writers: Vec<crate::writer::WriterInfo>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Header {
    /// A header for a new file: this machine, now, the git commit this binary was built
    /// from and the installed rustc when they can be found.
    pub fn new(plan: &str, shard: Option<(usize, usize)>) -> Header {
        Header {
            format: FORMAT.into(),
            version: VERSION,
            plan: plan.into(),
            started: cellucid_core::text::utc_now(),
            machine: Machine::detect(),
            // The commit the binary was built from (`-dirty`: with uncommitted changes),
            // embedded by build.rs; the tree's HEAD at run time may be another one.
            git_commit: option_env!("CELLUCID_BENCH_GIT").map(str::to_string),
            rustc: command_line("rustc", &["--version"]),
            shard,
            machines: Vec::new(),
            git_commits: Vec::new(),
            writers: Vec::new(),
            extra: Map::new(),
        }
    }
}

/// The first line of a command's stdout, if it ran and succeeded.
fn command_line(program: &str, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new(program).args(args).stderr(std::process::Stdio::null()).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let line = text.lines().next()?.trim();
    (!line.is_empty()).then(|| line.to_string())
}

/// One run of one cell.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub cell_id: String,
    #[serde(default)]
    pub label: String,
    /// Round number as in the plan's schedule (`warmup..` are the timed runs).
    pub repeat: u32,
    #[serde(default)]
    pub target: String,
    /// The writer's name (`cellucid-bench`, `cellucid-py-0.9.2`, or a declared one).
    #[serde(default)]
    pub writer: String,
    /// Only in stores written before writers were data (`ours`, `reference`); reading
    /// fills [`Sample::writer`] from it, new samples leave it out.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub subject: String,
    #[serde(default)]
    pub settings: Value,
    #[serde(default)]
    pub dataset: Value,
    #[serde(default)]
    pub wall_s: f64,
    #[serde(default)]
    pub user_s: f64,
    #[serde(default)]
    pub sys_s: f64,
    #[serde(default)]
    pub max_rss_bytes: u64,
    #[serde(default)]
    pub bytes_apparent: u64,
    #[serde(default)]
    pub bytes_allocated: u64,
    #[serde(default)]
    pub files: u64,
    #[serde(default)]
    pub dirs: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phases: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub efficiency: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_info: Option<Value>,
    #[serde(default)]
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default)]
    pub finished_at: String,
    /// Set when the cell was not run because its writer's budget did not allow it; such a
    /// sample is not a measurement (`ok` is false, `wall_s` 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<Skipped>,
    /// Set on a cell's last timed sample when the plan's adaptive repeats stopped it:
    /// why (`converged: ...`, `max_repeats: ...`, `budget: ...`, see `plan::Stop`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// The `--memory-limit` our exporter ran under (a block's `memory_limit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_limit_bytes: Option<u64>,
    /// Bytes of the gene matrix our exporter spilled out of core (its `--json` report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spill_bytes: Option<u64>,
    /// Fields this harness does not know, kept as they were.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Why a cell was not run, and what it was predicted to cost.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    pub reason: String,
    pub predicted_wall_s: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicted_rss_bytes: Option<u64>,
}

impl Sample {
    /// Fills `writer` from the old `subject` field (`ours` → `cellucid-bench`,
    /// `reference` → `cellucid-py-0.9.2`) when a sample has no writer.
    pub fn normalize_writer(&mut self) {
        if self.writer.is_empty() && !self.subject.is_empty() {
            self.writer = crate::writer::legacy_name(&self.subject).to_string();
        }
    }

    /// The key a run is stored under.
    pub fn key(&self) -> (String, u32) {
        (self.cell_id.clone(), self.repeat)
    }
}
