//! The worker → parent pipe: one short line per event.
//!
//! Lines stay below `PIPE_BUF` (4096 bytes), so each `write` is atomic and rayon's
//! worker threads can report through one shared descriptor without a lock. The parent
//! treats every line as a sign of life; `reading` arms its watchdog and the first core
//! event (`phase validation`) disarms it.

use cellucid_core::{Phase, Progress};
use std::fs::File;
use std::io::Write;

/// The descriptor number the worker finds its end of the pipe at.
pub const CHILD_FD: i32 = 3;
/// Environment variable naming [`CHILD_FD`] for the worker (absent: no reporting).
pub const FD_ENV: &str = "CELLUCID_SUPERVISOR_FD";

/// What the worker reports.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// Reading the input starts (or continues: a heartbeat).
    Reading,
    /// One of core's progress events; the input has been read.
    Export(ProgressEvent),
    /// The worker panicked: `location: message`, on one line.
    Panic(String),
}

/// [`Progress`] without its lifetime-free but non-comparable parts, for the wire.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ProgressEvent {
    Phase(Phase),
    GenesStarted(usize),
    GeneDone(u64),
}

impl ProgressEvent {
    pub fn from_progress(p: Progress) -> Self {
        match p {
            Progress::Phase(phase) => ProgressEvent::Phase(phase),
            Progress::GenesStarted { total } => ProgressEvent::GenesStarted(total),
            Progress::GeneDone { bytes } => ProgressEvent::GeneDone(bytes),
        }
    }

    pub fn to_progress(self) -> Progress {
        match self {
            ProgressEvent::Phase(phase) => Progress::Phase(phase),
            ProgressEvent::GenesStarted(total) => Progress::GenesStarted { total },
            ProgressEvent::GeneDone(bytes) => Progress::GeneDone { bytes },
        }
    }
}

impl Event {
    /// The line on the wire, newline included.
    pub fn encode(&self) -> String {
        match self {
            Event::Reading => "reading\n".to_string(),
            Event::Export(ProgressEvent::Phase(p)) => format!("phase {}\n", p.name()),
            Event::Export(ProgressEvent::GenesStarted(n)) => format!("genes {n}\n"),
            Event::Export(ProgressEvent::GeneDone(b)) => format!("gene {b}\n"),
            Event::Panic(msg) => {
                // One line, and short enough to stay one atomic write.
                let mut m: String = msg.replace(['\n', '\r'], " | ");
                if m.len() > 2000 {
                    let mut cut = 2000;
                    while !m.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    m.truncate(cut);
                    m.push('…');
                }
                format!("panic {m}\n")
            }
        }
    }

    /// Parses one line (without its newline); `None` for anything unknown.
    pub fn decode(line: &str) -> Option<Event> {
        let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
        Some(match word {
            "reading" => Event::Reading,
            "phase" => Event::Export(ProgressEvent::Phase(*Phase::ALL.iter().find(|p| p.name() == rest)?)),
            "genes" => Event::Export(ProgressEvent::GenesStarted(rest.parse().ok()?)),
            "gene" => Event::Export(ProgressEvent::GeneDone(rest.parse().ok()?)),
            "panic" => Event::Panic(rest.to_string()),
            _ => return None,
        })
    }
}

/// The worker's end of the pipe; a no-op when the process was not started by a supervisor.
pub struct Reporter {
    pipe: Option<File>,
}

impl Reporter {
    /// The pipe the supervisor handed over in [`FD_ENV`], if any.
    pub fn from_env() -> Reporter {
        let fd = std::env::var(FD_ENV).ok().and_then(|v| v.parse::<i32>().ok());
        let pipe = fd.filter(|&fd| fd == CHILD_FD && fd_is_open(fd)).map(|fd| {
            use std::os::fd::FromRawFd;
            // SAFETY: the supervisor dup2'ed its pipe to CHILD_FD before exec and
            // nothing else in this process opens or owns that descriptor (checked open
            // above); the File becomes its only owner.
            unsafe { File::from_raw_fd(fd) }
        });
        Reporter { pipe }
    }

    /// A reporter that reports nowhere (in-process runs).
    pub fn none() -> Reporter {
        Reporter { pipe: None }
    }

    pub fn send(&self, event: &Event) {
        if let Some(mut pipe) = self.pipe.as_ref() {
            // A supervisor that went away is not the worker's error: ignore EPIPE.
            let _ = pipe.write_all(event.encode().as_bytes());
        }
    }

    pub fn progress(&self, p: Progress) {
        self.send(&Event::Export(ProgressEvent::from_progress(p)));
    }
}

fn fd_is_open(fd: i32) -> bool {
    // SAFETY: F_GETFD only queries the descriptor table; any int is a valid argument.
    unsafe { libc::fcntl(fd, libc::F_GETFD) != -1 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_round_trips() {
        let mut events = vec![
            Event::Reading,
            Event::Export(ProgressEvent::GenesStarted(2000)),
            Event::Export(ProgressEvent::GeneDone(12345)),
            Event::Panic("src/x.rs:1:2: index out of bounds".into()),
        ];
        events.extend(Phase::ALL.iter().map(|&p| Event::Export(ProgressEvent::Phase(p))));
        for e in events {
            let line = e.encode();
            assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
            assert_eq!(Event::decode(line.trim_end_matches('\n')), Some(e));
        }
        assert_eq!(Event::decode("phase nonsense"), None);
        assert_eq!(Event::decode("gene x"), None);
    }

    #[test]
    fn a_panic_message_stays_one_atomic_line() {
        let long = "é\n".repeat(3000);
        let line = Event::Panic(long).encode();
        assert!(line.len() < 4096);
        assert_eq!(line.matches('\n').count(), 1);
    }
}
