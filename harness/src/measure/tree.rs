//! Statistics of an export folder: apparent bytes, allocated bytes (`st_blocks`), files,
//! directories, and a hash of the whole tree (paths and contents) to check determinism;
//! per-file hashes to tell which of two exports each file of a folder came from.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// What one export left on disk.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TreeStats {
    pub files: u64,
    pub dirs: u64,
    /// Sum of file lengths.
    pub bytes_apparent: u64,
    /// Sum of allocated blocks × 512 (what the filesystem really spent).
    pub bytes_allocated: u64,
    /// FNV-1a 64 over every (relative path, length, content) in sorted path order, hex.
    pub hash: String,
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// Walk `root` and compute its statistics (and, if `hash`, its content hash).
pub fn tree_stats(root: &Path, hash: bool) -> io::Result<TreeStats> {
    tree_stats_hashing_if(root, |_| hash)
}

/// [`tree_stats`], hashing the contents only when `hash` says so of the walked
/// statistics (e.g. only below a size: hashing reads the whole tree again).
pub fn tree_stats_hashing_if(root: &Path, hash: impl FnOnce(&TreeStats) -> bool) -> io::Result<TreeStats> {
    let (mut stats, mut entries) = walk(root)?;
    if hash(&stats) {
        entries.sort();
        let mut h = FNV_OFFSET;
        for p in &entries {
            let rel = p.strip_prefix(root).map_err(io::Error::other)?;
            h = fnv(h, rel.as_os_str().as_encoded_bytes());
            let content = fs::read(p)?;
            h = fnv(h, &(content.len() as u64).to_le_bytes());
            h = fnv(h, &content);
        }
        stats.hash = format!("{h:016x}");
    }
    Ok(stats)
}

/// The statistics of the tree under `root` (without the hash) and its files.
fn walk(root: &Path) -> io::Result<(TreeStats, Vec<std::path::PathBuf>)> {
    let mut entries = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    let mut stats = TreeStats::default();
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d)? {
            let e = e?;
            let meta = e.metadata()?;
            if meta.is_dir() {
                stats.dirs += 1;
                stack.push(e.path());
            } else {
                stats.files += 1;
                stats.bytes_apparent += meta.len();
                stats.bytes_allocated += meta.blocks() * 512;
                entries.push(e.path());
            }
        }
    }
    Ok((stats, entries))
}

/// FNV-1a 64 of each file's content under `root`, by path relative to `root` (`/`
/// separated); a `root` that is itself a file (an AnnData `.h5ad` output) is the one
/// entry `""`. Two exports are compared file by file with it.
pub fn file_hashes(root: &Path) -> io::Result<BTreeMap<String, u64>> {
    if fs::metadata(root)?.is_file() {
        return Ok(BTreeMap::from([(String::new(), fnv(FNV_OFFSET, &fs::read(root)?))]));
    }
    let (_, entries) = walk(root)?;
    let mut out = BTreeMap::new();
    for p in entries {
        let rel = p.strip_prefix(root).map_err(io::Error::other)?;
        out.insert(rel.to_string_lossy().into_owned(), fnv(FNV_OFFSET, &fs::read(&p)?));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_and_hash() {
        let d = tempfile::tempdir().expect("tmp");
        fs::create_dir(d.path().join("var")).expect("mkdir");
        fs::write(d.path().join("a.json"), b"{}").expect("write");
        fs::write(d.path().join("var/0.bin"), vec![7u8; 10_000]).expect("write");
        let s = tree_stats(d.path(), true).expect("stats");
        assert_eq!((s.files, s.dirs, s.bytes_apparent), (2, 1, 10_002));
        assert!(s.bytes_allocated >= 8192, "allocated {}", s.bytes_allocated);
        let again = tree_stats(d.path(), true).expect("stats");
        assert_eq!(s.hash, again.hash);
        fs::write(d.path().join("var/0.bin"), vec![8u8; 10_000]).expect("write");
        assert_ne!(tree_stats(d.path(), true).expect("stats").hash, s.hash);
    }

    #[test]
    fn file_hashes_by_relative_path() {
        let d = tempfile::tempdir().expect("tmp");
        fs::create_dir(d.path().join("var")).expect("mkdir");
        fs::write(d.path().join("a.json"), b"{}").expect("write");
        fs::write(d.path().join("var/0.bin"), b"x").expect("write");
        let h = file_hashes(d.path()).expect("hashes");
        assert_eq!(h.keys().collect::<Vec<_>>(), ["a.json", "var/0.bin"]);
        assert_eq!(h["var/0.bin"], fnv(FNV_OFFSET, b"x"));
        let one = file_hashes(&d.path().join("a.json")).expect("a file");
        assert_eq!(one.get(""), Some(&fnv(FNV_OFFSET, b"{}")));
        assert!(file_hashes(&d.path().join("missing")).is_err());
    }
}
