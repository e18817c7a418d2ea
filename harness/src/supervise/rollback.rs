//! Rolling back a transaction a dead worker left open, through core's own recovery.
//!
//! A worker killed by a signal after the publish transaction began leaves its journal,
//! stage (and, between the two renames, a renamed-away previous generation) beside
//! `out_dir`. `Transaction::begin` recovers exactly that state, under the same lock every
//! writer takes, before anything else; dropping the transaction it then opens rolls its
//! own stage and journal back. This is the only place the supervisor touches core's
//! publish module.

use cellucid_core::publish::{resolve_out_dir, Transaction};
use std::path::{Path, PathBuf};

/// What was done about `out_dir` after a worker died.
#[derive(Debug, PartialEq, Eq)]
pub enum Rollback {
    /// No transaction was open: nothing had been created.
    NothingOpen,
    /// An open transaction was rolled back (or finished, if it had already published).
    Recovered,
}

/// Recover `out_dir` if a worker died inside a transaction; `Err` is a one-line reason.
pub fn roll_back(out_dir: &Path) -> Result<Rollback, String> {
    let Ok(target) = resolve_out_dir(out_dir) else {
        // An out_dir core refuses never had a transaction.
        return Ok(Rollback::NothingOpen);
    };
    let Some(journal) = journal_path(&target) else { return Ok(Rollback::NothingOpen) };
    if !journal.exists() {
        return Ok(Rollback::NothingOpen);
    }
    // force = true: recovery runs before the emptiness check, and this transaction is
    // never committed, so nothing in out_dir is replaced.
    match Transaction::begin(&target, true) {
        Ok(t) => {
            drop(t);
            Ok(Rollback::Recovered)
        }
        Err(e) => Err(format!("could not roll back the interrupted export: {e}")),
    }
}

/// `parent/.<name>.cellucid-transaction.json` (FORMAT.md §14, shared with the Python writer).
fn journal_path(target: &Path) -> Option<PathBuf> {
    let (parent, name) = (target.parent()?, target.file_name()?);
    let mut file = std::ffi::OsString::from(".");
    file.push(name);
    file.push(".cellucid-transaction.json");
    Some(parent.join(file))
}
