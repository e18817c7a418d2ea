//! Filesystem primitives ordered durably enough that an interrupted publication can be
//! recovered by inspecting the parent directory alone: every rename and removal of a
//! transaction path is followed by an fsync of the directory holding it, and every
//! reserved path is checked to be what it claims (a real directory, a lone regular file)
//! before it is renamed or deleted.

use crate::error::{ErrorClass, ExportError, IoContext, Result};
use rayon::prelude::*;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

/// fsync a directory, so that the entries created, renamed or removed in it survive a
/// power loss.
pub fn fsync_dir(path: &Path) -> Result<()> {
    let dir = File::open(path).ctx("open directory for fsync", path)?;
    dir.sync_all().ctx("fsync directory", path)
}

/// A `RuntimeError` about the transaction: the class the reference raises for every
/// state it refuses to touch.
pub(crate) fn runtime(message: impl Into<String>) -> ExportError {
    ExportError::refused(ErrorClass::RuntimeError, "out_dir", message)
}

/// Whether `path` is a real (non-symlink) directory; `false` if absent; a RuntimeError
/// naming `label` if it is anything else.
pub(crate) fn dir_or_absent(path: &Path, label: &str) -> Result<bool> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_dir() => Ok(true),
        Ok(_) => Err(runtime(format!(
            "{label} must be an ordinary non-symbolic directory or absent: {}",
            path.display()
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(ExportError::io("inspect", path, e)),
    }
}

/// Whether anything (even a dangling symlink) exists at `path`.
pub(crate) fn exists(path: &Path) -> Result<bool> {
    match fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(ExportError::io("inspect", path, e)),
    }
}

/// Require `path` to be one regular file with a single link (never a symlink), so that
/// deleting or trusting it cannot affect anything outside the transaction.
pub(crate) fn require_lone_file(path: &Path, label: &str) -> Result<fs::Metadata> {
    use std::os::unix::fs::MetadataExt;
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(runtime(format!("{label} is missing: {}", path.display())))
        }
        Err(e) => return Err(ExportError::io("inspect", path, e)),
    };
    if !meta.file_type().is_file() || meta.nlink() != 1 {
        return Err(runtime(format!(
            "{label} must be one non-linked, non-symbolic regular file: {}",
            path.display()
        )));
    }
    Ok(meta)
}

/// Rename one transaction path, then fsync the directory that now holds it.
pub(crate) fn rename(from: &Path, to: &Path) -> Result<()> {
    fs::rename(from, to)
        .map_err(|e| ExportError::io(&format!("rename {} to", from.display()), to, e))?;
    fsync_dir(parent_of(to))
}

/// Remove one transaction-owned directory tree (if present), then fsync its parent.
/// `remove_dir_all` never follows symbolic links, so nothing outside the tree is touched.
///
/// The signal rollback removes a stage while the export's writer threads may still be
/// creating files in it; a file created after a directory was listed makes its removal
/// fail with `ENOTEMPTY`. Writers never create directories with `create_dir_all`, so
/// once the stage itself is gone nothing can reappear: a few more passes settle it.
pub(crate) fn remove_tree(path: &Path) -> Result<()> {
    const PASSES: usize = 64;
    for pass in 1.. {
        if !dir_or_absent(path, "Export transaction directory")? {
            return Ok(());
        }
        match fs::remove_dir_all(path) {
            Ok(()) => break,
            Err(e) if pass < PASSES && e.raw_os_error() == Some(libc::ENOTEMPTY) => continue,
            Err(e) => return Err(ExportError::io("remove directory tree", path, e)),
        }
    }
    fsync_dir(parent_of(path))
}

/// Remove one transaction control file (journal or its temporary), then fsync its parent.
pub(crate) fn remove_control_file(path: &Path) -> Result<()> {
    require_lone_file(path, "Export transaction control file")?;
    fs::remove_file(path).ctx("remove", path)?;
    fsync_dir(parent_of(path))
}

/// fsync every regular file and every directory under `root`, and `root` itself.
/// Files go first and in parallel (independent inodes); directories follow, deepest
/// first, so each directory is synced after the entries it names.
pub(crate) fn fsync_tree(root: &Path) -> Result<()> {
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    collect_tree(root, 0, &mut files, &mut dirs)?;
    files.par_iter().try_for_each(|path| {
        let file = File::open(path).ctx("open for fsync", path)?;
        file.sync_all().ctx("fsync", path)
    })?;
    dirs.sort_by_key(|d| std::cmp::Reverse(d.1));
    for (dir, _) in &dirs {
        fsync_dir(dir)?;
    }
    Ok(())
}

/// Gather files and (directory, depth) pairs; symbolic links are neither followed nor
/// synced (they are not part of any generation the writer builds).
fn collect_tree(
    dir: &Path,
    depth: usize,
    files: &mut Vec<PathBuf>,
    dirs: &mut Vec<(PathBuf, usize)>,
) -> Result<()> {
    dirs.push((dir.to_path_buf(), depth));
    for entry in fs::read_dir(dir).ctx("list", dir)? {
        let entry = entry.ctx("list", dir)?;
        let kind = entry.file_type().ctx("inspect", &entry.path())?;
        if kind.is_dir() {
            collect_tree(&entry.path(), depth + 1, files, dirs)?;
        } else if kind.is_file() {
            files.push(entry.path());
        }
    }
    Ok(())
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}
