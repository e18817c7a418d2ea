//! How the worker's end becomes the parent's: an exit code and stderr passed through
//! unchanged, one line for a worker that died, or the worker's own signal.

use super::signals;
use super::watch::Ended;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::time::Duration;

/// Words the one-line messages are built from (the fuzzer recognises contained failures by them).
pub const CRASHED: &str = "crashed";
pub const PANICKED: &str = "panicked";
pub const STALLED: &str = "made no progress";

/// What the parent does.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The worker exited by itself: its code, its stderr verbatim.
    Exited { code: u8, stderr: Vec<u8> },
    /// The worker ended on a signal the parent forwarded: end the same way.
    Interrupted(libc::c_int),
    /// The worker died: one line (without `error: `); a transaction it left must be rolled back.
    Died(String),
}

impl Verdict {
    pub fn of(e: &Ended, input: &Path, read_timeout: Duration) -> Verdict {
        let input = input.display();
        let doing = if e.while_reading { "reading" } else { "exporting" };
        if e.stalled {
            return Verdict::Died(format!(
                "reading {input} {STALLED} for {} s and was stopped — the file is probably corrupt (--read-timeout SECONDS waits longer)",
                read_timeout.as_secs_f64()
            ));
        }
        if let Some(p) = &e.panic {
            return Verdict::Died(format!(
                "{doing} {input} {PANICKED} at {p} — a bug in cellucid-bench; please report it with the input file"
            ));
        }
        if let Some(sig) = e.status.signal() {
            if e.forwarded == Some(sig) {
                return Verdict::Interrupted(sig);
            }
            let why = if sig == libc::SIGKILL {
                " — killed from outside, perhaps for lack of memory".to_string()
            } else if e.while_reading {
                " — the file is probably corrupt".to_string()
            } else {
                " — please report it with the input file".to_string()
            };
            return Verdict::Died(format!("{doing} {input} {CRASHED} ({}){why}", signals::name(sig)));
        }
        let code = e.status.code().unwrap_or(2);
        Verdict::Exited { code: u8::try_from(code).unwrap_or(2), stderr: e.stderr.clone() }
    }
}
