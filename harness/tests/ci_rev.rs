//! `cellucid-bench ci --baseline REV --candidate REV` end to end: a temporary clone of
//! this repository with two commits (the second changes only the README), both built by
//! the gate in its worktree and compared.
//!
//! **Cost.** The gate's builds share this workspace's target directory
//! (`CARGO_TARGET_DIR`), so no dependency is compiled again (HDF5 from source among them);
//! the clone's four workspace crates are built once for the first revision, and the
//! second revision, checked out in the same worktree, rebuilds only what the README
//! change reaches (the harness, whose build script stamps the commit). Sharing the target
//! directory has one side effect: cargo links the clone's binary to
//! `target/release/cellucid-bench`, the binary this test runs. So the gate runs from a
//! copy, and the test puts the workspace's binary back (by rename, never by writing into
//! the linked file) when it ends, also on failure.

use std::path::{Path, PathBuf};
use std::process::Command;

const PLAN: &str = r#"
name = "ci-rev-smoke"
description = "one tiny configuration for the REV-to-REV gate"
seed = 3
repeats = 1
warmup = 0
mode = "list"

[axes]
density = 0.1
target = "disk"
writer = "cellucid-bench"

[[cell]]
name = "tiny-q8-gz1"
cells = 600
genes = 40
var_quantization = 8
compression = 1
"#;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_cellucid-bench"))
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git").arg("-C").arg(dir).args(args).output().expect("git");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Puts the workspace's binary back when dropped (see the module doc).
struct Restore {
    saved: PathBuf,
    target: PathBuf,
}

impl Drop for Restore {
    fn drop(&mut self) {
        let tmp = self.target.with_extension("restoring");
        if std::fs::copy(&self.saved, &tmp).is_ok() {
            let _ = std::fs::rename(&tmp, &self.target);
        }
    }
}

#[test]
fn two_revisions_are_built_in_a_worktree_and_compared() {
    let dir = tempfile::tempdir().expect("tmp");
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace");
    let repo = dir.path().join("repo");
    let cloned = Command::new("git").args(["clone", "--quiet"]).arg(workspace).arg(&repo).status().expect("git clone");
    assert!(cloned.success());
    std::fs::write(repo.join("README.md"), format!("{}\nA second revision.\n", std::fs::read_to_string(repo.join("README.md")).expect("readme")))
        .expect("edit readme");
    git(&repo, &["-c", "user.name=gate test", "-c", "user.email=gate@test", "commit", "--quiet", "-am", "second revision"]);
    let (first, second) = (git(&repo, &["rev-parse", "HEAD~1"]), git(&repo, &["rev-parse", "HEAD"]));

    let gate = dir.path().join("cellucid-bench");
    std::fs::copy(bin(), &gate).expect("copy the binary");
    let _restore = Restore { saved: gate.clone(), target: bin().to_path_buf() };
    let target_dir = bin().parent().and_then(Path::parent).expect("target dir");
    let plan = dir.path().join("plan.toml");
    std::fs::write(&plan, PLAN).expect("plan");
    let work = dir.path().join("work");
    let out = Command::new(&gate)
        .args(["ci", "--baseline", "HEAD~1", "--candidate", "HEAD", "--json", "--quiet", "--min-pairs", "1", "--repo"])
        .arg(&repo)
        .arg("--plan")
        .arg(&plan)
        .arg("--work-dir")
        .arg(&work)
        .env("CARGO_TARGET_DIR", target_dir)
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .expect("run the gate");
    let shown = format!("stdout:\n{}\nstderr:\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    // One pair cannot give a 95 % interval: inconclusive (3), and nothing failed.
    assert_eq!(out.status.code(), Some(3), "{shown}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["baseline"], format!("HEAD~1 (commit {})", &first[..12]), "{shown}");
    assert_eq!(v["candidate"], format!("HEAD (commit {})", &second[..12]), "{shown}");
    let c = &v["configurations"][0];
    assert_eq!(c["pairs"], 1, "{c}");
    assert_eq!(c["status"], "inconclusive", "{c}");
    assert_eq!(c["format_changes"].as_array().map(Vec::len), Some(0), "a README change writes the same folder: {c}");
    // Both revisions built once each, kept by commit; each says which commit it is.
    for commit in [&first, &second] {
        let built = work.join("builds").join(format!("cellucid-bench-{commit}"));
        let version = Command::new(&built).arg("--version").output().expect("run a built revision");
        assert!(version.status.success(), "{}", built.display());
    }
    // The worktree stays for the next gate's incremental build, at the second revision.
    assert_eq!(git(&work.join("builds/worktree"), &["rev-parse", "HEAD"]), second);
}
