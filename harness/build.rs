//! Embeds the git commit the binary is built from (with `-dirty` when the workspace has
//! uncommitted changes) as `CELLUCID_BENCH_GIT`, for the result store's header: a sweep
//! records the source of the binary that measured, not whatever the tree holds when it
//! runs. Outside a git checkout (a source tarball) nothing is embedded.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    // Rebuild the stamp when the commit, the index or any workspace source changes.
    for p in [".git/HEAD", ".git/index", "core/src", "datasets/src", "reports/src", "harness/src", "harness/plans", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={root}/{p}");
    }
    let Some(commit) = git(&["-C", root, "rev-parse", "HEAD"]) else { return };
    let dirty = git(&["-C", root, "status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    println!("cargo:rustc-env=CELLUCID_BENCH_GIT={commit}{}", if dirty { "-dirty" } else { "" });
}
