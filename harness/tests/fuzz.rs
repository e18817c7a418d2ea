//! A bounded, seeded fuzzing run of the real binary on mutants of the golden inputs and
//! scanpy's `pbmc68k_reduced.h5ad`: no crash, hang or panic of the CLI, every error one
//! line with nothing created, every success a valid folder. About 40 s on 2 cores.
//!
//! Contained crashes and stalls (HDF5's, turned into one line by the supervisor) are
//! allowed: Debian's libhdf5 1.10.8 crashes on some corrupt files.

use std::path::{Path, PathBuf};
use std::process::Command;

fn shared() -> PathBuf {
    let p = std::env::var_os("CELLUCID_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    assert!(p.join("golden").is_dir(), "shared/ not found at {} (set CELLUCID_SHARED)", p.display());
    p
}

#[test]
fn a_seeded_fuzzing_run_finds_no_crash_hang_or_panic() {
    let keep = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_cellucid-bench"))
        .args(["fuzz", "--seed", "2026", "--mutants", "250", "--max-seconds", "35", "--read-timeout", "10"])
        .args(["--timeout", "20", "--json", "--jobs", "2"])
        .arg("--corpus")
        .arg(shared().join("golden"))
        .arg("--corpus")
        .arg(shared().join("data/pbmc68k_reduced.h5ad"))
        .arg("--keep-failures")
        .arg(keep.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    let s: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text} {}", String::from_utf8_lossy(&o.stderr)));
    let count = |k: &str| s["counts"][k].as_u64().unwrap_or(0);
    let run = s["run"].as_u64().unwrap();
    assert!(run >= 50, "only {run} mutants ran: {text}");
    // The mutants exercise both sides: some export, some are refused.
    assert!(count("ok") > 0 && count("clean-error") > 0, "{text}");
    for failure in ["crash", "hang", "panic", "contained-panic", "multi-line-error", "leftover", "invalid-output"] {
        assert_eq!(count(failure), 0, "{failure}: {text}");
    }
    assert!(o.status.success(), "{text}");
}
