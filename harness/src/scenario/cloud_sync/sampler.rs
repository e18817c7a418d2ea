//! Sampling the remote copy while it syncs: a thread copies the remote export aside
//! whenever its listing changed (every `every`, from the export's start until the sync
//! is complete), and afterwards each copy that *looks* complete — it has the identity
//! and the obs manifest the viewer opens first — is checked with core's `validate`.
//! A copy that looks complete but fails is what a user on the other machine could open
//! mid-sync: a partial (or mixed) export that the viewer loads as if it were finished.

use super::tree::{self, Listing, Skip};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// At most this many copies per run (each is a whole export).
const MAX_SAMPLES: usize = 200;
/// The files a folder must have to look like a finished export (the viewer reads them first).
const LOOKS_COMPLETE: [&str; 2] = ["dataset_identity.json", "obs_manifest.json"];

/// A running sampler.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<std::io::Result<Vec<PathBuf>>>,
}

impl Sampler {
    /// Starts copying `remote_export` into numbered directories under `into`.
    pub fn start(remote_export: PathBuf, into: PathBuf, every: Duration, skip: Skip) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut copies = Vec::new();
            let mut last = Listing::new();
            while !flag.load(Ordering::SeqCst) && copies.len() < MAX_SAMPLES {
                let now = tree::list(&remote_export, skip)?;
                if !now.is_empty() && now != last {
                    let to = into.join(format!("{:04}", copies.len()));
                    tree::copy(&remote_export, &to, skip)?;
                    copies.push(to);
                    last = now;
                }
                std::thread::sleep(every);
            }
            Ok(copies)
        });
        Sampler { stop, thread }
    }

    /// Stops sampling; the copies taken.
    pub fn finish(self) -> anyhow::Result<Vec<PathBuf>> {
        self.stop.store(true, Ordering::SeqCst);
        match self.thread.join() {
            Ok(copies) => Ok(copies?),
            Err(_) => anyhow::bail!("the sampler thread panicked"),
        }
    }
}

/// What the samples of one run showed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Judged {
    pub samples: usize,
    /// Samples with the identity and the obs manifest.
    pub looked_complete: usize,
    /// Of those, the ones `validate` rejects.
    pub failed: usize,
    /// The first problem of the first failing sample (`file: field: message`).
    pub first_problem: Option<String>,
}

/// Judges `copies` (and removes them). `validate` is false for writers whose output is
/// not a Cellucid folder: then only the samples are counted.
pub fn judge(copies: &[PathBuf], validate: bool) -> std::io::Result<Judged> {
    let mut j = Judged { samples: copies.len(), ..Judged::default() };
    for copy in copies {
        if looks_complete(copy) {
            j.looked_complete += 1;
            if validate {
                let report = cellucid_core::validate(copy);
                if let Some(p) = report.problems.first() {
                    j.failed += 1;
                    if j.first_problem.is_none() {
                        j.first_problem = Some(format!("{}: {}: {}", p.file, p.field, p.message));
                    }
                }
            }
        }
        std::fs::remove_dir_all(copy)?;
    }
    Ok(j)
}

/// Whether `dir` has the files the viewer opens first.
pub fn looks_complete(dir: &Path) -> bool {
    LOOKS_COMPLETE.iter().all(|f| dir.join(f).is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never(_: &str) -> bool {
        false
    }

    #[test]
    fn a_changing_folder_is_copied_once_per_state_and_judged() {
        let t = tempfile::tempdir().unwrap();
        let remote = t.path().join("remote");
        let sampler = Sampler::start(remote.clone(), t.path().join("samples"), Duration::from_millis(5), never);
        std::thread::sleep(Duration::from_millis(50));
        std::fs::create_dir_all(&remote).unwrap();
        std::fs::write(remote.join("dataset_identity.json"), b"{}").unwrap();
        // Polled until the sampler has seen this state (no timing assumption).
        let seen = |n: usize| {
            let dir = t.path().join("samples").join(format!("{:04}", n - 1));
            (0..2000).any(|_| {
                std::thread::sleep(Duration::from_millis(5));
                dir.is_dir()
            })
        };
        assert!(seen(1));
        std::fs::write(remote.join("obs_manifest.json"), b"{}").unwrap();
        assert!(seen(2));
        let copies = sampler.finish().unwrap();
        assert!(copies.len() >= 2, "{copies:?}");
        assert!(looks_complete(copies.last().unwrap()));
        let j = judge(&copies, true).unwrap();
        assert_eq!(j.samples, copies.len());
        assert!(j.looked_complete >= 1 && j.failed == j.looked_complete, "{j:?}");
        assert!(j.first_problem.is_some());
        assert!(copies.iter().all(|c| !c.exists()), "judged copies are removed");
    }
}
