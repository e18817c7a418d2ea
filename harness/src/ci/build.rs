//! The two binaries a gate compares: a path to a `cellucid-bench` executable is used as
//! it is; anything else is a git revision of the repository, checked out with
//! `git worktree add` into a temporary directory and built there with
//! `cargo build --release -p cellucid-bench`. The built executable is copied out (named
//! by the commit) before the worktree is removed, so a second gate on the same revision
//! reuses it.

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
    let tmp = tempfile::Builder::new().prefix("cellucid-gate-").tempdir_in(scratch).context("cannot create a temporary directory")?;
    let wt = tmp.path().join("src");
    let wt_str = wt.to_str().context("the temporary directory is not UTF-8")?;
    git(repo, &["worktree", "add", "--detach", "--quiet", wt_str, &commit])?;
    // Build in the revision's own target dir (inside the temporary directory) unless the
    // caller shares one through CARGO_TARGET_DIR, which makes rebuilds incremental.
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| tmp.path().join("target"));
    eprintln!("ci: building {origin} in {} …", wt.display());
    let status = Command::new("cargo")
        .args(["build", "--release", "--quiet", "-p", "cellucid-bench"])
        .current_dir(&wt)
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .context("cannot run cargo");
    let built = target.join("release").join("cellucid-bench");
    let copied = match status {
        Ok(s) if s.success() => std::fs::copy(&built, &cached).map(|_| ()).with_context(|| format!("cannot copy {}", built.display())),
        Ok(s) => Err(anyhow::anyhow!("cargo build of {origin} failed ({s})")),
        Err(e) => Err(e),
    };
    // The worktree goes whether or not the build worked.
    let removed = git(repo, &["worktree", "remove", "--force", wt_str]);
    copied?;
    removed?;
    Ok(Resolved { path: cached, origin })
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
