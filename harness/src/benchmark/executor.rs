//! Runs one command as a child process and measures that child alone: wall time, user
//! and system CPU and peak RSS, from `wait4` in a small launcher process (see
//! [`super::launcher`] for why the harness cannot reap the child itself).

use super::launcher::{Rusage, SUBCOMMAND};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// One finished child process.
#[derive(Clone, Debug)]
pub struct ChildRun {
    /// Exit code, or `None` when killed by a signal.
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub wall: Duration,
    pub user: Duration,
    pub sys: Duration,
    /// Peak resident set size of the child, in bytes.
    pub max_rss: u64,
    pub stdout: String,
    pub stderr: String,
}

impl ChildRun {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// The last non-empty line of stderr (our CLI and the peer print one-line errors),
    /// or the signal that killed the child.
    pub fn error_line(&self) -> String {
        if let Some(sig) = self.signal {
            return format!("killed by signal {sig}");
        }
        self.stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").to_string()
    }

    /// What a user sees first: the first non-empty line of stderr ("" when there is
    /// none), or the signal that killed the child.
    pub fn first_line(&self) -> String {
        if let Some(sig) = self.signal {
            return format!("killed by signal {sig}");
        }
        self.stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("").to_string()
    }
}

/// Runs commands through a launcher binary (a `cellucid-bench` executable).
pub struct Executor {
    launcher: PathBuf,
}

impl Executor {
    /// Use this executable as the launcher.
    pub fn current() -> io::Result<Executor> {
        Ok(Executor { launcher: std::env::current_exe()? })
    }

    /// Use the given `cellucid-bench` binary as the launcher.
    pub fn with_launcher(launcher: &Path) -> Executor {
        Executor { launcher: launcher.to_path_buf() }
    }

    /// Run `cmd` (its program, arguments, environment and working directory) and measure it.
    pub fn run(&self, cmd: &Command) -> io::Result<ChildRun> {
        let rusage_file = tempfile::NamedTempFile::new()?;
        let mut launch = Command::new(&self.launcher);
        launch.arg(SUBCOMMAND).arg(rusage_file.path()).arg("--").arg(cmd.get_program()).args(cmd.get_args());
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => launch.env(k, v),
                None => launch.env_remove(k),
            };
        }
        if let Some(d) = cmd.get_current_dir() {
            launch.current_dir(d);
        }
        launch.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let start = Instant::now();
        let mut child = launch.spawn()?;
        let mut out = child.stdout.take().ok_or_else(|| io::Error::other("no stdout pipe"))?;
        let mut err = child.stderr.take().ok_or_else(|| io::Error::other("no stderr pipe"))?;
        let t_out = thread::spawn(move || {
            let mut s = String::new();
            let _ = out.read_to_string(&mut s);
            s
        });
        let t_err = thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        });
        let status = child.wait()?;
        let wall = start.elapsed();
        let stdout = t_out.join().unwrap_or_default();
        let stderr = t_err.join().unwrap_or_default();
        let line = std::fs::read_to_string(rusage_file.path())?;
        let r = Rusage::parse(&line).ok_or_else(|| {
            io::Error::other(format!("the launcher failed ({status}): {}", stderr.lines().last().unwrap_or("")))
        })?;
        Ok(ChildRun {
            code: r.code,
            signal: r.signal,
            wall,
            user: Duration::from_micros(r.user_us),
            sys: Duration::from_micros(r.sys_us),
            max_rss: r.maxrss_kb * 1024,
            stdout,
            stderr,
        })
    }
}
