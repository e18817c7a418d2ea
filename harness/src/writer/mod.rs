//! Writers: the exporters a sweep measures, as data.
//!
//! A writer is any program with the export CLI contract
//! `CMD INPUT.h5ad OUT_DIR --params PARAMS.json` (PARAMS.json holds `prepare()`
//! parameters by name plus an `inputs` map of h5ad locations; exit 0 on success, else
//! a non-zero status with one `error: ...` line on stderr: the Python drivers exit 1,
//! this exporter's CLI 2, as for all its errors). It is described by a [`Writer`]: a name,
//! an argv template, an optional idempotent setup command, an optional version probe,
//! what it writes, whether it reports phases, the settings it can express and default
//! time budgets. Four are built in ([`builtin`]); users declare more in TOML files
//! (`--writers FILE`, see [`load`]), so that adding a writer touches no code.

pub mod builtin;
mod error;
mod load;
mod registry;
mod setup;
mod supports;
mod template;

pub use builtin::{Peer, OURS, PY_009, PY_095, REFERENCE};
pub use error::WriterError;
pub use load::{parse_writers, read_writers};
pub use registry::{legacy_name, Writers};
pub use setup::{find_program, probe_version, run_setup};
pub use supports::Supports;
pub use template::{Context, PLACEHOLDERS};

use serde::{Deserialize, Serialize};

/// What a writer leaves in `OUT_DIR`. Every kind is measured alike (time, CPU, peak
/// RSS, bytes, files); only a `compact_v1` folder is checked with the viewer's checks
/// (`validate`, `compare`) and compared with other writers' folders, and only folders
/// get a determinism hash (`output_hash`) and a physical floor in the sweep.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Output {
    /// A Cellucid `compact_v1` folder of the index era (the viewer's checks apply).
    #[default]
    CompactV1,
    /// A `compact_v1` folder of the older key era (payloads named by key, `{key}`
    /// patterns; cellucid 0.0.9): the newest viewer and `validate` do not read it.
    #[serde(rename = "compact_v1_key_era")]
    CompactV1KeyEra,
    /// An AnnData file or folder inside `OUT_DIR` (cellucid 0.9.5's Cellucid-ready
    /// AnnData): not a folder export, so `validate` does not apply.
    Anndata,
    /// Anything else; only its size and files are measured.
    Other,
}

impl Output {
    pub fn as_str(self) -> &'static str {
        match self {
            Output::CompactV1 => "compact_v1",
            Output::CompactV1KeyEra => "compact_v1_key_era",
            Output::Anndata => "anndata",
            Output::Other => "other",
        }
    }

    /// Whether the output is a Cellucid export folder (of either era), whose files
    /// are hashed for the determinism check.
    pub fn is_folder(self) -> bool {
        matches!(self, Output::CompactV1 | Output::CompactV1KeyEra)
    }
}

/// Default time budgets of a writer (a plan's `[budget.NAME]` overrides them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// A cell predicted to run longer than this (one run) is skipped.
    #[serde(default)]
    pub run_seconds: Option<f64>,
    /// All of this writer's runs in one sweep together.
    #[serde(default)]
    pub sweep_seconds: Option<f64>,
}

impl Budget {
    /// `self`'s values where set, else `fallback`'s.
    pub fn or(self, fallback: Budget) -> Budget {
        Budget {
            run_seconds: self.run_seconds.or(fallback.run_seconds),
            sweep_seconds: self.sweep_seconds.or(fallback.sweep_seconds),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.run_seconds.is_none() && self.sweep_seconds.is_none()
    }
}

/// One exporter the harness can run (the `[[writer]]` table of a writers file).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Writer {
    /// Unique, `[A-Za-z0-9._-]+`; it names the writer in plans, samples and reports.
    pub name: String,
    /// The argv template; `{input}`, `{out}` and `{params}` are required (see
    /// [`PLACEHOLDERS`] for the others).
    pub command: Vec<String>,
    /// Run once before a sweep that uses this writer (it must be idempotent).
    #[serde(default)]
    pub setup: Option<Vec<String>>,
    /// Prints the writer's version as the first line of its stdout.
    #[serde(default)]
    pub version: Option<Vec<String>>,
    #[serde(default)]
    pub output: Output,
    /// Prints `cellucid-bench export --json`'s report on stdout (per-phase times).
    #[serde(default)]
    pub phases: bool,
    #[serde(default)]
    pub supports: Supports,
    #[serde(default)]
    pub budget: Budget,
    /// Where this writer was declared (`built-in` or the file); not read from TOML.
    #[serde(skip)]
    pub source: String,
    /// Takes `cellucid-bench export`'s own flags after its command (`--durable`,
    /// `--zstd-what-if N`): only our exporter; not read from TOML.
    #[serde(skip)]
    pub export_flags: bool,
}

/// What the store header records of each writer a sweep used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WriterInfo {
    pub name: String,
    /// The version probe's first stdout line, when it has one and it succeeded.
    pub version: Option<String>,
    pub output: String,
    pub phases: bool,
    pub command: Vec<String>,
    pub source: String,
}

impl Writer {
    /// The header's record of this writer, with its probed version.
    pub fn info(&self, version: Option<String>) -> WriterInfo {
        WriterInfo {
            name: self.name.clone(),
            version,
            output: self.output.as_str().into(),
            phases: self.phases,
            command: self.command.clone(),
            source: self.source.clone(),
        }
    }

    /// The export command for one run.
    pub fn command(&self, ctx: &Context) -> Result<std::process::Command, WriterError> {
        let argv = template::expand_all(&self.command, ctx, &self.name, "command")?;
        let mut c = std::process::Command::new(&argv[0]);
        c.args(&argv[1..]);
        Ok(c)
    }
}
