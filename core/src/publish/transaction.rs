//! One export transaction: begin (FORMAT.md §2 steps B and C), commit (step E),
//! rollback, and recovery of a transaction a crashed process left behind (§14).
//!
//! The protocol, all in `parent` (the directory holding `out_dir`), under the lock:
//!
//! 1. begin: take the lock, recover, check `out_dir` and that this user may replace
//!    it, write the journal (id, had_target), create the stage `.<name>.cellucid-stage-<id>/`.
//! 2. commit, when `out_dir` existed: exchange stage and `out_dir` in one
//!    `renameat2(RENAME_EXCHANGE)`, after which the stage name holds the previous
//!    generation, and delete that tree. Where the filesystem cannot exchange, the
//!    reference's two renames instead: `out_dir` → backup `.<name>.cellucid-backup-<id>/`,
//!    stage → `out_dir`, delete the backup. When `out_dir` did not exist: stage →
//!    `out_dir`. Then remove the journal. Each step is followed by a directory fsync.
//!
//! The journal exists from before the stage is created until after the previous
//! generation is gone, so every intermediate state a crash can leave is named by a
//! journal, and the journal plus which of target/stage/backup exist decides what to do
//! without guessing (see [`recover`]). The exchange needs no new state: before it,
//! (target, stage) are (old, new); after it, (new, old); the reference's rule for that
//! state, "remove the stage", therefore keeps the old generation before the exchange and
//! the new one after it, and cellucid 0.9.2 recovers our crashes as we recover its own.
//!
//! Once the new generation is in place, failing to delete the previous one (or, in
//! recovery, the copy that lost) is a warning on stderr, not an error: the journal is
//! removed anyway, because the target is a complete generation and nothing is
//! ambiguous, and a journal that recovery can never settle would fail every later
//! export. The tree stays under its reserved name for a person to delete.
//!
//! Stage or backup directories **without** a journal are never touched. The protocol
//! produces them only in that warning case, or they were made or left by someone else,
//! e.g. a journal deleted by hand after a crash between the two renames, in which case
//! the backup is the only copy of the previous generation. Deleting them could destroy
//! data; ignoring them is harmless, because a new transaction picks a fresh random id
//! whose stage and backup names are free.
//!
//! Every protocol step runs under one process-wide mutex, which also lists the open
//! transactions: the signal rollback (`signals`) takes it, so it runs between steps and
//! never interleaves with one, and rolls back exactly the transactions still open.

use super::durable::{self, dir_or_absent, runtime};
use super::exchange::{exchange, Exchange};
use super::journal::{self, JournalEntry};
use super::lock::{ExportLock, LockRecord};
use super::out_dir::resolve_out_dir;
use super::permissions;
use crate::error::{ErrorClass, ExportError, IoContext, Result};
use crate::options::Durability;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// The open transactions of this process, guarded by the mutex every protocol step holds.
struct Registry {
    next_serial: u64,
    open: BTreeMap<u64, OpenRecord>,
}

/// What the signal rollback needs to know about one open transaction.
struct OpenRecord {
    target: PathBuf,
    lock: LockRecord,
}

static PROTOCOL: Mutex<Registry> = Mutex::new(Registry {
    next_serial: 0,
    open: BTreeMap::new(),
});

fn protocol() -> MutexGuard<'static, Registry> {
    // Every update of the registry is a single insert or remove, so a panic while the
    // guard was held cannot have left it half-updated.
    PROTOCOL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Roll back every open transaction of this process (as their `Drop` would), remove the
/// lock files they created, and keep the protocol mutex locked for good, so that no
/// other thread takes another step. Only for a process about to die (the signal
/// rollback); waits for a step in progress to finish.
pub(crate) fn roll_back_all_before_exit() {
    let registry = protocol();
    for record in registry.open.values() {
        if let Err(error) = recover(&record.target) {
            eprintln!(
                "warning: could not roll back the export to {}: {error}",
                record.target.display()
            );
        }
        record.lock.remove_if_created();
    }
    std::mem::forget(registry);
}

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
/// the journal is deleted, and the lock file too if this transaction created it. A
/// published generation keeps the lock file.
pub struct Transaction {
    target: PathBuf,
    paths: ReservedPaths,
    entry: JournalEntry,
    stage: PathBuf,
    backup: PathBuf,
    /// This transaction's key in the registry of open transactions.
    serial: u64,
    /// False once the transaction has been committed or already recovered.
    open: bool,
    /// Declared last so it is released after `Drop::drop` has rolled back.
    lock: ExportLock,
}

impl Transaction {
    /// Steps B and C of FORMAT.md §2: re-check `out_dir` with [`resolve_out_dir`],
    /// `mkdir -p` its parent, take the lock, recover an interrupted transaction, refuse
    /// a symlinked, non-directory, or (without `force`) non-empty `out_dir`, refuse if
    /// this user could not move the previous generation away and delete it, then write
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
        let mut registry = protocol();
        // From here on, an error drops `lock`, which removes the lock file if this
        // process created it.
        let lock = ExportLock::acquire(&target)?;
        #[cfg(test)]
        super::crash_point("after-lock");
        recover(&target)?;
        check_target(&target, force)?;
        permissions::check_parent(&parent, &target)?;
        let had_target = dir_or_absent(&target, "Export target")?;
        if had_target {
            permissions::check_replaceable(&parent, &target)?;
        }

        let paths = ReservedPaths::of(&target)?;
        let (id, stage, backup) = fresh_id(&target)?;
        let serial = registry.next_serial;
        registry.next_serial += 1;
        registry.open.insert(
            serial,
            OpenRecord {
                target: target.clone(),
                lock: lock.record(),
            },
        );
        let transaction = Transaction {
            target,
            paths,
            entry: JournalEntry {
                transaction_id: id,
                had_target,
            },
            stage,
            backup,
            serial,
            open: true,
            lock,
        };
        let started = transaction.start(&parent);
        // On error, `transaction` is dropped below, whose rollback (which takes the
        // mutex again) removes whatever of journal, temporary and stage was created.
        drop(registry);
        started.map(|()| transaction)
    }

    /// Write the journal and create the stage.
    fn start(&self, parent: &Path) -> Result<()> {
        journal::write(
            &self.paths.journal,
            &self.paths.journal_temp,
            &self.entry,
            &self.target,
        )?;
        #[cfg(test)]
        super::crash_point("after-journal");
        std::fs::create_dir(&self.stage).ctx("create staging directory", &self.stage)?;
        durable::fsync_dir(parent)?;
        #[cfg(test)]
        super::crash_point("after-stage-created");
        Ok(())
    }

    /// The directory the generation is built in; it becomes `out_dir` on commit.
    pub fn stage_dir(&self) -> &Path {
        &self.stage
    }

    /// Step E: publish the staged generation (see the module doc), then remove the
    /// journal. With [`Durability::Durable`] every file and directory of the stage is
    /// fsynced before it is published.
    ///
    /// On failure the transaction is recovered at once (the previous generation is back
    /// in place, or the new one is, if it was already published) and the error returned.
    /// A previous generation that cannot be deleted after publication is a warning on
    /// stderr, not a failure.
    pub fn commit(mut self, durability: Durability) -> Result<()> {
        let mut registry = protocol();
        let mut published = false;
        let outcome = self.publish(durability, &mut published);
        // Either way, the journal decides what is on disk now: recovery settles a
        // failed publish, and is a no-op after a successful one.
        self.open = false;
        registry.open.remove(&self.serial);
        let result = match outcome {
            Ok(()) => Ok(()),
            Err(error) => match recover(&self.target) {
                Ok(()) => Err(error),
                Err(cleanup) => Err(runtime(format!(
                    "Failed to recover rejected export transaction for {}: {cleanup} (after: {error})",
                    self.target.display()
                ))),
            },
        };
        if published {
            self.lock.keep();
        }
        drop(registry);
        result
    }

    fn publish(&self, durability: Durability, published: &mut bool) -> Result<()> {
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
        let previous = if self.entry.had_target {
            Some(self.replace_target(published)?)
        } else {
            if durable::exists(&self.target)? {
                return Err(runtime(format!(
                    "Initial export target appeared during publication: {}",
                    self.target.display()
                )));
            }
            durable::rename(&self.stage, &self.target)?;
            *published = true;
            #[cfg(test)]
            super::crash_point("after-publish");
            None
        };
        if let Some(previous) = previous {
            #[cfg(test)]
            super::crash_point_in_removal("mid-old-removal", &previous);
            remove_losing_copy(&previous, &self.target, "the previous generation");
            #[cfg(test)]
            super::crash_point("after-old-removal");
        }
        journal::require_active(&self.paths.journal, &self.entry)?;
        durable::remove_control_file(&self.paths.journal)?;
        #[cfg(test)]
        super::crash_point("after-journal-removal");
        Ok(())
    }

    /// Put the stage in place of the existing target; returns where the previous
    /// generation now is (the stage name after an exchange, else the backup name).
    fn replace_target(&self, published: &mut bool) -> Result<PathBuf> {
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
        if exchange(&self.stage, &self.target)? == Exchange::Swapped {
            *published = true;
            #[cfg(test)]
            super::crash_point("after-exchange");
            return Ok(self.stage.clone());
        }
        durable::rename(&self.target, &self.backup)?;
        #[cfg(test)]
        super::crash_point("after-backup");
        durable::rename(&self.stage, &self.target)?;
        *published = true;
        #[cfg(test)]
        super::crash_point("after-publish");
        Ok(self.backup.clone())
    }
}

/// Delete the copy of a generation that is no longer published (the previous one after
/// a commit, whichever lost in recovery). The target is complete either way, so a
/// failure is a warning and the tree is left for a person to delete (module doc).
fn remove_losing_copy(tree: &Path, target: &Path, what: &str) {
    if let Err(error) = durable::remove_tree(tree) {
        eprintln!(
            "warning: {} is complete, but {what} could not be deleted ({error}); it is left at {} for \
             you to delete",
            target.display(),
            tree.display()
        );
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        let mut registry = protocol();
        if self.open {
            // Rollback is best effort here: Drop cannot report an error, and whatever
            // it cannot settle stays journaled, so the next `begin` settles it or
            // refuses with the reason.
            let _ = recover(&self.target);
            self.open = false;
        }
        registry.open.remove(&self.serial);
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
/// | true  | (T, S, -) | crashed before commit, or after the exchange | remove stage |
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
        // The target is complete and the stage is the other copy: the unfinished new
        // generation, or the previous one after an exchange.
        (true, (true, true, false)) => {
            remove_losing_copy(&stage, target, "the interrupted export's other generation")
        }
        (false, (false, true, false)) => durable::remove_tree(&stage)?,
        (true, (false, true, true)) => {
            durable::rename(&backup, target)?;
            durable::remove_tree(&stage)?;
        }
        (true, (true, false, true)) => {
            remove_losing_copy(&backup, target, "the interrupted export's previous generation")
        }
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
