//! Progress bars that show on a terminal and stay silent otherwise.

use cellucid_core::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

/// A progress sink for an export: a gene bar (genes done, MB/s written, ETA) on a terminal.
pub struct ExportProgress {
    bar: ProgressBar,
    /// False when nothing is drawn: events are then ignored. A hidden bar still formats
    /// a clock-dependent MB/s message per gene and runs indicatif's time-based rate
    /// limiter, work a quiet export does not need, and which made instruction counts
    /// (`ci --counter instructions`) differ between runs of the same binary.
    drawn: bool,
    /// Bytes written by the gene stage so far, and when it started (for MB/s).
    gene_bytes: AtomicU64,
    genes_started: OnceLock<Instant>,
}

impl ExportProgress {
    pub fn new(enabled: bool) -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        let drawn = enabled && std::io::stderr().is_terminal();
        if drawn {
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        bar.set_style(spinner());
        ExportProgress { bar, drawn, gene_bytes: AtomicU64::new(0), genes_started: OnceLock::new() }
    }

    /// Handle one progress event (called from worker threads).
    pub fn event(&self, p: Progress) {
        if !self.drawn {
            return;
        }
        match p {
            Progress::Phase(phase) => {
                // Every phase shows as a spinner; the gene phase switches to its bar below.
                self.bar.set_style(spinner());
                self.bar.set_message(format!("{}…", phase.name()));
            }
            Progress::GenesStarted { total } => {
                let _ = self.genes_started.set(Instant::now());
                self.bar.set_length(total as u64);
                self.bar.set_position(0);
                self.bar.set_style(
                    ProgressStyle::with_template(
                        "genes {bar:40} {pos}/{len}, {msg}, ETA {eta}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
            }
            Progress::GeneDone { bytes } => {
                let total = self.gene_bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
                let secs = self.genes_started.get().map_or(0.0, |t| t.elapsed().as_secs_f64());
                if secs > 0.0 {
                    self.bar.set_message(format!("{:.1} MB/s written", total as f64 / 1e6 / secs));
                }
                self.bar.inc(1);
            }
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

fn spinner() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner())
}

/// A bar of cells written while a dataset is generated (a terminal only).
pub fn cells_bar(cells: usize) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(cells as u64), ProgressDrawTarget::hidden());
    if std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::stderr());
    }
    if let Ok(style) = ProgressStyle::with_template("generating {bar:30} {human_pos}/{human_len} cells  {per_sec}  ETA {eta}") {
        bar.set_style(style);
    }
    bar
}
