//! Locating the golden set and comparing an export folder with a case's `expected/`
//! (`cellucid_core::compare`, with the empty directories `expected_tree.json` lists).

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// The shared folder beside the repository (`../shared`), or `CELLUCID_SHARED`.
pub fn shared_dir() -> PathBuf {
    if let Ok(p) = std::env::var("CELLUCID_SHARED") {
        return PathBuf::from(p);
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf();
    repo.parent().expect("parent of the repository").join("shared")
}

/// Every golden case directory, sorted.
pub fn golden_cases() -> Vec<PathBuf> {
    let dir = shared_dir().join("golden");
    let mut v: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("case")))
        .collect();
    v.sort();
    v
}

/// Relative paths of files and of directories below `root`.
pub fn listing(root: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    cellucid_core::compare::listing(root).unwrap_or_else(|e| panic!("cannot list {}: {e}", root.display()))
}

/// The directories the golden tree declares (including empty ones dropped by git).
pub fn expected_dirs(case: &Path) -> BTreeSet<String> {
    let tree: serde_json::Value =
        serde_json::from_slice(&fs::read(case.join("expected_tree.json")).expect("expected_tree.json")).expect("json");
    tree["directories"]
        .as_array()
        .expect("directories")
        .iter()
        .map(|d| d["path"].as_str().expect("path").to_string())
        .collect()
}

/// Compare `actual` with the case's `expected/`; returns every difference found.
pub fn compare(case: &Path, actual: &Path) -> Vec<String> {
    cellucid_core::compare::compare_folders(&case.join("expected"), actual, Some(&expected_dirs(case)))
}
