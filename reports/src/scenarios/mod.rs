//! Verdicts of the rules judged from scenario records rather than sweep samples.
//!
//! STAND-IN: the module the "stale" helper owns (`scenario-interface.md`); at merge its
//! version is kept, with `pub mod cloud_sync;` among the rules.

pub mod cloud_sync;
