//! Scratch directories that must not outlive a signal: the gene matrix's spill files.
//!
//! Their owners remove them on drop (`tempfile::TempDir`), but the signal rollback
//! ([`super::signals`]) ends the process by re-raising the signal, so no destructor
//! runs. A directory registered here is removed by the signal watcher right after the
//! transactions are rolled back; the registration is dropped with the directory.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

static REGISTERED: Mutex<Vec<(u64, PathBuf)>> = Mutex::new(Vec::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// While alive, `path` is removed (recursively) if a handled signal ends the process.
#[derive(Debug)]
pub struct ScratchRegistration {
    id: u64,
}

impl ScratchRegistration {
    pub fn new(path: &Path) -> Self {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        // A poisoned lock still holds a valid list: a panic cannot leave it half-pushed.
        REGISTERED.lock().unwrap_or_else(|p| p.into_inner()).push((id, path.to_path_buf()));
        ScratchRegistration { id }
    }
}

impl Drop for ScratchRegistration {
    fn drop(&mut self) {
        REGISTERED.lock().unwrap_or_else(|p| p.into_inner()).retain(|(id, _)| *id != self.id);
    }
}

/// Remove every registered directory (the signal watcher, before the process dies).
pub(crate) fn remove_all_before_exit() {
    let paths = REGISTERED.lock().unwrap_or_else(|p| p.into_inner());
    for (_, path) in paths.iter() {
        let _ = std::fs::remove_dir_all(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_directories_are_removed_and_dropped_ones_forgotten() {
        let kept = tempfile::tempdir().expect("tempdir");
        let removed = tempfile::tempdir().expect("tempdir");
        let forgotten = ScratchRegistration::new(kept.path());
        drop(forgotten);
        let _live = ScratchRegistration::new(removed.path());
        remove_all_before_exit();
        assert!(kept.path().exists());
        assert!(!removed.path().exists());
    }
}
