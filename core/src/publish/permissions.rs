//! Before anything is changed: can this user publish here at all, and can it move the
//! previous generation away and delete it?
//!
//! Publishing renames entries of `parent` (write and search permission on it; with the
//! sticky bit, also owning `parent` or the entry) and deletes the previous generation
//! recursively (read, write and search permission on every directory in it; in a sticky
//! directory, owning the directory or each entry). When the previous export belongs to
//! another user, the renames may well succeed and only the deletion fail, after the
//! new generation is already in place. So the export checks all of it first and
//! refuses with the reason, before the journal is written.
//!
//! The checks ask the kernel (`faccessat(AT_EACCESS)`: effective ids, supplementary
//! groups, ACLs, read-only mounts, immutable directories, `CAP_DAC_OVERRIDE`) and
//! apply the sticky rule themselves (`CAP_FOWNER` exempts from it). What they cannot
//! see (an immutable *file*, a permission changed during the export) is still
//! handled: a previous generation that cannot be deleted after publication is a
//! warning, not a failure (see `transaction`).

use super::durable::runtime;
use crate::error::{ExportError, IoContext, Result};
use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Refuse unless this user may create, rename and delete entries in `parent`.
pub(crate) fn check_parent(parent: &Path, target: &Path) -> Result<()> {
    if !may(parent, libc::W_OK | libc::X_OK)? {
        return Err(runtime(format!(
            "Cannot export to {} as this user (uid {}): no write and search permission on its parent \
             directory {}. Nothing was changed.",
            target.display(),
            euid(),
            describe(parent)
        )));
    }
    Ok(())
}

/// Refuse unless this user may rename `target` (an existing directory) within `parent`
/// and delete its whole tree afterwards.
pub(crate) fn check_replaceable(parent: &Path, target: &Path) -> Result<()> {
    let parent_meta = fs::metadata(parent).ctx("inspect", parent)?;
    let target_meta = fs::symlink_metadata(target).ctx("inspect", target)?;
    if !sticky_allows(&parent_meta, &target_meta) {
        return Err(cannot(
            target,
            format!(
                "its parent directory {} has the sticky bit and neither it nor the previous export \
                 (owned by uid {}) belongs to this user",
                describe(parent),
                target_meta.uid()
            ),
        ));
    }
    check_removable(target, target)
}

/// Every directory under `dir` (and `dir`) must be listable and writable, and in a
/// sticky one every entry must be deletable by this user. Links are not followed.
fn check_removable(dir: &Path, target: &Path) -> Result<()> {
    if !may(dir, libc::R_OK | libc::W_OK | libc::X_OK)? {
        return Err(cannot(
            target,
            format!(
                "the previous export cannot be deleted: no read, write and search permission on {}",
                describe(dir)
            ),
        ));
    }
    let dir_meta = fs::symlink_metadata(dir).ctx("inspect", dir)?;
    for entry in fs::read_dir(dir).ctx("list", dir)? {
        let entry = entry.ctx("list", dir)?;
        let kind = entry.file_type().ctx("inspect", &entry.path())?;
        if dir_meta.mode() & libc::S_ISVTX != 0 {
            let meta = entry.metadata().ctx("inspect", &entry.path())?;
            if !sticky_allows(&dir_meta, &meta) {
                return Err(cannot(
                    target,
                    format!(
                        "the previous export cannot be deleted: {} is in the sticky directory {} and \
                         belongs to uid {}",
                        entry.path().display(),
                        dir.display(),
                        meta.uid()
                    ),
                ));
            }
        }
        if kind.is_dir() {
            check_removable(&entry.path(), target)?;
        }
    }
    Ok(())
}

/// The sticky-bit rule of unlink/rename: in a sticky directory only the owner of the
/// entry, the owner of the directory, or a process with `CAP_FOWNER` may remove it.
fn sticky_allows(dir: &fs::Metadata, entry: &fs::Metadata) -> bool {
    if dir.mode() & libc::S_ISVTX == 0 {
        return true;
    }
    let euid = euid();
    euid == dir.uid() || euid == entry.uid() || has_cap_fowner()
}

/// Whether the effective capability set holds `CAP_FOWNER` (bit 3), from
/// `/proc/self/status`; false where that cannot be read.
fn has_cap_fowner() -> bool {
    const CAP_FOWNER: u32 = 3;
    let Ok(status) = fs::read_to_string("/proc/self/status") else {
        return false;
    };
    status
        .lines()
        .find_map(|line| line.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .is_some_and(|caps| caps & (1 << CAP_FOWNER) != 0)
}

/// `faccessat(path, mode, AT_EACCESS)`: whether the *effective* ids may access `path`.
fn may(path: &Path, mode: libc::c_int) -> Result<bool> {
    let c_path = CString::new(path.as_os_str().as_bytes()).map_err(|_| {
        ExportError::Internal(format!("path contains a NUL byte: {}", path.display()))
    })?;
    // SAFETY: `c_path` is NUL-terminated and outlives the call; the kernel only reads it.
    let rc = unsafe { libc::faccessat(libc::AT_FDCWD, c_path.as_ptr(), mode, libc::AT_EACCESS) };
    if rc == 0 {
        return Ok(true);
    }
    let error = std::io::Error::last_os_error();
    match error.raw_os_error() {
        Some(libc::EACCES) | Some(libc::EPERM) | Some(libc::EROFS) | Some(libc::ETXTBSY) => {
            Ok(false)
        }
        _ => Err(ExportError::io("check access to", path, error)),
    }
}

/// `<path> (owner uid U, group G, mode 0755)`.
fn describe(path: &Path) -> String {
    match fs::symlink_metadata(path) {
        Ok(m) => format!(
            "{} (owner uid {}, gid {}, mode {:04o})",
            path.display(),
            m.uid(),
            m.gid(),
            m.mode() & 0o7777
        ),
        Err(_) => path.display().to_string(),
    }
}

fn cannot(target: &Path, reason: String) -> ExportError {
    runtime(format!(
        "Cannot replace {} as this user (uid {}): {reason}. Nothing was changed.",
        target.display(),
        euid()
    ))
}

/// This process's effective user id (the one permission checks use).
pub(crate) fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}
