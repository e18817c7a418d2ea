//! Scenarios: rules of the guide judged not from sweep samples but from a sequence of
//! exports and checks whose result is a finding (one JSON record per writer and target
//! in a result store, `record.rs`).
//!
//! Each scenario is one module with `pub fn run(ctx: &mut Context) -> anyhow::Result<()>`;
//! registering one is one line in [`run`]. Writers are run exactly as the sweep runs
//! them (their command template, the sweep's params, a measured child).

pub mod file_limits;
pub mod record;

pub use record::Recorder;

use std::path::Path;

/// What a scenario gets.
pub struct Context<'a> {
    /// The selected writers, already set up and version-probed.
    pub writers: &'a [crate::writer::Writer],
    /// Scratch space; each scenario works in its own subdirectory.
    pub work_dir: &'a Path,
    pub recorder: &'a mut Recorder,
}

/// The scenarios by name.
pub const NAMES: [&str; 1] = ["too-many-files"];

/// Runs the scenario `name`.
pub fn run(name: &str, ctx: &mut Context) -> anyhow::Result<()> {
    match name {
        "too-many-files" => file_limits::run(ctx),
        other => anyhow::bail!("unknown scenario {other:?} (known: {})", NAMES.join(", ")),
    }
}
