//! Measuring exports as child processes (after hyperfine's split): `executor` runs one
//! child and measures it through the small `launcher` process, `stats` summarises
//! repeated samples.
pub mod executor;
pub mod launcher;
pub mod stats;
