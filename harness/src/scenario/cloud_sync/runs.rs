//! One export of one writer into a daemon's watched folder or the unwatched one beside
//! it, and what the sync then did with it.
//!
//! A watched run starts from a folder and a remote copy that agree and are empty (the
//! last run's export removed and the removal synced, untimed). The export is timed as
//! the sweep times it (the writer's command, a measured child, `sync` before); from its
//! end the daemon is polled until it is idle and the remote copy equals the folder
//! (`sync_complete_s`), and the bytes the sync moved meanwhile are the difference of the
//! daemon's counter. A daemon that sits idle with the remote copy incomplete for
//! [`STALL`] has *stalled*: it lost track of some writes (Syncthing's watcher misses
//! files written into a folder it has not watched yet, and only its hourly full rescan
//! finds them). The run records the stall (how many files the remote had), then asks the
//! daemon to rescan and records how long the copy then took (`after_rescan_s`). A
//! *sampled* run does the same while a [`Sampler`] copies the remote export aside; its
//! copying competes with the export and the sync, so sampled runs are kept out of the
//! timings.

use super::daemon::SyncDaemon;
use super::sampler::{self, Judged, Sampler};
use super::tree;
use super::Options;
use crate::benchmark::executor::{ChildRun, Executor};
use crate::plan::Cell;
use crate::sweep::executor::RunPaths;
use crate::writer::{Output, Writer};
use anyhow::{Context as _, Result};
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

/// The export folder's name inside the watched (and unwatched) folder.
pub const OUT: &str = "export";
/// How often the daemon and the two folders are looked at while waiting for the sync.
const POLL: Duration = Duration::from_millis(100);
/// How long a daemon may be idle while the remote copy differs from the folder before
/// the sync counts as stalled: longer than Syncthing's 60 s retry of failed items.
pub const STALL: Duration = Duration::from_secs(90);

/// Where a run writes and whether the remote copy is sampled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Unwatched,
    Watched,
    Sampled,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Unwatched => "unwatched",
            Kind::Watched => "watched",
            Kind::Sampled => "sampled",
        }
    }
}

/// One writer's export as the sweep runs it.
pub struct Export<'a> {
    pub writer: &'a Writer,
    pub cell: &'a Cell,
    pub input: &'a Path,
    pub params: &'a Path,
    pub work_dir: &'a Path,
    pub executor: &'a Executor,
}

impl Export<'_> {
    /// Runs the writer's command into `out` (`scenario::export::run`: as the sweep runs it).
    fn run(&self, out: &Path) -> Result<ChildRun> {
        let paths = RunPaths { input: self.input, params: self.params, out: out.to_path_buf(), work_dir: self.work_dir };
        crate::scenario::export::run(self.executor, self.writer, self.cell, &paths, None)
    }

    /// Whether core's `validate` applies to this writer's output.
    pub fn validates(&self) -> bool {
        self.writer.output == Output::CompactV1
    }
}

/// What one run measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    pub kind: Kind,
    /// `None` when the export failed.
    pub export_s: Option<f64>,
    /// The writer's error line when it failed.
    pub error: Option<String>,
    /// The bytes the export left in its folder.
    pub bytes_exported: u64,
    /// Seconds from the export's end until the remote copy was complete; `None` for an
    /// unwatched or failed run, or when the sync did not complete in time.
    pub sync_complete_s: Option<f64>,
    /// When the daemon stalled: what the remote copy held (`748 of 2011 files`).
    pub stalled: Option<String>,
    /// After a stall, seconds from the forced rescan until the remote copy was complete.
    pub after_rescan_s: Option<f64>,
    pub bytes_transferred: Option<u64>,
    /// Whether the complete remote copy passes `validate` (`None`: not complete, or
    /// `validate` does not apply).
    pub remote_valid: Option<bool>,
    /// A sampled run's samples.
    pub judged: Option<Judged>,
}

impl Run {
    pub fn to_json(&self) -> Value {
        json!({
            "kind": self.kind.as_str(),
            "export_s": self.export_s,
            "error": self.error,
            "bytes_exported": self.bytes_exported,
            "sync_complete_s": self.sync_complete_s,
            "stalled": self.stalled,
            "after_rescan_s": self.after_rescan_s,
            "bytes_transferred": self.bytes_transferred,
            "remote_valid": self.remote_valid,
            "samples": self.judged.as_ref().map(|j| j.samples),
            "looked_complete": self.judged.as_ref().map(|j| j.looked_complete),
            "partial_looking_complete": self.judged.as_ref().map(|j| j.failed),
            "first_partial_problem": self.judged.as_ref().and_then(|j| j.first_problem.clone()),
        })
    }

    /// One progress line.
    pub fn describe(&self) -> String {
        let mut s = match (self.export_s, &self.error) {
            (Some(t), _) => format!("export {t:.2} s, {} bytes", self.bytes_exported),
            (None, e) => format!("export FAILED: {}", e.as_deref().unwrap_or("")),
        };
        if self.kind != Kind::Unwatched && self.export_s.is_some() {
            match (self.sync_complete_s, &self.stalled) {
                (Some(t), _) => s.push_str(&format!(", remote complete {t:.2} s later")),
                (None, Some(held)) => {
                    s.push_str(&format!(", sync STALLED (daemon idle {} s, remote {held})", STALL.as_secs()));
                    match self.after_rescan_s {
                        Some(t) => s.push_str(&format!(", complete {t:.2} s after a rescan")),
                        None => s.push_str(", not complete after a rescan either"),
                    }
                }
                (None, None) => s.push_str(", remote NOT complete before the timeout"),
            }
            if let Some(b) = self.bytes_transferred {
                s.push_str(&format!(", {b} bytes transferred"));
            }
        }
        if let Some(j) = &self.judged {
            s.push_str(&format!(", {} samples, {} looked complete, {} of them invalid", j.samples, j.looked_complete, j.failed));
        }
        s
    }
}

/// An export into the unwatched folder.
pub fn unwatched(daemon: &dyn SyncDaemon, e: &Export) -> Result<Run> {
    let root = daemon.unwatched();
    tree::empty(root, |_| false).with_context(|| format!("cannot empty {}", root.display()))?;
    let child = e.run(&root.join(OUT))?;
    let bytes_exported = tree::bytes(&tree::list(root, |_| false)?);
    tree::empty(root, |_| false).with_context(|| format!("cannot empty {}", root.display()))?;
    Ok(Run {
        kind: Kind::Unwatched,
        export_s: child.success().then(|| child.wall.as_secs_f64()),
        error: (!child.success()).then(|| child.error_line()),
        bytes_exported,
        sync_complete_s: None,
        stalled: None,
        after_rescan_s: None,
        bytes_transferred: None,
        remote_valid: None,
        judged: None,
    })
}

/// An export into the watched folder; with `samples` (a scratch directory) the remote
/// copy is sampled while it syncs.
pub fn watched(daemon: &mut dyn SyncDaemon, e: &Export, opts: &Options, samples: Option<&Path>) -> Result<Run> {
    let skip = daemon.own_names();
    clear(daemon, opts.sync_timeout)?;
    let before = daemon.bytes_transferred()?;
    let sampler = samples.map(|dir| Sampler::start(daemon.remote().join(OUT), dir.to_path_buf(), opts.sample_every, skip));
    let child = e.run(&daemon.watched().join(OUT));
    let ended = Instant::now();
    let synced = match &child {
        Ok(c) if c.success() => wait_synced(daemon, ended, opts.sync_timeout),
        _ => Ok(Synced::TimedOut),
    };
    let synced = synced.and_then(|s| rescan_if_stalled(daemon, s, opts.sync_timeout));
    // The sampler is stopped before any error is returned, so its thread never outlives the run.
    let copies = sampler.map(Sampler::finish).transpose()?;
    let (child, (sync_complete_s, stalled, after_rescan_s)) = (child?, synced?);
    let after = daemon.bytes_transferred()?;
    let bytes_exported = tree::bytes(&tree::list(daemon.watched(), skip)?);
    let remote = daemon.remote().join(OUT);
    let complete = sync_complete_s.is_some() || after_rescan_s.is_some();
    let remote_valid = (complete && e.validates()).then(|| cellucid_core::validate(&remote).is_ok());
    let judged = copies.map(|c| sampler::judge(&c, e.validates())).transpose()?;
    Ok(Run {
        kind: if samples.is_some() { Kind::Sampled } else { Kind::Watched },
        export_s: child.success().then(|| child.wall.as_secs_f64()),
        error: (!child.success()).then(|| child.error_line()),
        bytes_exported,
        sync_complete_s,
        stalled,
        after_rescan_s,
        bytes_transferred: Some(after.saturating_sub(before)),
        remote_valid,
        judged,
    })
}

/// Empties the watched folder and waits until the remote copy is empty too (untimed).
fn clear(daemon: &mut dyn SyncDaemon, timeout: Duration) -> Result<()> {
    let watched = daemon.watched().to_path_buf();
    tree::empty(&watched, daemon.own_names()).with_context(|| format!("cannot empty {}", watched.display()))?;
    // A rescan first: a folder a stalled run left behind may hold files the daemon
    // never saw, whose removal it would not notice either. Only a help: a refused one
    // leaves the wait below to judge.
    if let Err(e) = daemon.rescan() {
        eprintln!("{}: rescan before the next run refused ({e:#}); waiting for the daemon instead", daemon.name());
    }
    match wait_synced(daemon, Instant::now(), timeout)? {
        Synced::Complete(_) => Ok(()),
        _ => anyhow::bail!(
            "{}: the remote copy {} was not emptied within {timeout:?} of emptying {}",
            daemon.name(),
            daemon.remote().display(),
            watched.display()
        ),
    }
}

/// How a wait for the sync ended.
#[derive(Clone, Debug, PartialEq)]
enum Synced {
    /// Seconds until the daemon was idle and the remote copy equal to the folder.
    Complete(f64),
    /// The daemon sat idle for [`STALL`] with the remote copy incomplete: what it held.
    Stalled(String),
    TimedOut,
}

/// Polls until the daemon is idle and the remote copy equals the watched folder (the
/// seconds since `since`), the daemon has been idle for [`STALL`] without that, or
/// `timeout` has passed.
fn wait_synced(daemon: &mut dyn SyncDaemon, since: Instant, timeout: Duration) -> Result<Synced> {
    let skip = daemon.own_names();
    let mut idle_since = None;
    loop {
        let busy = daemon.busy()?;
        if !busy && tree::same(daemon.watched(), daemon.remote(), skip)? {
            return Ok(Synced::Complete(since.elapsed().as_secs_f64()));
        }
        if busy {
            idle_since = None;
        } else if idle_since.get_or_insert_with(Instant::now).elapsed() > STALL {
            return Ok(Synced::Stalled(held(daemon)?));
        }
        if since.elapsed() > timeout {
            return Ok(Synced::TimedOut);
        }
        std::thread::sleep(POLL);
    }
}

/// `748 of 2011 files`: the remote copy's files against the folder's.
fn held(daemon: &dyn SyncDaemon) -> Result<String> {
    let skip = daemon.own_names();
    let files = |root: &Path| -> Result<usize> {
        let listing = tree::list(root, skip).with_context(|| format!("cannot list {}", root.display()))?;
        Ok(listing.values().filter(|k| matches!(k, tree::Kind::File(_))).count())
    };
    Ok(format!("{} of {} files", files(daemon.remote())?, files(daemon.watched())?))
}

/// The run's (complete after, stalled holding, complete after the rescan): a stalled
/// daemon is asked to rescan and waited for once more.
fn rescan_if_stalled(daemon: &mut dyn SyncDaemon, synced: Synced, timeout: Duration) -> Result<(Option<f64>, Option<String>, Option<f64>)> {
    Ok(match synced {
        Synced::Complete(t) => (Some(t), None, None),
        Synced::TimedOut => (None, None, None),
        Synced::Stalled(held) => {
            let after = match daemon.rescan() {
                Ok(()) => match wait_synced(daemon, Instant::now(), timeout)? {
                    Synced::Complete(t) => Some(t),
                    _ => None,
                },
                Err(e) => {
                    eprintln!("{}: the rescan after a stall was refused ({e:#})", daemon.name());
                    None
                }
            };
            (None, Some(held), after)
        }
    })
}
