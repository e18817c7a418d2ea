//! Progress bars that show on a terminal and stay silent otherwise.

use cellucid_core::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// A progress sink for an export: a gene bar (genes done, MB/s, ETA) on a terminal.
pub struct ExportProgress {
    bar: ProgressBar,
}

impl ExportProgress {
    pub fn new(enabled: bool) -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        if enabled && std::io::stderr().is_terminal() {
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        bar.set_style(ProgressStyle::with_template("{spinner} {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()));
        ExportProgress { bar }
    }

    /// Handle one progress event (called from worker threads).
    pub fn event(&self, p: Progress) {
        match p {
            Progress::Phase(phase) => self.bar.set_message(format!("{}…", phase.name())),
            Progress::GenesStarted { total } => {
                self.bar.set_length(total as u64);
                self.bar.set_position(0);
                self.bar.set_style(
                    ProgressStyle::with_template(
                        "genes {bar:40} {pos}/{len} {msg} ({per_sec}, ETA {eta})",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
            }
            Progress::GeneDone { bytes } => {
                self.bar.inc(1);
                let _ = bytes;
            }
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
