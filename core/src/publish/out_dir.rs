//! Step A.8: turn the user's `out_dir` into an absolute path, refusing directories that
//! are never set aside for one dataset (FORMAT.md §14 "Protected `out_dir` values").
//!
//! Publishing renames the whole existing target aside and deletes it, so naming the
//! home directory (or `.`) with `force` would destroy it. The comparison is made the way
//! cellucid 0.9.2 makes it (`_contracts._require_export_output_directory`): after `~`
//! expansion, and after resolving every symbolic link of the part of the path that
//! exists, both on the whole path and on its parent alone, so an alias cannot smuggle a
//! protected directory through.

use crate::error::{ExportError, Result};
use crate::fixed_hash::FixedMap;
use std::ffi::{CStr, CString, OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Component, Path, PathBuf};

/// Step A.8: expand a leading `~`, make `out_dir` absolute against the current working
/// directory (read now), and refuse protected directories: the filesystem root, the
/// CWD, the home directory and its parent, and any path whose last component is empty,
/// `.` or `..`.
///
/// The returned path is absolute and lexically tidied (no `.` components, no trailing
/// slash) but symbolic links are **not** resolved in it: the target is the name the user
/// gave, exactly as the reference keeps it. Calling this again on its own result returns
/// the same path, so [`Transaction::begin`](super::Transaction::begin) re-checks it.
pub fn resolve_out_dir(out_dir: &Path) -> Result<PathBuf> {
    let expanded = expand_user(out_dir);
    let cwd = std::env::current_dir()
        .map_err(|e| ExportError::io("read the current working directory for", out_dir, e))?;
    let absolute: PathBuf = cwd.join(&expanded).components().collect();
    let resolved = realpath(&absolute);

    let protected = protected_directories(&cwd);
    // `file_name()` is None for "", ".", "..", "/" and anything ending in "..": the
    // reference's `expanded.name in {"", ".."}` (pathlib drops a trailing ".").
    let refused = match expanded.file_name() {
        None => true,
        Some(name) => {
            let parent = absolute
                .parent()
                .map(realpath)
                .unwrap_or_else(|| PathBuf::from("/"));
            resolved.parent().is_none()
                || protected.contains(&resolved)
                || protected.contains(&parent.join(name))
        }
    };
    if refused {
        return Err(ExportError::value(
            "out_dir",
            format!(
                "out_dir must name a dedicated dataset output directory, not {}. Publishing replaces the \
                 whole directory, so the filesystem root, the current working directory, the home \
                 directory, and the directory holding it are refused. Pass a child directory of your \
                 own, such as './exports/my_dataset'.",
                resolved.display()
            ),
        ));
    }
    Ok(absolute)
}

/// The directories no export may claim: the CWD, the home directory and its parent,
/// each with its symbolic links resolved.
fn protected_directories(cwd: &Path) -> Vec<PathBuf> {
    let mut protected = vec![realpath(cwd)];
    if let Some(home) = user_home(None) {
        let home = realpath(&home);
        protected.push(
            home.parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| home.clone()),
        );
        protected.push(home);
    }
    protected
}

/// `os.path.expanduser`: `~` and `~/…` use `$HOME` (else the password database);
/// `~user/…` uses that user's home. An unknown user leaves the path unchanged.
fn expand_user(path: &Path) -> PathBuf {
    let bytes = path.as_os_str().as_bytes();
    if bytes.first() != Some(&b'~') {
        return path.to_path_buf();
    }
    let end = bytes.iter().position(|&b| b == b'/').unwrap_or(bytes.len());
    let user = &bytes[1..end];
    let home = if user.is_empty() {
        user_home(None)
    } else {
        user_home(Some(user))
    };
    let Some(home) = home else {
        return path.to_path_buf();
    };
    let rest = bytes[end..].strip_prefix(b"/").unwrap_or(&bytes[end..]);
    if rest.is_empty() {
        home
    } else {
        home.join(OsStr::from_bytes(rest))
    }
}

/// The home directory of the current user (`$HOME` first, as Python does) or of `user`.
fn user_home(user: Option<&[u8]>) -> Option<PathBuf> {
    if user.is_none() {
        if let Some(home) = std::env::var_os("HOME") {
            // posixpath.expanduser strips trailing slashes and maps "" to "/".
            let trimmed: PathBuf = PathBuf::from(home).components().collect();
            return Some(if trimmed.as_os_str().is_empty() {
                PathBuf::from("/")
            } else {
                trimmed
            });
        }
    }
    passwd_home(user)
}

/// The home directory recorded in the password database, via the re-entrant lookups.
fn passwd_home(user: Option<&[u8]>) -> Option<PathBuf> {
    let name = match user {
        Some(u) => Some(CString::new(u).ok()?),
        None => None,
    };
    let mut buffer = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: `passwd` is plain old data; the lookups write into it and into `buffer`,
    // whose length is passed, and `result` is either null or points at `entry`.
    unsafe {
        let mut entry: libc::passwd = std::mem::zeroed();
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = match &name {
            Some(n) => libc::getpwnam_r(
                n.as_ptr(),
                &mut entry,
                buffer.as_mut_ptr(),
                buffer.len(),
                &mut result,
            ),
            None => libc::getpwuid_r(
                libc::getuid(),
                &mut entry,
                buffer.as_mut_ptr(),
                buffer.len(),
                &mut result,
            ),
        };
        if rc != 0 || result.is_null() || entry.pw_dir.is_null() {
            return None;
        }
        let dir = CStr::from_ptr(entry.pw_dir).to_bytes().to_vec();
        let dir: PathBuf = PathBuf::from(OsString::from_vec(dir))
            .components()
            .collect();
        Some(if dir.as_os_str().is_empty() {
            PathBuf::from("/")
        } else {
            dir
        })
    }
}

/// `os.path.realpath(path, strict=False)` for an absolute path: resolve every symbolic
/// link that exists, treat missing components literally, and apply `..` after the
/// links before it are resolved. A link loop stops resolution and keeps the rest
/// unresolved, as Python does.
pub(crate) fn realpath(path: &Path) -> PathBuf {
    let mut seen = FixedMap::default();
    let (resolved, _) = join_realpath(PathBuf::from("/"), path, &mut seen);
    resolved
}

/// Port of `posixpath._joinrealpath`; returns false when a link loop was met.
fn join_realpath(
    mut base: PathBuf,
    rest: &Path,
    seen: &mut FixedMap<PathBuf, Option<PathBuf>>,
) -> (PathBuf, bool) {
    let mut components = rest.components();
    while let Some(component) = components.next() {
        match component {
            Component::RootDir => base = PathBuf::from("/"),
            Component::Prefix(_) | Component::CurDir => {}
            Component::ParentDir => {
                base.pop();
            }
            Component::Normal(name) => {
                let candidate = base.join(name);
                let is_link = std::fs::symlink_metadata(&candidate)
                    .map(|m| m.file_type().is_symlink())
                    .unwrap_or(false);
                if !is_link {
                    base = candidate;
                    continue;
                }
                match seen.get(&candidate) {
                    Some(Some(done)) => {
                        base = done.clone();
                        continue;
                    }
                    Some(None) => return (candidate.join(components.as_path()), false),
                    None => {}
                }
                let Ok(link) = std::fs::read_link(&candidate) else {
                    base = candidate;
                    continue;
                };
                seen.insert(candidate.clone(), None);
                let (resolved, ok) = join_realpath(base, &link, seen);
                if !ok {
                    return (resolved.join(components.as_path()), false);
                }
                seen.insert(candidate, Some(resolved.clone()));
                base = resolved;
            }
        }
    }
    (base, true)
}
