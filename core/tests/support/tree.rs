//! Comparing an export folder with a golden `expected/` folder, as the conformance
//! rules say: the same files and directories (`expected_tree.json` lists the empty
//! directories git drops), JSON and raw payloads byte-identical, and each `.gz` one
//! member with the same 10-byte header and the same decompressed bytes.

#![allow(dead_code)]

use cellucid_core::codec::gzip::gunzip_single_member;
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
    let mut files = BTreeSet::new();
    let mut dirs = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap_or_else(|e| panic!("read {}: {e}", d.display())) {
            let p = e.expect("dir entry").path();
            let rel = p.strip_prefix(root).expect("below root").to_string_lossy().replace('\\', "/");
            if p.is_dir() {
                dirs.insert(format!("{rel}/"));
                stack.push(p);
            } else {
                files.insert(rel);
            }
        }
    }
    (files, dirs)
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
    let expected = case.join("expected");
    let (ef, _) = listing(&expected);
    let ed = expected_dirs(case);
    let (af, ad) = listing(actual);
    let mut diffs = Vec::new();
    for f in ef.symmetric_difference(&af) {
        diffs.push(format!("file {f}: {}", if ef.contains(f) { "missing" } else { "extra" }));
    }
    for d in ed.symmetric_difference(&ad) {
        diffs.push(format!("dir {d}: {}", if ed.contains(d) { "missing" } else { "extra" }));
    }
    for f in ef.intersection(&af) {
        let e = fs::read(expected.join(f)).expect("read expected");
        let a = fs::read(actual.join(f)).expect("read actual");
        if f.ends_with(".gz") {
            if a.len() < 10 || e[..10] != a[..10] {
                diffs.push(format!("{f}: gzip header {:02x?} != {:02x?}", &a[..a.len().min(10)], &e[..10]));
                continue;
            }
            match (gunzip_single_member(&e), gunzip_single_member(&a)) {
                (Ok(x), Ok(y)) if x == y => {}
                (Ok(x), Ok(y)) => diffs.push(format!("{f}: decompressed payload differs ({} vs {} bytes{})", y.len(), x.len(), first_diff(&y, &x))),
                (_, Err(err)) => diffs.push(format!("{f}: not one valid gzip member: {err}")),
                (Err(err), _) => diffs.push(format!("{f}: expected file unreadable: {err}")),
            }
        } else if e != a {
            let detail = if f.ends_with(".json") {
                format!("\n  ours:     {}\n  expected: {}", String::from_utf8_lossy(&a), String::from_utf8_lossy(&e))
            } else {
                first_diff(&a, &e)
            };
            diffs.push(format!("{f}: bytes differ{detail}"));
        }
    }
    diffs
}

fn first_diff(a: &[u8], b: &[u8]) -> String {
    match a.iter().zip(b).position(|(x, y)| x != y) {
        Some(i) => format!(", first difference at byte {i}: {:#04x} vs {:#04x}", a[i], b[i]),
        None => String::new(),
    }
}
