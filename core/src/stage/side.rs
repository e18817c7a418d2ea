//! The writes that run beside the gene stage: obs, then the graph, on one rayon task.
//!
//! Each part reports its own wall time and the CPU time of the thread that ran it
//! (neither uses rayon inside, so that thread did all of its work), for the export's
//! per-phase report, in integer nanoseconds (as the phase clock, see
//! `crate::report::process_cpu_ns`: `Duration` arithmetic would make an export's
//! instruction count depend on the clock).

use super::graph::{self, Graph};
use super::obs::{self, Obs};
use super::output::{Output, Written};
use crate::error::Result;
use crate::options::ExportOptions;
use crate::report::{monotonic_ns, thread_cpu_ns, Phase};

/// One part written beside the genes.
pub struct Part {
    pub phase: Phase,
    pub wall_ns: u64,
    pub cpu_ns: u64,
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
    let (wall0, cpu0) = (monotonic_ns(), thread_cpu_ns());
    let written = f()?;
    Ok(Part { phase, wall_ns: monotonic_ns().saturating_sub(wall0), cpu_ns: thread_cpu_ns().saturating_sub(cpu0), written })
}
