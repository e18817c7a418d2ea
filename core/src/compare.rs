//! Folder equivalence under the conformance rule: the same files and directories, JSON
//! and raw payloads byte-identical, and each `.gz` one member with the same 10-byte
//! header and the same decompressed bytes (the deflate stream itself may differ).

use crate::codec::gzip::gunzip_single_member;
use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::Path;

/// Relative paths of the files and of the directories (with a trailing `/`) below `root`.
pub fn listing(root: &Path) -> io::Result<(BTreeSet<String>, BTreeSet<String>)> {
    let mut files = BTreeSet::new();
    let mut dirs = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d)? {
            let p = e?.path();
            let rel = p.strip_prefix(root).map_err(io::Error::other)?.to_string_lossy().replace('\\', "/");
            if p.is_dir() {
                dirs.insert(format!("{rel}/"));
                stack.push(p);
            } else {
                files.insert(rel);
            }
        }
    }
    Ok((files, dirs))
}

/// Every difference between `actual` and `expected`, one line each (empty: equivalent).
/// `expected_dirs` overrides the expected directory set (git drops empty directories
/// from committed golden folders).
pub fn compare_folders(expected: &Path, actual: &Path, expected_dirs: Option<&BTreeSet<String>>) -> Vec<String> {
    let mut diffs = Vec::new();
    let (ef, ed) = match listing(expected) {
        Ok(x) => x,
        Err(e) => return vec![format!("cannot list {}: {e}", expected.display())],
    };
    let (af, ad) = match listing(actual) {
        Ok(x) => x,
        Err(e) => return vec![format!("cannot list {}: {e}", actual.display())],
    };
    let ed = expected_dirs.cloned().unwrap_or(ed);
    for f in ef.symmetric_difference(&af) {
        diffs.push(format!("file {f}: {}", if ef.contains(f) { "missing" } else { "extra" }));
    }
    for d in ed.symmetric_difference(&ad) {
        diffs.push(format!("dir {d}: {}", if ed.contains(d) { "missing" } else { "extra" }));
    }
    for f in ef.intersection(&af) {
        let (e, a) = match (fs::read(expected.join(f)), fs::read(actual.join(f))) {
            (Ok(e), Ok(a)) => (e, a),
            (Err(err), _) | (_, Err(err)) => {
                diffs.push(format!("{f}: unreadable: {err}"));
                continue;
            }
        };
        if f.ends_with(".gz") {
            if a.len() < 10 || e.len() < 10 || e[..10] != a[..10] {
                diffs.push(format!("{f}: gzip header {:02x?} != {:02x?}", &a[..a.len().min(10)], &e[..e.len().min(10)]));
                continue;
            }
            match (gunzip_single_member(&e), gunzip_single_member(&a)) {
                (Ok(x), Ok(y)) if x == y => {}
                (Ok(x), Ok(y)) => {
                    diffs.push(format!("{f}: decompressed payload differs ({} vs {} bytes{})", y.len(), x.len(), first_diff(&y, &x)))
                }
                (_, Err(err)) => diffs.push(format!("{f}: not one valid gzip member: {err}")),
                (Err(err), _) => diffs.push(format!("{f}: expected file is not one valid gzip member: {err}")),
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
