//! # cellucid-bench
//!
//! The command line: `export`, `validate`, `generate`, and the sweep engine that measures
//! exports across datasets, settings and filesystems.
fn main() {}
