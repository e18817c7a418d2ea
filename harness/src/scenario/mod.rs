//! Scenarios: rules of the guide judged not from sweep samples but from a sequence of
//! exports and checks whose result is a finding, not a timing (re-exporting into an old
//! folder, a filesystem's file-count limit, a sync client watching the target).
//!
//! A scenario is a module with `pub fn run(ctx: &mut Context) -> anyhow::Result<()>`,
//! registered by one line in the `registry!` list below. It runs every writer of
//! [`Context::writers`] through the writer's own command exactly as the sweep does
//! ([`export`]: the sweep's dataset cache, params and command template, a measured
//! child), prints one progress line per step on stderr
//! (`stale-export cellucid-py-0.9.2: export A ... ok`, see [`step`]) and appends its
//! findings to [`Context::recorder`]: one JSON object per line in a result store whose
//! plan is `scenario:NAME`, each with `"scenario"`, `"writer"` and `"target"` (a target
//! name or null). `cellucid-bench report` reads such stores beside sweep stores and
//! judges the rules from them (`cellucid_reports::scenarios`).
//!
//! The CLI is `cellucid-bench scenario NAME` (`crate::cli::scenario`).

pub mod export;
pub mod folder_match;
pub mod record;

pub use record::Recorder;

use crate::writer::Writer;
use anyhow::{Context as _, Result};
use std::path::{Path, PathBuf};

/// What a scenario runs with.
pub struct Context<'a> {
    /// The selected writers, already set up and version-probed (in the store header).
    pub writers: &'a [Writer],
    /// Scratch space: the sweep's dataset cache (`datasets/`) and one subdirectory per
    /// scenario ([`Context::scratch`]).
    pub work_dir: &'a Path,
    /// Where the scenario's records go.
    pub recorder: &'a mut Recorder,
}

impl Context<'_> {
    /// The scenario's own scratch directory, `WORK_DIR/scenario-NAME`, emptied first (a
    /// scenario's exports must not meet an earlier run's folders).
    pub fn scratch(&self, name: &str) -> Result<PathBuf> {
        let dir = self.work_dir.join(format!("scenario-{name}"));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).with_context(|| format!("cannot clear {}", dir.display()))?;
        }
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(dir)
    }
}

/// Prints one progress line on stderr: `SCENARIO WRITER: STEP ... RESULT`.
pub fn step(scenario: &str, writer: &str, what: &str, result: &str) {
    eprintln!("{scenario} {writer}: {what} ... {result}");
}

/// A scenario's entry point.
pub type Run = fn(&mut Context<'_>) -> Result<()>;

/// One registered scenario.
pub struct Scenario {
    /// The CLI name (`cellucid-bench scenario NAME`) and the records' `"scenario"`.
    pub name: &'static str,
    pub run: Run,
}

/// Declares each scenario module and registers its `run` under its CLI name, so that
/// adding a scenario is one line.
macro_rules! registry {
    ($($name:literal => $module:ident),* $(,)?) => {
        $(pub mod $module;)*
        /// Every scenario, in the order `cellucid-bench scenario --help` lists them.
        pub const SCENARIOS: &[Scenario] = &[$(Scenario { name: $name, run: $module::run }),*];
    };
}

registry! {
    "stale-export" => stale_export,
    "too-many-files" => file_limits,
    "cloud-sync" => cloud_sync,
}

/// The names of every scenario.
pub fn names() -> Vec<&'static str> {
    SCENARIOS.iter().map(|s| s.name).collect()
}

/// The scenario called `name`.
pub fn find(name: &str) -> Result<&'static Scenario> {
    SCENARIOS
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| anyhow::anyhow!("there is no scenario {name:?} (known: {})", names().join(", ")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn scenarios_are_found_by_name() {
        assert_eq!(super::find("stale-export").unwrap().name, "stale-export");
        let e = super::find("stale").err().unwrap().to_string();
        assert!(e.contains("no scenario \"stale\"") && e.contains("stale-export"), "{e}");
    }
}
