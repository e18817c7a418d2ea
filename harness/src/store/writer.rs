//! `Store`: the append-only writer of one result file.
//!
//! Each sample is one line written with a single `write_all`, then `sync_data`, so a
//! crash (SIGKILL, power loss) loses at most the sample being written; the reader
//! ignores such a partial line and a resumed writer cuts it off before appending. An
//! exclusive `flock` keeps two sweeps from interleaving lines in the same file.

use super::error::{io, StoreError};
use super::read::{parse, Parsed};
use super::record::{Header, Sample};
use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// An open result file.
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    file: File,
    header: Header,
    finished: HashSet<(String, u32)>,
    resumed_samples: usize,
    dropped_tail: Option<super::Truncated>,
}

impl Store {
    /// Creates `path` with `header`, or with `resume` continues it.
    ///
    /// Without `resume` an existing file is an error. With `resume` a missing (or empty,
    /// or header-less) file is started afresh; an existing one must hold the same plan
    /// and shard, its samples become [`Store::finished`], and a partial last line is cut
    /// off. The stored header is kept (its `started` is the first session's).
    pub fn create_or_resume(path: &Path, header: Header, resume: bool) -> Result<Store, StoreError> {
        let file = if resume {
            OpenOptions::new().read(true).append(true).create(true).open(path)
        } else {
            OpenOptions::new().read(true).append(true).create_new(true).open(path)
        }
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => StoreError::Exists { path: path.to_path_buf() },
            _ => StoreError::Io { path: path.to_path_buf(), source: e },
        })?;
        lock(&file, path)?;
        let mut store = Store {
            path: path.to_path_buf(),
            file,
            header,
            finished: HashSet::new(),
            resumed_samples: 0,
            dropped_tail: None,
        };
        let (file, header) = (&mut store.file, &store.header);
        let existing = if resume {
            let bytes = std::fs::read(path).map_err(io(path))?;
            parse(path, &bytes)?
        } else {
            Parsed::NoHeader
        };
        match existing {
            Parsed::NoHeader => {
                file.set_len(0).map_err(io(path))?;
                let mut line = serde_json::to_string(header)?;
                line.push('\n');
                file.write_all(line.as_bytes()).map_err(io(path))?;
                file.sync_all().map_err(io(path))?;
                sync_parent(path)?;
            }
            Parsed::Ok(c) => {
                if c.header.plan != header.plan {
                    return Err(StoreError::PlanMismatch {
                        path: path.to_path_buf(),
                        found: c.header.plan.clone(),
                        expected: header.plan.clone(),
                    });
                }
                if c.header.shard != header.shard {
                    let show = |s: Option<(usize, usize)>| s.map_or("none (whole plan)".to_string(), |(i, n)| format!("{i}/{n}"));
                    return Err(StoreError::ShardMismatch {
                        path: path.to_path_buf(),
                        found: show(c.header.shard),
                        expected: show(header.shard),
                    });
                }
                if c.truncated.is_some() {
                    file.set_len(c.valid_len).map_err(io(path))?;
                }
                if c.missing_newline {
                    file.write_all(b"\n").map_err(io(path))?;
                }
                file.sync_data().map_err(io(path))?;
                file.seek(SeekFrom::End(0)).map_err(io(path))?;
                store.finished = c.samples.iter().map(Sample::key).collect();
                store.resumed_samples = c.samples.len();
                store.dropped_tail = c.truncated.clone();
                store.header = c.header;
            }
        }
        Ok(store)
    }

    /// `(cell_id, repeat)` of every stored sample, including those of earlier sessions.
    pub fn finished(&self) -> HashSet<(String, u32)> {
        self.finished.clone()
    }

    /// Whether a run is already stored.
    pub fn is_finished(&self, cell_id: &str, repeat: u32) -> bool {
        self.finished.contains(&(cell_id.to_string(), repeat))
    }

    /// The header on disk (the first session's when resumed).
    pub fn header(&self) -> &Header {
        &self.header
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Samples found when the file was resumed.
    pub fn resumed_samples(&self) -> usize {
        self.resumed_samples
    }

    /// The partial last line cut off when the file was resumed.
    pub fn dropped_tail(&self) -> Option<&super::Truncated> {
        self.dropped_tail.as_ref()
    }

    /// Appends one sample as one line and makes it durable before returning.
    pub fn append(&mut self, s: &Sample) -> Result<(), StoreError> {
        self.append_line(serde_json::to_string(s)?)?;
        self.finished.insert(s.key());
        Ok(())
    }

    /// Appends any other record (a scenario's, see `crate::scenario`) as one line, made
    /// durable before returning. It is not a sample: [`Store::finished`] does not change.
    pub fn append_record(&mut self, record: &serde_json::Value) -> Result<(), StoreError> {
        self.append_line(serde_json::to_string(record)?)
    }

    /// One line with a single `write_all`, then `sync_data` (see the module doc).
    fn append_line(&mut self, mut line: String) -> Result<(), StoreError> {
        line.push('\n');
        let path = &self.path;
        self.file.write_all(line.as_bytes()).map_err(io(path))?;
        self.file.flush().map_err(io(path))?;
        self.file.sync_data().map_err(io(path))?;
        Ok(())
    }
}

/// An exclusive `flock` for the life of the file handle, or `Locked` when another holder
/// keeps it for longer than [`LOCK_PATIENCE`].
///
/// Why wait at all: a process that forks (any `Command::spawn` in this process, e.g. a
/// sweep's child run, or another test of the same binary) shares every open file
/// description with the child until the child's `exec` closes the close-on-exec ones.
/// A store closed and reopened in that window still finds its own old lock held, for
/// microseconds; measured here once in nine runs of the store tests under load.
fn lock(file: &File, path: &Path) -> Result<(), StoreError> {
    let started = std::time::Instant::now();
    loop {
        // SAFETY: flock on a valid, open file descriptor owned by `file`.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            return Ok(());
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::WouldBlock {
            return Err(StoreError::Io { path: path.to_path_buf(), source: err });
        }
        if started.elapsed() >= LOCK_PATIENCE {
            return Err(StoreError::Locked { path: path.to_path_buf() });
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// How long [`lock`] waits for a lock held by someone else before saying so.
const LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_millis(500);

/// fsync the directory holding `path`, so that a new file's name is durable too.
pub(crate) fn sync_parent(path: &Path) -> Result<(), StoreError> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(parent).and_then(|d| d.sync_all()).map_err(io(parent))
}
