//! The exclusive, non-waiting writer lock of one export target (FORMAT.md §14 "Lock
//! file"): `parent/.<name>.cellucid.lock`, locked whole with `fcntl(F_SETLK, F_WRLCK)`,
//! the primitive Python's `fcntl.lockf` and cellucid-r use, so the three writers exclude
//! each other.
//!
//! POSIX record locks belong to the *process*: a second lock from the same process
//! succeeds, and closing *any* descriptor of the file drops the process's lock. So a
//! process-local registry of held lock paths is consulted before the file is even
//! opened; re-entry is refused without touching the file, and the lock of the first
//! holder cannot be released by accident.
//!
//! **Who may lock.** `F_WRLCK` needs a descriptor open for writing, so a lock file only
//! its creator can write (0.9.2 creates it 0600) shuts out every other user who may
//! export to the same parent. A lock file this writer creates gets the parent's write
//! audience instead (fchmod, so the umask does not matter): owner read/write, plus
//! group read/write if the parent is group-writable (and the file's group is set to the
//! parent's, where the creator may), plus others read/write if the parent is
//! world-writable. That is safe because anyone who may write the parent could already
//! delete or replace the lock file; anyone who may not gets no way to hold the lock and
//! block exports.
//!
//! **When the lock file is removed.** 0.9.2 never deletes it. This writer removes it
//! only when the transaction did not publish (a refusal or rollback; a published
//! generation keeps it, as the reference does), *and* this process created it, *and*
//! still holds the lock, *and* the path still names the locked inode. Removing a lock
//! file has a known race: a process that opened the old file just before the unlink
//! can lock the now-nameless inode after we release it, while a third process creates
//! and locks a new file at the path. This writer closes that race for itself: after
//! locking, it re-checks that the path still names the inode it locked and starts over
//! if not. A writer that does not re-check (0.9.2, cellucid-r) could still slip into it
//! only by opening the file in the microseconds between our unlink and its own lock
//! call *while we hold the lock*, and by then racing a third writer; that is why the
//! file is removed only in the case the issue asks for (nothing was published, so the
//! parent returns to exactly its previous state) and kept after every publication.

use super::durable::runtime;
use crate::error::{ExportError, IoContext, Result};
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs::{File, OpenOptions, Permissions};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// Canonical paths of the lock files this process holds.
static HELD: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

fn held() -> MutexGuard<'static, BTreeSet<PathBuf>> {
    // A panic while holding the guard cannot leave the set half-updated (every
    // operation is a single insert or remove), so a poisoned lock is still valid.
    HELD.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A held writer lock; dropping it releases the lock and the registry entry, and
/// removes the lock file if this process created it and [`keep`](Self::keep) was not
/// called (see the module doc).
pub(crate) struct ExportLock {
    file: Option<File>,
    record: LockRecord,
    keep: bool,
}

/// What is needed to remove a lock file this process created, also from a thread that
/// does not own the [`ExportLock`] (the signal rollback).
#[derive(Clone, Debug)]
pub(crate) struct LockRecord {
    path: PathBuf,
    dev: u64,
    ino: u64,
    created: bool,
}

impl LockRecord {
    /// Remove the lock file if this process created it and the path still names the
    /// inode it locked. The caller must still hold the lock.
    pub(crate) fn remove_if_created(&self) {
        if !self.created {
            return;
        }
        match std::fs::symlink_metadata(&self.path) {
            Ok(meta) if meta.dev() == self.dev && meta.ino() == self.ino => {
                // Best effort: a lock file left behind is harmless (the next export
                // reuses it), so a failure here must not turn a result into an error.
                let _ = std::fs::remove_file(&self.path);
            }
            _ => {}
        }
    }
}

/// How many times to start over when the lock file was replaced under us.
const ACQUIRE_ATTEMPTS: usize = 16;

/// `parent/.<name>.cellucid.lock` for `target`.
pub(crate) fn lock_path(parent: &Path, name: &std::ffi::OsStr) -> PathBuf {
    let mut file_name = OsString::from(".");
    file_name.push(name);
    file_name.push(".cellucid.lock");
    parent.join(file_name)
}

impl ExportLock {
    /// Take the lock for `target` (whose parent must exist), or refuse with the
    /// reference's `RuntimeError` if this or another process holds it.
    pub(crate) fn acquire(target: &Path) -> Result<ExportLock> {
        let (Some(parent), Some(name)) = (target.parent(), target.file_name()) else {
            return Err(ExportError::Internal(format!(
                "lock target has no parent: {}",
                target.display()
            )));
        };
        // Key on the resolved parent so that two spellings of one directory collide.
        let canonical_parent = parent.canonicalize().ctx("resolve", parent)?;
        let parent_meta = std::fs::metadata(&canonical_parent).ctx("inspect", &canonical_parent)?;
        let path = lock_path(&canonical_parent, name);

        let mut registry = held();
        if registry.contains(&path) {
            return Err(busy(target));
        }
        for _ in 0..ACQUIRE_ATTEMPTS {
            if let Some(lock) = try_acquire(&path, &parent_meta, target)? {
                registry.insert(path);
                return Ok(lock);
            }
        }
        Err(runtime(format!(
            "Export lock file kept being replaced while it was being locked: {}",
            path.display()
        )))
    }

    /// The data the signal rollback needs to remove this lock file.
    pub(crate) fn record(&self) -> LockRecord {
        self.record.clone()
    }

    /// Keep the lock file on release (a generation was published).
    pub(crate) fn keep(&mut self) {
        self.keep = true;
    }
}

fn busy(target: &Path) -> ExportError {
    runtime(format!(
        "An export generation is already active for {}.",
        target.display()
    ))
}

/// One attempt: open (or create) the lock file, lock it, and check that the path still
/// names the locked inode. `Ok(None)`: it did not (someone removed or replaced it
/// between our open and our lock), try again.
fn try_acquire(
    path: &Path,
    parent_meta: &std::fs::Metadata,
    target: &Path,
) -> Result<Option<ExportLock>> {
    // A symlinked or hard-linked lock file could alias another target's lock
    // (and closing our descriptor would then drop that lock): refuse both.
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if meta.file_type().is_symlink() {
            return Err(runtime(format!(
                "Export lock path must not be a symbolic link: {}",
                path.display()
            )));
        }
        if !meta.file_type().is_file() || meta.nlink() != 1 {
            return Err(not_lone(path));
        }
    }
    let Some((file, created)) = open_or_create(path, parent_meta)? else {
        return Ok(None);
    };
    let meta = file.metadata().ctx("inspect export lock", path)?;
    if !meta.file_type().is_file() || meta.nlink() != 1 {
        return Err(not_lone(path));
    }
    match set_lock(&file, libc::F_WRLCK) {
        Ok(()) => {}
        Err(e) if matches!(e.raw_os_error(), Some(libc::EAGAIN) | Some(libc::EACCES)) => {
            return Err(busy(target))
        }
        Err(e) => return Err(ExportError::io("lock", path, e)),
    }
    let record = LockRecord {
        path: path.to_path_buf(),
        dev: meta.dev(),
        ino: meta.ino(),
        created,
    };
    match std::fs::symlink_metadata(path) {
        Ok(now) if now.dev() == record.dev && now.ino() == record.ino => Ok(Some(ExportLock {
            file: Some(file),
            record,
            keep: false,
        })),
        _ => Ok(None), // dropping `file` releases the lock on the orphaned inode
    }
}

fn not_lone(path: &Path) -> ExportError {
    runtime(format!(
        "Export lock path must identify one non-linked regular non-symbolic file: {}",
        path.display()
    ))
}

/// Create the lock file with the parent's write audience, or open the existing one.
/// `Ok(None)`: it vanished between the two attempts.
fn open_or_create(path: &Path, parent_meta: &std::fs::Metadata) -> Result<Option<(File, bool)>> {
    let open = |create: bool| {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(create)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(path)
    };
    match open(true) {
        Ok(file) => {
            share_with_parent_writers(&file, path, parent_meta)?;
            return Ok(Some((file, true)));
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(ExportError::io("create export lock", path, e)),
    }
    match open(false) {
        Ok(file) => Ok(Some((file, false))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Err(not_writable(path)),
        Err(e) => Err(ExportError::io("open export lock", path, e)),
    }
}

/// Give a new lock file the write audience of its parent (see the module doc).
fn share_with_parent_writers(
    file: &File,
    path: &Path,
    parent_meta: &std::fs::Metadata,
) -> Result<()> {
    let parent_mode = parent_meta.mode();
    let mut mode = 0o600;
    if parent_mode & 0o020 != 0 {
        mode |= 0o060;
        // New files take the creator's group unless the parent is setgid; group
        // write is only useful with the parent's group. Only a member (or root) may
        // change it; otherwise the group bits stay on the creator's group.
        if file.metadata().map(|m| m.gid()).ok() != Some(parent_meta.gid()) {
            let _ = std::os::unix::fs::fchown(file, None, Some(parent_meta.gid()));
        }
    }
    if parent_mode & 0o002 != 0 {
        mode |= 0o006;
    }
    file.set_permissions(Permissions::from_mode(mode))
        .ctx("set the mode of export lock", path)
}

/// The refusal when an existing lock file is not writable by this user.
fn not_writable(path: &Path) -> ExportError {
    let owner = std::fs::symlink_metadata(path)
        .map(|m| {
            format!(
                "owned by uid {} with mode {:04o}",
                m.uid(),
                m.mode() & 0o7777
            )
        })
        .unwrap_or_else(|_| "not writable".into());
    runtime(format!(
        "Export lock file {} cannot be opened for writing by this user (uid {}): it is {owner}, \
         as cellucid 0.9.2 creates it. Every user who exports here must be able to write it: \
         its owner can run `chmod a+rw` on it, or anyone may delete it while no export is running.",
        path.display(),
        super::permissions::euid(),
    ))
}

impl Drop for ExportLock {
    fn drop(&mut self) {
        if let Some(file) = self.file.take() {
            // Remove before unlocking: only while we hold the lock can no writer of
            // ours be between its open and its re-check of this path.
            if !self.keep {
                self.record.remove_if_created();
            }
            // Closing releases the record lock anyway; unlocking first makes the
            // release explicit and independent of other descriptors' lifetimes.
            let _ = set_lock(&file, libc::F_UNLCK);
            drop(file);
        }
        // Only now may this process open the file again.
        held().remove(&self.record.path);
    }
}

/// `fcntl(F_SETLK)` over the whole file (`l_start = 0`, `l_len = 0`), never waiting.
fn set_lock(file: &File, kind: libc::c_int) -> std::io::Result<()> {
    // SAFETY: `flock` is plain old data, fully initialised below; the descriptor is
    // open for the duration of the call.
    let rc = unsafe {
        let mut region: libc::flock = std::mem::zeroed();
        region.l_type = kind as libc::c_short;
        region.l_whence = libc::SEEK_SET as libc::c_short;
        region.l_start = 0;
        region.l_len = 0;
        libc::fcntl(file.as_raw_fd(), libc::F_SETLK, &region)
    };
    if rc == -1 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    }
}
