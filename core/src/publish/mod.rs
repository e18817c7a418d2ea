//! Atomic publication of one export generation (FORMAT.md §2 B/C/E and §14).
//!
//! A generation is never written into `out_dir` directly. It is built in a staging
//! directory beside it and published by an atomic exchange (or, where the filesystem
//! cannot exchange, two renames), so a reader sees either the previous
//! complete generation or the new complete one, and a refused or crashed export leaves
//! `out_dir` byte-for-byte as it was. Every reserved name is a sibling of `out_dir` in its
//! parent, `<name>` being the last component of `out_dir`:
//!
//! - `.<name>.cellucid.lock`: the writer lock, a POSIX record lock that excludes other
//!   processes (including the Python and R writers); writable by whoever may write the
//!   parent, kept after a publication, removed after a rollback if this process created it.
//! - `.<name>.cellucid-transaction.json`: the write-ahead journal, canonical bytes shared
//!   with cellucid 0.9.2 and cellucid-r, present exactly while a transaction is open.
//! - `.<name>.cellucid-stage-<id>/` and `.<name>.cellucid-backup-<id>/`: the generation
//!   being built and, during commit, the previous generation moved aside (under the stage
//!   name after an exchange, under the backup name after two renames).
//!
//! Use: [`resolve_out_dir`] (step A.8), then [`Transaction::begin`] (steps B and C), build
//! the generation in [`Transaction::stage_dir`], then [`Transaction::commit`] (step E).
//! Dropping a transaction without committing rolls it back; a crash is rolled back (or
//! finished, when the new generation was already in place) by the next `begin` for the
//! same `out_dir`.
//!
//! Module map: [`out_dir`](resolve_out_dir) resolution and the protected-directory check,
//! `lock` (file lock + process registry), `journal` (canonical journal bytes),
//! `durable` (fsync-ordered filesystem primitives), `exchange` (`renameat2` swap),
//! `permissions` (may this user replace the previous generation), `transaction` (begin,
//! commit, rollback, recovery), `signals` ([`roll_back_on_signals`]).

mod durable;
mod exchange;
mod journal;
mod lock;
mod out_dir;
mod permissions;
mod scratch;
mod signals;
mod transaction;

#[cfg(test)]
mod crash_tests;
#[cfg(test)]
mod tests;

pub use durable::fsync_dir;
pub use out_dir::resolve_out_dir;
pub use scratch::ScratchRegistration;
pub use signals::roll_back_on_signals;
pub use transaction::Transaction;

/// Test-only fault injection: abort the process at a named step of the protocol when
/// `CELLUCID_PUBLISH_CRASH_AT` names it, to test recovery from a real crash.
#[cfg(test)]
pub(crate) fn crash_point(name: &str) {
    if std::env::var(CRASH_AT).as_deref() == Ok(name) {
        std::process::abort();
    }
}

/// The variable naming the crash point.
#[cfg(test)]
pub(crate) const CRASH_AT: &str = "CELLUCID_PUBLISH_CRASH_AT";

/// Test-only: at crash point `name`, delete one file of `tree` (a removal that got
/// part of the way), then abort.
#[cfg(test)]
pub(crate) fn crash_point_in_removal(name: &str, tree: &std::path::Path) {
    fn first_file(dir: &std::path::Path) -> Option<std::path::PathBuf> {
        for entry in std::fs::read_dir(dir).ok()?.flatten() {
            let kind = entry.file_type().ok()?;
            if kind.is_dir() {
                if let Some(found) = first_file(&entry.path()) {
                    return Some(found);
                }
            } else {
                return Some(entry.path());
            }
        }
        None
    }
    if std::env::var(CRASH_AT).as_deref() == Ok(name) {
        if let Some(file) = first_file(tree) {
            let _ = std::fs::remove_file(file);
        }
        std::process::abort();
    }
}
