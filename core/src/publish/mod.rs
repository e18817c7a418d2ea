//! Atomic publication (FORMAT.md §14). INTERFACE STUB: implemented by the publish work.

use crate::error::Result;
use crate::options::Durability;
use std::path::{Path, PathBuf};

/// Step A.8: expand `~`, make absolute against the CWD, refuse protected directories.
pub fn resolve_out_dir(out_dir: &Path) -> Result<PathBuf> {
    let _ = out_dir;
    todo!()
}

/// One export generation being built in a staging directory beside `out_dir`.
pub struct Transaction {
    stage: PathBuf,
}

impl Transaction {
    /// Steps B and C: parent, lock, recovery, out_dir checks, journal, stage.
    pub fn begin(out_dir: &Path, force: bool) -> Result<Transaction> {
        let _ = (out_dir, force);
        todo!()
    }
    pub fn stage_dir(&self) -> &Path {
        &self.stage
    }
    /// Step E: backup, rename stage → out_dir, clean up.
    pub fn commit(self, durability: Durability) -> Result<()> {
        let _ = durability;
        todo!()
    }
}
