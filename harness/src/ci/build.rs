//! The two binaries a gate compares: a path to a `cellucid-bench` executable is used as
//! it is; anything else is a git revision of the repository, checked out in a worktree
//! and built there with `cargo build --release -p cellucid-bench`. The built executable
//! is copied out (named by the commit), so a second gate on the same revision reuses it.
//!
//! **Why one persistent worktree** (`WORK_DIR/builds/worktree`, target dir
//! `WORK_DIR/builds/target` unless `CARGO_TARGET_DIR` is set): cargo decides what to
//! rebuild by path and file times. A fresh worktree per revision at a new path rebuilt
//! every workspace crate for both revisions; one worktree moved with `git checkout`
//! rewrites only the files that differ, so the second revision rebuilds only the crates
//! the change touches. Builds take an exclusive lock on `builds/worktree.lock`, so two
//! gates sharing a work dir build one after the other. After deleting a work dir,
//! `git worktree prune` forgets its worktree.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A binary ready to run, and where it came from (for the report).
#[derive(Clone, Debug)]
pub struct Resolved {
    pub path: PathBuf,
    /// `binary PATH` or `REV (commit abcdef123456)`.
    pub origin: String,
}

/// Resolve `spec` (a path or a revision of the repository at `repo`); revisions are built
/// under `scratch`.
pub fn resolve(spec: &str, repo: &Path, scratch: &Path) -> Result<Resolved> {
    let as_path = Path::new(spec);
    if as_path.is_file() {
        let path = as_path.canonicalize().with_context(|| format!("cannot resolve {spec}"))?;
        return Ok(Resolved { origin: format!("binary {}", path.display()), path });
    }
    let commit = git(repo, &["rev-parse", "--verify", "--quiet", &format!("{spec}^{{commit}}")])
        .with_context(|| format!("{spec} is neither an executable file nor a git revision of {}", repo.display()))?;
    let short = &commit[..commit.len().min(12)];
    std::fs::create_dir_all(scratch).with_context(|| format!("cannot create {}", scratch.display()))?;
    let cached = scratch.join(format!("cellucid-bench-{commit}"));
    let origin = format!("{spec} (commit {short})");
    if cached.is_file() {
        return Ok(Resolved { path: cached, origin });
    }
    let _lock = lock(&scratch.join("worktree.lock"))?;
    let wt = checkout(repo, &scratch.join("worktree"), &commit)?;
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| scratch.join("target"));
    eprintln!("ci: building {origin} in {} …", wt.display());
    let status = Command::new("cargo")
        .args(["build", "--release", "--quiet", "-p", "cellucid-bench"])
        .current_dir(&wt)
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .context("cannot run cargo")?;
    if !status.success() {
        bail!("cargo build of {origin} failed ({status})");
    }
    let built = target.join("release").join("cellucid-bench");
    // Copied under a temporary name and renamed, so a reader never sees half a binary.
    let partial = scratch.join(format!(".cellucid-bench-{commit}.partial"));
    std::fs::copy(&built, &partial).with_context(|| format!("cannot copy {}", built.display()))?;
    std::fs::rename(&partial, &cached).with_context(|| format!("cannot rename to {}", cached.display()))?;
    Ok(Resolved { path: cached, origin })
}

/// An exclusive lock on `path` (created), held until the file is dropped.
fn lock(path: &Path) -> Result<std::fs::File> {
    let f = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    f.lock().with_context(|| format!("cannot lock {}", path.display()))?;
    Ok(f)
}

/// The worktree at `wt` with `commit` checked out: moved there if it exists (only the
/// files that differ are rewritten), added otherwise (or when it no longer belongs to
/// `repo`'s worktrees).
fn checkout(repo: &Path, wt: &Path, commit: &str) -> Result<PathBuf> {
    let wt_str = wt.to_str().context("the work directory is not UTF-8")?;
    if wt.join(".git").exists() {
        let moved = git(wt, &["checkout", "--detach", "--force", "--quiet", commit]).and_then(|_| git(wt, &["clean", "-fdq"]));
        if moved.is_ok() {
            return Ok(wt.to_path_buf());
        }
        std::fs::remove_dir_all(wt).with_context(|| format!("cannot remove {}", wt.display()))?;
    }
    // A worktree directory deleted by hand is still registered: forget it first.
    git(repo, &["worktree", "prune"])?;
    git(repo, &["worktree", "add", "--detach", "--force", "--quiet", wt_str, commit])?;
    Ok(wt.to_path_buf())
}

/// Run git in `repo`; its trimmed stdout, or an error with its stderr.
fn git(repo: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new("git").arg("-C").arg(repo).args(args).output().context("cannot run git")?;
    if !out.status.success() {
        bail!("git {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_used_as_is_and_nonsense_is_refused() {
        let d = tempfile::tempdir().expect("tmp");
        let bin = d.path().join("bin");
        std::fs::write(&bin, b"#!/bin/sh\n").expect("write");
        let r = resolve(bin.to_str().expect("utf8"), d.path(), d.path()).expect("resolved");
        assert_eq!(r.path, bin.canonicalize().expect("canon"));
        let err = resolve("no-such-rev-or-file", d.path(), d.path()).expect_err("refused");
        assert!(format!("{err:#}").contains("neither an executable file nor a git revision"), "{err:#}");
    }
}
