//! Swapping two directories in one step: `renameat2(RENAME_EXCHANGE)`.
//!
//! Publishing by two renames (target → backup, stage → target) leaves a moment in which
//! `out_dir` does not exist; a crash there leaves the old generation only under its
//! hidden backup name until the next export recovers it. Exchanging stage and target
//! atomically has no such moment: `out_dir` names the old generation until the
//! exchange and the new one after it, and the stage name then holds the old generation.
//!
//! Linux supports the exchange on local filesystems (ext4, xfs, btrfs, tmpfs, f2fs, …).
//! Filesystems without it answer `EINVAL` (e.g. FUSE filesystems such as sshfs whose
//! daemon does not implement it, NFS, CIFS, vfat), and kernels before 3.15 or
//! sandboxes that filter the call answer `ENOSYS`; some report `EOPNOTSUPP`. For those
//! the caller falls back to the two renames, which the journal makes recoverable too.

use super::durable::fsync_dir;
use crate::error::{ExportError, Result};
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// The outcome of [`exchange`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exchange {
    /// The two entries were swapped and the directory fsynced.
    Swapped,
    /// The filesystem or kernel cannot exchange; nothing was changed.
    Unsupported,
}

/// Atomically swap the directory entries `a` and `b` (both must exist, in the same
/// directory), then fsync that directory.
pub(crate) fn exchange(a: &Path, b: &Path) -> Result<Exchange> {
    #[cfg(test)]
    if std::env::var_os(FORCE_TWO_RENAMES).is_some() {
        return Ok(Exchange::Unsupported);
    }
    let (ca, cb) = (c_path(a)?, c_path(b)?);
    // SAFETY: both pointers are NUL-terminated strings that live until the call returns
    // (`ca`, `cb` are dropped at the end of this function); AT_FDCWD makes relative
    // paths relative to the working directory, as `std::fs::rename` does; the kernel
    // reads only the strings and writes nothing into our memory.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        fsync_dir(parent_of(b))?;
        return Ok(Exchange::Swapped);
    }
    let error = std::io::Error::last_os_error();
    match error.raw_os_error() {
        Some(libc::EINVAL) | Some(libc::ENOSYS) | Some(libc::EOPNOTSUPP) => {
            Ok(Exchange::Unsupported)
        }
        _ => Err(ExportError::io(
            &format!("exchange {} with", a.display()),
            b,
            error,
        )),
    }
}

/// Test builds only: with this variable set, [`exchange`] reports `Unsupported`, so the
/// two-rename fallback is exercised on filesystems that can exchange.
#[cfg(test)]
pub(crate) const FORCE_TWO_RENAMES: &str = "CELLUCID_PUBLISH_TWO_RENAMES";

fn c_path(path: &Path) -> Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| ExportError::Internal(format!("path contains a NUL byte: {}", path.display())))
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}
