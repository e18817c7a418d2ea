//! Scenarios: a sequence of exports and checks whose result is a finding, not a timing
//! (the rules of the guide that sweep samples cannot judge).
//!
//! STAND-IN: the minimum of the plumbing described in `scenario-interface.md` (owned by
//! the "stale" helper), so that `cloud_sync` compiles on its own branch. At merge the
//! stale helper's `mod.rs` and `record.rs` are kept and `cloud_sync` is registered there
//! with one line.

pub mod cloud_sync;
pub mod record;

pub use record::Recorder;

/// What a scenario gets.
pub struct Context<'a> {
    /// The selected writers, already set up and version-probed.
    pub writers: &'a [crate::writer::Writer],
    /// Scratch space.
    pub work_dir: &'a std::path::Path,
    pub recorder: &'a mut Recorder,
}
