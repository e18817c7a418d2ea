//! Atomic publication of one export generation (FORMAT.md §2 B/C/E and §14).
//!
//! A generation is never written into `out_dir` directly. It is built in a staging
//! directory beside it and published by renames, so a reader sees either the previous
//! complete generation or the new complete one, and a refused or crashed export leaves
//! `out_dir` byte-for-byte as it was. Every reserved name is a sibling of `out_dir` in its
//! parent, `<name>` being the last component of `out_dir`:
//!
//! - `.<name>.cellucid.lock`: the writer lock, a POSIX record lock that excludes other
//!   processes (including the Python and R writers); created once and never deleted.
//! - `.<name>.cellucid-transaction.json`: the write-ahead journal, canonical bytes shared
//!   with cellucid 0.9.2 and cellucid-r, present exactly while a transaction is open.
//! - `.<name>.cellucid-stage-<id>/` and `.<name>.cellucid-backup-<id>/`: the generation
//!   being built and, during commit, the previous generation renamed aside.
//!
//! Use: [`resolve_out_dir`] (step A.8), then [`Transaction::begin`] (steps B and C), build
//! the generation in [`Transaction::stage_dir`], then [`Transaction::commit`] (step E).
//! Dropping a transaction without committing rolls it back; a crash is rolled back (or
//! finished, when the new generation was already in place) by the next `begin` for the
//! same `out_dir`.
//!
//! Module map: [`out_dir`](resolve_out_dir) resolution and the protected-directory check,
//! `lock` (file lock + process registry), `journal` (canonical journal bytes),
//! `durable` (fsync-ordered filesystem primitives), `transaction` (begin, commit,
//! rollback, recovery).

mod durable;
mod journal;
mod lock;
mod out_dir;
mod transaction;

#[cfg(test)]
mod tests;

pub use durable::fsync_dir;
pub use out_dir::resolve_out_dir;
pub use transaction::Transaction;
