//! Synthetic datasets generated once per spec and kept as `.h5ad` files, named by the
//! hash of the spec, so that every run of every subject reads the same file and a second
//! sweep (or a resumed one) does not generate again.

use anyhow::{Context, Result};
use cellucid_datasets::synthetic;
use std::path::{Path, PathBuf};

/// Where cached datasets live.
pub struct DatasetCache {
    dir: PathBuf,
}

impl DatasetCache {
    pub fn new(dir: &Path) -> Result<DatasetCache> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(DatasetCache { dir: dir.to_path_buf() })
    }

    /// The file for dataset `id`.
    pub fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.h5ad"))
    }

    /// The `.h5ad` of `spec`, generated and written (atomically: a temporary name, then a
    /// rename) if it is not cached yet. Returns the path and whether it was generated.
    pub fn get_or_generate(&self, id: &str, spec: &synthetic::DatasetSpec) -> Result<(PathBuf, bool)> {
        let path = self.path(id);
        if path.exists() {
            return Ok((path, false));
        }
        let tmp = self.dir.join(format!(".{id}.{}.h5ad.tmp", std::process::id()));
        // Streamed (CSR X by blocks of rows): an atlas-sized dataset needs memory for its
        // cells only, not for its non-zeros.
        if let Err(e) = synthetic::write_h5ad(spec, &tmp, &|_, _| {}) {
            let _ = std::fs::remove_file(&tmp);
            return Err(e).with_context(|| format!("cannot generate dataset {id} into {}", tmp.display()));
        }
        std::fs::rename(&tmp, &path).with_context(|| format!("cannot rename into {}", path.display()))?;
        Ok((path, true))
    }
}
