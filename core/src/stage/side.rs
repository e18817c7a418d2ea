//! The writes that run beside the gene stage: obs, then the graph, on one rayon task.
//!
//! Each part reports its own wall time and the CPU time of the thread that ran it
//! (neither uses rayon inside, so that thread did all of its work), for the export's
//! per-phase report.

use super::graph::{self, Graph};
use super::obs::{self, Obs};
use super::output::{Output, Written};
use crate::error::Result;
use crate::options::ExportOptions;
use crate::report::Phase;
use std::time::{Duration, Instant};

/// One part written beside the genes.
pub struct Part {
    pub phase: Phase,
    pub wall: Duration,
    pub cpu: Duration,
    pub written: Written,
}

/// The side branch's outcome: obs, then the graph (not attempted when obs failed).
pub struct Side {
    obs: Result<Part>,
    graph: Option<Result<Part>>,
}

impl Side {
    /// The parts written, or the first error (obs before graph).
    pub fn into_results(self) -> Result<[Option<Part>; 2]> {
        let obs = self.obs?;
        let graph = self.graph.transpose()?;
        Ok([Some(obs), graph])
    }
}

/// Write obs, then the graph if any.
pub fn write(obs: &Obs, graph: Option<&Graph>, options: &ExportOptions, n: usize, output: &Output) -> Side {
    let obs = timed(Phase::Obs, || obs::write(obs, options, n, output));
    let graph = match (&obs, graph) {
        (Ok(_), Some(g)) => Some(timed(Phase::Graph, || graph::write(g, options, output))),
        _ => None,
    };
    Side { obs, graph }
}

fn timed(phase: Phase, f: impl FnOnce() -> Result<Written>) -> Result<Part> {
    let (wall0, cpu0) = (Instant::now(), thread_cpu());
    let written = f()?;
    Ok(Part { phase, wall: wall0.elapsed(), cpu: thread_cpu().saturating_sub(cpu0), written })
}

/// CPU time consumed by the calling thread.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant Linux knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}
