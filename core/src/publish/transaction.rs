//! One export transaction: begin (FORMAT.md §2 steps B and C), commit (step E),
//! rollback, and recovery of a transaction a crashed process left behind (§14).
//!
//! The protocol, all in `parent` (the directory holding `out_dir`), under the lock:
//!
//! 1. begin: recover, check `out_dir`, write the journal (id, had_target), create the
//!    stage `.<name>.cellucid-stage-<id>/`.
//! 2. commit: [target → backup `.<name>.cellucid-backup-<id>/`], stage → target,
//!    remove the backup, remove the journal. Each step is followed by a directory fsync.
//!
//! The journal exists from before the stage is created until after the backup is gone,
//! so every intermediate state a crash can leave is named by a journal, and the journal
//! plus which of target/stage/backup exist decides what to do without guessing (see
//! [`recover`]).
//!
//! Stage or backup directories **without** a journal are never touched. The protocol
//! cannot produce them (each is removed while the journal still exists), so they were
//! made or left by someone else, e.g. a journal deleted by hand after a crash between
//! the two renames, in which case the backup is the only copy of the previous
//! generation. Deleting them could destroy data; ignoring them is harmless, because a
//! new transaction picks a fresh random id whose stage and backup names are free.

use super::durable::{self, dir_or_absent, runtime};
use super::journal::{self, JournalEntry};
use super::lock::ExportLock;
use super::out_dir::resolve_out_dir;
use crate::error::{ErrorClass, ExportError, IoContext, Result};
use crate::options::Durability;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Every reserved sibling path of one target.
struct ReservedPaths {
    journal: PathBuf,
    journal_temp: PathBuf,
}

impl ReservedPaths {
    fn of(target: &Path) -> Result<ReservedPaths> {
        Ok(ReservedPaths {
            journal: sibling(target, ".cellucid-transaction.json")?,
            journal_temp: sibling(target, ".cellucid-transaction.json.tmp")?,
        })
    }
}

/// `parent/.<name><suffix>`.
fn sibling(target: &Path, suffix: &str) -> Result<PathBuf> {
    let (Some(parent), Some(name)) = (target.parent(), target.file_name()) else {
        return Err(ExportError::Internal(format!(
            "export target has no parent: {}",
            target.display()
        )));
    };
    let mut file_name = OsString::from(".");
    file_name.push(name);
    file_name.push(suffix);
    Ok(parent.join(file_name))
}

fn stage_path(target: &Path, id: &str) -> Result<PathBuf> {
    sibling(target, &format!(".cellucid-stage-{id}"))
}

fn backup_path(target: &Path, id: &str) -> Result<PathBuf> {
    sibling(target, &format!(".cellucid-backup-{id}"))
}

/// One export generation being built in a staging directory beside `out_dir`.
///
/// Holds the writer lock for its whole life. Dropping it without [`commit`](Self::commit)
/// rolls back: the stage is removed, a renamed-away previous generation is restored,
/// the journal is deleted. The lock file always stays.
pub struct Transaction {
    target: PathBuf,
    paths: ReservedPaths,
    entry: JournalEntry,
    stage: PathBuf,
    backup: PathBuf,
    /// False once the transaction has been committed or already recovered.
    open: bool,
    /// Declared last so it is released after `Drop::drop` has rolled back.
    _lock: ExportLock,
}

impl Transaction {
    /// Steps B and C of FORMAT.md §2: re-check `out_dir` with [`resolve_out_dir`],
    /// `mkdir -p` its parent, take the lock, recover an interrupted transaction, refuse
    /// a symlinked, non-directory, or (without `force`) non-empty `out_dir`, then write
    /// the journal and create the stage.
    pub fn begin(out_dir: &Path, force: bool) -> Result<Transaction> {
        let target = resolve_out_dir(out_dir)?;
        let parent = target
            .parent()
            .ok_or_else(|| {
                ExportError::Internal(format!("export target has no parent: {}", target.display()))
            })?
            .to_path_buf();
        std::fs::create_dir_all(&parent).ctx("create directory", &parent)?;
        let lock = ExportLock::acquire(&target)?;
        recover(&target)?;
        check_target(&target, force)?;

        let paths = ReservedPaths::of(&target)?;
        let (id, stage, backup) = fresh_id(&target)?;
        let had_target = dir_or_absent(&target, "Export target")?;
        let transaction = Transaction {
            target,
            paths,
            entry: JournalEntry {
                transaction_id: id,
                had_target,
            },
            stage,
            backup,
            open: true,
            _lock: lock,
        };
        // From here on, an error drops `transaction`, whose rollback removes whatever
        // of journal, temporary and stage was already created.
        journal::write(
            &transaction.paths.journal,
            &transaction.paths.journal_temp,
            &transaction.entry,
            &transaction.target,
        )?;
        std::fs::create_dir(&transaction.stage)
            .ctx("create staging directory", &transaction.stage)?;
        durable::fsync_dir(&parent)?;
        Ok(transaction)
    }

    /// The directory the generation is built in; it becomes `out_dir` on commit.
    pub fn stage_dir(&self) -> &Path {
        &self.stage
    }

    /// Step E: publish the staged generation. If `out_dir` existed it is renamed to the
    /// backup, the stage is renamed to `out_dir`, the backup tree and the journal are
    /// removed; the parent is fsynced after each step. With [`Durability::Durable`]
    /// every file and directory of the stage is fsynced before the first rename.
    ///
    /// On failure the transaction is recovered at once (the previous generation is back
    /// in place, or the new one is, if it was already published) and the error returned.
    pub fn commit(mut self, durability: Durability) -> Result<()> {
        let outcome = self.publish(durability);
        // Either way, the journal decides what is on disk now: recovery settles a
        // failed publish, and is a no-op after a successful one.
        self.open = false;
        match outcome {
            Ok(()) => Ok(()),
            Err(error) => match recover(&self.target) {
                Ok(()) => Err(error),
                Err(cleanup) => Err(runtime(format!(
                    "Failed to recover rejected export transaction for {}: {cleanup} (after: {error})",
                    self.target.display()
                ))),
            },
        }
    }

    fn publish(&self, durability: Durability) -> Result<()> {
        if durability == Durability::Durable {
            durable::fsync_tree(&self.stage)?;
        }
        if durable::exists(&self.paths.journal_temp)? {
            return Err(runtime(format!(
                "Export transaction temporary control path reappeared before publication: {}",
                self.paths.journal_temp.display()
            )));
        }
        journal::require_active(&self.paths.journal, &self.entry)?;
        if !dir_or_absent(&self.stage, "Staged export generation")? {
            return Err(runtime(format!(
                "Staged export directory is missing: {}",
                self.stage.display()
            )));
        }
        if self.entry.had_target {
            if !dir_or_absent(&self.target, "Export target")? {
                return Err(runtime(format!(
                    "Prior export generation is missing: {}",
                    self.target.display()
                )));
            }
            if durable::exists(&self.backup)? {
                return Err(runtime(format!(
                    "Export backup path is already occupied: {}",
                    self.backup.display()
                )));
            }
            durable::rename(&self.target, &self.backup)?;
        } else if durable::exists(&self.target)? {
            return Err(runtime(format!(
                "Initial export target appeared during publication: {}",
                self.target.display()
            )));
        }
        #[cfg(test)]
        crash_point("after-backup");
        durable::rename(&self.stage, &self.target)?;
        #[cfg(test)]
        crash_point("after-publish");
        if self.entry.had_target {
            durable::remove_tree(&self.backup)?;
        }
        journal::require_active(&self.paths.journal, &self.entry)?;
        durable::remove_control_file(&self.paths.journal)
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        if self.open {
            // Rollback is best effort here: Drop cannot report an error, and whatever
            // it cannot settle stays journaled, so the next `begin` settles it or
            // refuses with the reason.
            let _ = recover(&self.target);
        }
    }
}

/// Test-only fault injection: abort the process at a named point of `commit` when
/// `CELLUCID_PUBLISH_CRASH_AT` names it, to test recovery from a real crash.
#[cfg(test)]
fn crash_point(name: &str) {
    if std::env::var("CELLUCID_PUBLISH_CRASH_AT").as_deref() == Ok(name) {
        std::process::abort();
    }
}

/// Refuse what step B.4/B.5 refuses; the refusals leave `out_dir` untouched.
fn check_target(target: &Path, force: bool) -> Result<()> {
    let meta = match std::fs::symlink_metadata(target) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(ExportError::io("inspect", target, e)),
    };
    if meta.file_type().is_symlink() {
        return Err(ExportError::value(
            "out_dir",
            format!("out_dir must not be a symbolic link: {}", target.display()),
        ));
    }
    if !meta.is_dir() {
        return Err(ExportError::refused(
            ErrorClass::NotADirectoryError,
            "out_dir",
            format!(
                "Export path exists but is not a directory: {}",
                target.display()
            ),
        ));
    }
    if !force {
        let mut entries = std::fs::read_dir(target).ctx("list", target)?;
        if entries.next().is_some() {
            return Err(ExportError::refused(
                ErrorClass::FileExistsError,
                "out_dir",
                format!(
                    "Refusing to replace non-empty export directory {}. Pass force=True to publish a complete \
                     replacement generation.",
                    target.display()
                ),
            ));
        }
    }
    Ok(())
}

/// A random id whose stage and backup names are both free (128 tries, as the reference).
fn fresh_id(target: &Path) -> Result<(String, PathBuf, PathBuf)> {
    for _ in 0..128 {
        let id = journal::random_id()?;
        let (stage, backup) = (stage_path(target, &id)?, backup_path(target, &id)?);
        if !durable::exists(&stage)? && !durable::exists(&backup)? {
            return Ok((id, stage, backup));
        }
    }
    Err(runtime(
        "Could not allocate a unique export transaction identity.",
    ))
}

/// Resolve an interrupted transaction on `target`, if a journal names one. Must run
/// under the lock. The decision table is the reference's
/// (`_recover_export_transaction`), over (target, stage, backup) existence:
///
/// | had_target | state | meaning | action |
/// |---|---|---|---|
/// | true  | (T, -, -) | crashed before commit, or after cleanup | nothing |
/// | true  | (T, S, -) | crashed before commit | remove stage |
/// | true  | (-, S, B) | crashed between the renames | restore backup, remove stage |
/// | true  | (T, -, B) | crashed after publishing | remove backup (keep the new generation) |
/// | false | (-, -, -) | crashed before the stage existed | nothing |
/// | false | (-, S, -) | crashed before commit | remove stage |
/// | false | (T, -, -) | crashed after publishing | nothing (keep the new generation) |
///
/// Every other state is refused with "cannot be recovered without guessing"; the
/// journal then stays, so nothing is lost and the refusal repeats until a person looks.
pub(crate) fn recover(target: &Path) -> Result<()> {
    let paths = ReservedPaths::of(target)?;
    // A crash while the journal was being written leaves only its temporary: the
    // transaction never started.
    if durable::exists(&paths.journal_temp)? {
        durable::remove_control_file(&paths.journal_temp)?;
    }
    if !durable::exists(&paths.journal)? {
        return Ok(());
    }
    let entry = journal::read(&paths.journal)?;
    let stage = stage_path(target, &entry.transaction_id)?;
    let backup = backup_path(target, &entry.transaction_id)?;
    let state = (
        dir_or_absent(target, "Export target")?,
        dir_or_absent(&stage, "Staged export generation")?,
        dir_or_absent(&backup, "Prior export generation")?,
    );
    let show = |(t, s, b): (bool, bool, bool)| {
        let py = |x: bool| if x { "True" } else { "False" };
        format!("({}, {}, {})", py(t), py(s), py(b))
    };
    match (entry.had_target, state) {
        (true, (true, false, false)) | (false, (false, false, false)) | (false, (true, false, false)) => {}
        (true, (true, true, false)) | (false, (false, true, false)) => durable::remove_tree(&stage)?,
        (true, (false, true, true)) => {
            durable::rename(&backup, target)?;
            durable::remove_tree(&stage)?;
        }
        (true, (true, false, true)) => durable::remove_tree(&backup)?,
        (true, state) => {
            return Err(runtime(format!(
                "Export transaction cannot be recovered without guessing whether to commit or roll back: \
                 target/stage/backup state is {}.",
                show(state)
            )))
        }
        (false, state) => {
            return Err(runtime(format!(
                "Initial export transaction cannot be recovered without guessing whether to commit or roll \
                 back: target/stage/backup state is {}.",
                show(state)
            )))
        }
    }
    journal::require_active(&paths.journal, &entry)?;
    durable::remove_control_file(&paths.journal)
}
