//! Running one mutant through the real CLI and classifying what happened.
//!
//! `cellucid-bench export MUTANT OUT [--params P]` runs as a child in its own process
//! group (so a hard timeout kills the supervisor and its worker together). The verdicts,
//! from the user's side: the export worked (and `validate` passes), or it failed cleanly
//! (exit 1 or 2, exactly one `error:` line, no panic text, nothing at OUT and no stage,
//! backup or journal beside it), or one of the failures.

use crate::supervise::verdict::{CRASHED, PANICKED, STALLED};
use serde::Serialize;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one mutant did to the CLI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Exported, and the folder passes `validate`.
    Ok,
    /// Refused with one line and nothing created.
    CleanError,
    /// The worker crashed; the CLI said so in one line (HDF5's crash, contained).
    ContainedCrash,
    /// The worker's read stalled and the watchdog stopped it (one line).
    ContainedHang,
    // --- failures ---
    /// The worker panicked: a bug of ours, even though the CLI reported it in one line.
    ContainedPanic,
    /// The CLI itself died of a signal.
    Crash,
    /// The CLI did not end within the hard timeout.
    Hang,
    /// The CLI printed a Rust panic.
    Panic,
    /// An error, but not exactly one `error:` line.
    MultiLineError,
    /// A failure left something at OUT or beside it.
    Leftover,
    /// Exit 0, but the folder fails `validate`.
    InvalidOutput,
}

impl Outcome {
    pub const ALL: [Outcome; 11] = [
        Outcome::Ok,
        Outcome::CleanError,
        Outcome::ContainedCrash,
        Outcome::ContainedHang,
        Outcome::ContainedPanic,
        Outcome::Crash,
        Outcome::Hang,
        Outcome::Panic,
        Outcome::MultiLineError,
        Outcome::Leftover,
        Outcome::InvalidOutput,
    ];

    /// Whether this outcome is a bug to fix (contained crashes and hangs are the HDF5
    /// library's, and the supervisor turned them into a clean error).
    pub fn is_failure(self) -> bool {
        !matches!(self, Outcome::Ok | Outcome::CleanError | Outcome::ContainedCrash | Outcome::ContainedHang)
    }

    pub fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::CleanError => "clean error",
            Outcome::ContainedCrash => "contained crash",
            Outcome::ContainedHang => "contained hang",
            Outcome::ContainedPanic => "contained panic",
            Outcome::Crash => "crash",
            Outcome::Hang => "hang",
            Outcome::Panic => "panic",
            Outcome::MultiLineError => "multi-line error",
            Outcome::Leftover => "leftover",
            Outcome::InvalidOutput => "invalid output",
        }
    }
}

/// How to run the CLI on a mutant.
#[derive(Clone, Debug)]
pub struct Runner {
    pub binary: PathBuf,
    /// Passed to `export --read-timeout`.
    pub read_timeout: Duration,
    /// The whole run is killed after this.
    pub hard_timeout: Duration,
}

/// One run's result, with what is needed to explain it.
#[derive(Clone, Debug)]
pub struct RunResult {
    pub outcome: Outcome,
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub stderr: String,
    pub detail: String,
}

impl Runner {
    /// Exports `mutant` to `out` (which must not exist) and classifies the result.
    pub fn run(&self, mutant: &Path, params: Option<&Path>, out: &Path) -> std::io::Result<RunResult> {
        let mut cmd = Command::new(&self.binary);
        cmd.arg("export").arg(mutant).arg(out).arg("--quiet");
        cmd.arg("--read-timeout").arg(self.read_timeout.as_secs_f64().to_string());
        if let Some(p) = params {
            cmd.arg("--params").arg(p);
        }
        cmd.arg("--threads").arg("1");
        let stderr_file = tempfile::tempfile()?;
        cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(stderr_file.try_clone()?).process_group(0);
        let mut child = cmd.spawn()?;
        let started = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait()? {
                break Some(s);
            }
            if started.elapsed() > self.hard_timeout {
                // SAFETY: kill has no memory effects; the group is the child's own (process_group(0)).
                unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
                child.wait()?;
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let stderr = read_all(stderr_file);
        let mut r = RunResult {
            outcome: Outcome::CleanError,
            code: status.and_then(|s| s.code()),
            signal: status.and_then(|s| s.signal()),
            stderr,
            detail: String::new(),
        };
        r.outcome = classify(&r, status.is_none(), out);
        if matches!(r.outcome, Outcome::InvalidOutput | Outcome::Leftover) {
            r.detail = explain(out);
        }
        Ok(r)
    }
}

fn read_all(mut f: std::fs::File) -> String {
    use std::io::{Read, Seek};
    let mut bytes = Vec::new();
    let _ = f.rewind().and_then(|_| f.read_to_end(&mut bytes));
    String::from_utf8_lossy(&bytes).into_owned()
}

fn classify(r: &RunResult, timed_out: bool, out: &Path) -> Outcome {
    if timed_out {
        return Outcome::Hang;
    }
    if r.signal.is_some() {
        return Outcome::Crash;
    }
    if r.stderr.contains("panicked at") && !r.stderr.contains(PANICKED) {
        return Outcome::Panic;
    }
    if r.code == Some(0) {
        return if cellucid_core::validate(out).is_ok() { Outcome::Ok } else { Outcome::InvalidOutput };
    }
    let lines: Vec<&str> = r.stderr.lines().collect();
    if lines.len() != 1 || !lines[0].starts_with("error: ") || !matches!(r.code, Some(1 | 2)) {
        return Outcome::MultiLineError;
    }
    if !leftovers(out).is_empty() {
        return Outcome::Leftover;
    }
    let line = lines[0];
    if line.contains(&format!(" {PANICKED} at ")) {
        Outcome::ContainedPanic
    } else if line.contains(&format!(" {CRASHED} (")) {
        Outcome::ContainedCrash
    } else if line.contains(&format!(" {STALLED} ")) {
        Outcome::ContainedHang
    } else {
        Outcome::CleanError
    }
}

/// What a failed export left: OUT itself, or a stage, backup or journal beside it (the
/// lock file stays by design, FORMAT.md §14).
pub fn leftovers(out: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    if out.symlink_metadata().is_ok() {
        found.push(out.to_path_buf());
    }
    let (Some(parent), Some(name)) = (out.parent(), out.file_name()) else { return found };
    let prefix = format!(".{}.cellucid-", name.to_string_lossy());
    for entry in std::fs::read_dir(parent).into_iter().flatten().flatten() {
        let n = entry.file_name().to_string_lossy().into_owned();
        // `.<name>.cellucid.lock` does not match the prefix: only stage, backup, journal.
        if n.starts_with(&prefix) {
            found.push(entry.path());
        }
    }
    found
}

fn explain(out: &Path) -> String {
    let left = leftovers(out);
    if out.is_dir() {
        let v = cellucid_core::validate(out);
        if !v.is_ok() {
            return format!("validate: {:?}", v.problems.iter().take(3).collect::<Vec<_>>());
        }
    }
    format!("left behind: {left:?}")
}
