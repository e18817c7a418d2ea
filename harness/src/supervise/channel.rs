//! The worker → parent pipe: one short line per event.
//!
//! Lines stay below `PIPE_BUF` (4096 bytes), so each `write` is atomic and rayon's
//! worker threads can report through one shared descriptor without a lock. The parent
//! treats every line as a sign of life; `reading` arms its watchdog and the first core
//! event (`phase validation`) disarms it.
//!
//! **Why gene events are batched.** One line per gene costs a `write` in a gene worker and
//! a wake-up of the parent, thousands of times a second on the two cores the export needs:
//! unbatched, the supervised 20k × 2k export took 10 % longer than in process. The worker
//! sends at most one `gene COUNT BYTES` line per [`GENE_BATCH`], and whatever is pending
//! before the next phase, so the bar still ends exact.

use cellucid_core::{Phase, Progress};
use std::fs::File;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Gene events are sent at most this often (the bar redraws at ~15 Hz anyway).
pub const GENE_BATCH: Duration = Duration::from_millis(100);

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
    /// `count` genes written since the last such event, `bytes` between them.
    GenesDone { count: u64, bytes: u64 },
}

impl ProgressEvent {
    pub fn from_progress(p: Progress) -> Self {
        match p {
            Progress::Phase(phase) => ProgressEvent::Phase(phase),
            Progress::GenesStarted { total } => ProgressEvent::GenesStarted(total),
            Progress::GeneDone { bytes } => ProgressEvent::GenesDone { count: 1, bytes },
        }
    }

    /// The core events this one stands for, in order: a batch of genes is its first gene
    /// with all the bytes and the others with none (position and byte total exact).
    pub fn replay(self, progress: &dyn Fn(Progress)) {
        match self {
            ProgressEvent::Phase(phase) => progress(Progress::Phase(phase)),
            ProgressEvent::GenesStarted(total) => progress(Progress::GenesStarted { total }),
            ProgressEvent::GenesDone { count, bytes } => {
                for i in 0..count {
                    progress(Progress::GeneDone { bytes: if i == 0 { bytes } else { 0 } });
                }
            }
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
            Event::Export(ProgressEvent::GenesDone { count, bytes }) => format!("gene {count} {bytes}\n"),
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
            "gene" => {
                let (count, bytes) = rest.split_once(' ')?;
                Event::Export(ProgressEvent::GenesDone { count: count.parse().ok()?, bytes: bytes.parse().ok()? })
            }
            "panic" => Event::Panic(rest.to_string()),
            _ => return None,
        })
    }
}

/// The worker's end of the pipe; a no-op when the process was not started by a supervisor.
pub struct Reporter {
    pipe: Option<File>,
    genes: GeneBatch,
}

/// Genes written but not yet reported, and when the last batch went out.
struct GeneBatch {
    count: AtomicU64,
    bytes: AtomicU64,
    last_sent: Mutex<Instant>,
}

impl GeneBatch {
    fn new() -> GeneBatch {
        GeneBatch { count: AtomicU64::new(0), bytes: AtomicU64::new(0), last_sent: Mutex::new(Instant::now()) }
    }

    /// Takes the pending batch if `force`, or if [`GENE_BATCH`] has passed since the last.
    fn take(&self, force: bool) -> Option<ProgressEvent> {
        let mut last = self.last_sent.lock().unwrap_or_else(|p| p.into_inner());
        if !force && last.elapsed() < GENE_BATCH {
            return None;
        }
        *last = Instant::now();
        let count = self.count.swap(0, Ordering::AcqRel);
        let bytes = self.bytes.swap(0, Ordering::AcqRel);
        (count > 0).then_some(ProgressEvent::GenesDone { count, bytes })
    }
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
        Reporter { pipe, genes: GeneBatch::new() }
    }

    /// A reporter that reports nowhere (in-process runs).
    pub fn none() -> Reporter {
        Reporter { pipe: None, genes: GeneBatch::new() }
    }

    pub fn send(&self, event: &Event) {
        if let Some(mut pipe) = self.pipe.as_ref() {
            // A supervisor that went away is not the worker's error: ignore EPIPE.
            let _ = pipe.write_all(event.encode().as_bytes());
        }
    }

    pub fn progress(&self, p: Progress) {
        if self.pipe.is_none() {
            return;
        }
        if let Progress::GeneDone { bytes } = p {
            self.genes.bytes.fetch_add(bytes, Ordering::AcqRel);
            self.genes.count.fetch_add(1, Ordering::AcqRel);
            if let Some(batch) = self.genes.take(false) {
                self.send(&Event::Export(batch));
            }
            return;
        }
        if let Some(batch) = self.genes.take(true) {
            self.send(&Event::Export(batch));
        }
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
            Event::Export(ProgressEvent::GenesDone { count: 7, bytes: 12345 }),
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
        assert_eq!(Event::decode("gene 3"), None);
    }

    #[test]
    fn a_batch_replays_as_its_genes_with_every_byte() {
        let seen = std::cell::RefCell::new(Vec::new());
        ProgressEvent::GenesDone { count: 3, bytes: 90 }.replay(&|p| seen.borrow_mut().push(p));
        let seen = seen.into_inner();
        assert_eq!(seen.len(), 3);
        let bytes: u64 = seen.iter().map(|p| if let Progress::GeneDone { bytes } = p { *bytes } else { 0 }).sum();
        assert_eq!(bytes, 90);
    }

    #[test]
    fn genes_are_sent_in_batches_and_flushed_before_the_next_phase() {
        let sink = tempfile::NamedTempFile::new().expect("temp file");
        let reporter = Reporter { pipe: Some(sink.reopen().expect("reopen")), genes: GeneBatch::new() };
        for _ in 0..1000 {
            reporter.progress(Progress::GeneDone { bytes: 2 });
        }
        reporter.progress(Progress::Phase(Phase::ALL[0]));
        drop(reporter);
        let text = std::fs::read_to_string(sink.path()).expect("read");
        let (mut count, mut bytes, mut lines) = (0, 0, 0);
        for line in text.lines().filter(|l| l.starts_with("gene ")) {
            lines += 1;
            if let Some(Event::Export(ProgressEvent::GenesDone { count: c, bytes: b })) = Event::decode(line) {
                count += c;
                bytes += b;
            }
        }
        assert_eq!((count, bytes), (1000, 2000), "{text}");
        assert!(lines < 20, "{lines} gene lines for 1000 genes written in well under a second");
        assert!(text.trim_end().ends_with(&format!("phase {}", Phase::ALL[0].name())));
    }

    #[test]
    fn a_panic_message_stays_one_atomic_line() {
        let long = "é\n".repeat(3000);
        let line = Event::Panic(long).encode();
        assert!(line.len() < 4096);
        assert_eq!(line.matches('\n').count(), 1);
    }
}
