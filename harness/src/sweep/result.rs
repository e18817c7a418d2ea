//! Samples: a run's record (measured or failed), a skipped cell's record with its
//! prediction, and the progress a sweep shows while it stores them.

use crate::benchmark::executor::ChildRun;
use crate::plan::{human_duration, Cell};
use crate::store::{Sample, Skipped};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Instant;

/// The fields every sample of `cell` has.
fn base(cell: &Cell, repeat: u32) -> Sample {
    Sample {
        cell_id: cell.id(),
        label: cell.label(),
        repeat,
        target: cell.target.clone(),
        writer: cell.writer.clone(),
        settings: cell.settings.to_json(),
        dataset: cell.dataset_json(),
        finished_at: cellucid_core::text::utc_now(),
        memory_limit_bytes: cell.memory_limit,
        ..Default::default()
    }
}

/// The record of one run (its output is measured separately, see `measurement`).
pub fn run_sample(cell: &Cell, repeat: u32, child: &ChildRun) -> Sample {
    Sample {
        wall_s: child.wall.as_secs_f64(),
        user_s: child.user.as_secs_f64(),
        sys_s: child.sys.as_secs_f64(),
        max_rss_bytes: child.max_rss,
        ok: child.success(),
        error: (!child.success()).then(|| child.error_line()),
        ..base(cell, repeat)
    }
}

/// The record of a cell skipped for its writer's budget: not a measurement.
pub fn skipped_sample(cell: &Cell, repeat: u32, reason: &str, predicted_wall_s: f64) -> Sample {
    Sample { skipped: Some(Skipped { reason: reason.into(), predicted_wall_s, predicted_rss_bytes: None }), ..base(cell, repeat) }
}

/// A progress bar on a terminal; one line per run otherwise (a log shows where a long
/// sweep is).
pub struct Progress {
    bar: ProgressBar,
    log_lines: bool,
    total: usize,
    started: Instant,
}

impl Progress {
    pub fn new(total: usize, enabled: bool) -> Progress {
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::hidden());
        let tty = std::io::stderr().is_terminal();
        if enabled && tty {
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} runs, ETA {eta} | {msg}").unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Progress { bar, log_lines: enabled && !tty, total, started: Instant::now() }
    }

    pub fn starting(&self, cell: &Cell) {
        self.bar.set_message(cell.label());
    }

    /// Run `n` (0-based) finished.
    pub fn finished(&self, n: usize, cell: &Cell, warmup: bool, sample: &Sample) {
        self.bar.inc(1);
        if !sample.ok {
            self.bar.println(format!("run failed: {}: {}", cell.label(), sample.error.as_deref().unwrap_or("?")));
        }
        if self.log_lines {
            let done = n + 1;
            let elapsed = self.started.elapsed().as_secs_f64();
            let eta = elapsed / done as f64 * (self.total - done) as f64;
            eprintln!(
                "[{done}/{}] {}{}: {} in {:.2} s (elapsed {}, ETA {})",
                self.total,
                cell.label(),
                if warmup { " (warm-up)" } else { "" },
                if sample.ok { "ok" } else { "FAILED" },
                sample.wall_s,
                human_duration(elapsed),
                human_duration(eta)
            );
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
