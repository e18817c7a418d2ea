//! `export --memory-limit SIZE --scratch-dir DIR`: the memory budget and where the gene
//! matrix spills when it does not fit.
//!
//! Half the limit goes to the gene matrix (in memory, or one loaded block when
//! spilled); the other half is left for the O(cells) arrays (embeddings, latent, obs,
//! graph), the writer's per-thread column buffers and HDF5. The default limit is half
//! of the RAM available when the export starts (`MemAvailable`), so that an export
//! never pushes a machine into swap. The default scratch directory is the out_dir's
//! parent: it is on the disk that receives the export (the system temp directory is
//! often a tmpfs, i.e. RAM, which would defeat the budget), and the export needs it
//! writable anyway.

use anyhow::Result;
use std::path::{Path, PathBuf};

/// `--memory-limit`'s size (see `plan::parse_memory_size`).
pub fn parse_size(text: &str) -> Result<u64> {
    crate::plan::parse_memory_size(text).map_err(|e| anyhow::anyhow!("--memory-limit {e}"))
}

/// Half of the RAM available now (see `plan::default_memory_limit`).
pub fn default_limit() -> u64 {
    crate::plan::default_memory_limit()
}

/// The limit for this export: the flag's, else the default.
pub fn limit(flag: Option<&str>) -> Result<u64> {
    flag.map_or_else(|| Ok(default_limit()), parse_size)
}

/// The scratch directory: the flag's, else the out_dir's parent when it exists, else
/// the system temp directory.
pub fn scratch_dir(flag: Option<&Path>, out_dir: &Path) -> PathBuf {
    if let Some(d) = flag {
        return d.to_path_buf();
    }
    let parent = match out_dir.parent() {
        Some(p) if p.as_os_str().is_empty() => Path::new("."),
        Some(p) => p,
        None => Path::new("."),
    };
    if parent.is_dir() {
        parent.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

/// Remove the spill directories worker `pid` left in `scratch` (it was killed before
/// its own cleanup could run). Returns how many were removed.
pub fn remove_leftover_spills(scratch: &Path, pid: u32) -> usize {
    let prefix = cellucid_datasets::h5ad::spill::scratch_prefix(pid);
    let Ok(entries) = std::fs::read_dir(scratch) else { return 0 };
    entries
        .flatten()
        .filter(|e| e.file_name().to_str().is_some_and(|n| n.starts_with(&prefix)))
        .filter(|e| std::fs::remove_dir_all(e.path()).is_ok())
        .count()
}

/// `1.5 GiB`-style text for the summary.
pub fn human(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", units[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_scratch_is_the_out_dirs_parent() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(scratch_dir(None, &d.path().join("out")), d.path());
        assert_eq!(scratch_dir(Some(Path::new("/x")), &d.path().join("out")), Path::new("/x"));
        assert_eq!(scratch_dir(None, Path::new("out")), Path::new("."));
    }

    #[test]
    fn a_dead_workers_spills_are_removed_and_no_others() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join(".cellucid-spill-42-abc")).unwrap();
        std::fs::create_dir(d.path().join(".cellucid-spill-421-abc")).unwrap();
        assert_eq!(remove_leftover_spills(d.path(), 42), 1);
        assert!(d.path().join(".cellucid-spill-421-abc").exists());
    }
}
