//! Measuring exports as child processes (after hyperfine's split): `executor` runs one
//! child and measures it, `stats` summarises repeated samples.
pub mod executor;
pub mod stats;
