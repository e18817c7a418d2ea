//! The exclusive, non-waiting writer lock of one export target (FORMAT.md §14 "Lock
//! file"): `parent/.<name>.cellucid.lock`, created empty with mode 0600 and never
//! deleted, locked whole with `fcntl(F_SETLK, F_WRLCK)`, the primitive Python's
//! `fcntl.lockf` and cellucid-r use, so the three writers exclude each other.
//!
//! POSIX record locks belong to the *process*: a second lock from the same process
//! succeeds, and closing *any* descriptor of the file drops the process's lock. So a
//! process-local registry of held lock paths is consulted before the file is even
//! opened; re-entry is refused without touching the file, and the lock of the first
//! holder cannot be released by accident.

use super::durable::runtime;
use crate::error::{ExportError, IoContext, Result};
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
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

/// A held writer lock; dropping it releases the lock and the registry entry. The lock
/// file itself stays.
pub(crate) struct ExportLock {
    file: Option<File>,
    key: PathBuf,
}

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
        let path = lock_path(&canonical_parent, name);
        let busy = || {
            runtime(format!(
                "An export generation is already active for {}.",
                target.display()
            ))
        };

        let mut registry = held();
        if registry.contains(&path) {
            return Err(busy());
        }
        // A symlinked or hard-linked lock file could alias another target's lock
        // (and closing our descriptor would then drop that lock): refuse both.
        if let Ok(meta) = std::fs::symlink_metadata(&path) {
            if meta.file_type().is_symlink() {
                return Err(runtime(format!(
                    "Export lock path must not be a symbolic link: {}",
                    path.display()
                )));
            }
            if !meta.file_type().is_file() || meta.nlink() != 1 {
                return Err(runtime(format!(
                    "Export lock path must identify one non-linked regular non-symbolic file: {}",
                    path.display()
                )));
            }
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&path)
            .ctx("open export lock", &path)?;
        let meta = file.metadata().ctx("inspect export lock", &path)?;
        if !meta.file_type().is_file() || meta.nlink() != 1 {
            return Err(runtime(format!(
                "Export lock path must identify one non-linked regular non-symbolic file: {}",
                path.display()
            )));
        }
        match set_lock(&file, libc::F_WRLCK) {
            Ok(()) => {}
            Err(e) if matches!(e.raw_os_error(), Some(libc::EAGAIN) | Some(libc::EACCES)) => {
                return Err(busy())
            }
            Err(e) => return Err(ExportError::io("lock", &path, e)),
        }
        registry.insert(path.clone());
        Ok(ExportLock {
            file: Some(file),
            key: path,
        })
    }
}

impl Drop for ExportLock {
    fn drop(&mut self) {
        if let Some(file) = self.file.take() {
            // Closing releases the record lock anyway; unlocking first makes the
            // release explicit and independent of other descriptors' lifetimes.
            let _ = set_lock(&file, libc::F_UNLCK);
            drop(file);
        }
        // Only now may this process open the file again.
        held().remove(&self.key);
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
