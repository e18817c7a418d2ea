//! The result store: append-only JSON Lines files of measured runs.
//!
//! A file is one [`Header`] line (plan, machine, commit, shard) followed by one
//! [`Sample`] line per run. Samples are appended and fsynced one at a time, so a sweep
//! killed at any moment keeps every finished run and can be resumed
//! ([`Store::create_or_resume`], [`Store::finished`]); [`read`] ignores (and reports) a
//! partial last line. The shards of a plan run on several machines are combined with
//! [`merge`].
//!
//! A scenario store (`crate::scenario`) has the same header and one JSON record per
//! finding instead of samples ([`Store::append_record`]); the report reads it, the
//! harness's own reader ([`read`]) only sweep stores.

mod error;
mod merge;
mod read;
mod record;
mod writer;

pub use error::StoreError;
pub use merge::{merge, MergeReport};
pub use read::{read, read_contents, Contents, Truncated};
pub use record::{Header, Machine, Sample, Skipped, FORMAT, VERSION};
pub use writer::Store;
