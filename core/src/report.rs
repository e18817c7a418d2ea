//! `ExportReport`: what one export cost, phase by phase.

use serde::Serialize;
use std::time::Duration;

/// The phases of an export, in the order they run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Argument checks, filesystem preparation and every input check before the first payload.
    Validation,
    Embeddings,
    Vectors,
    Obs,
    Genes,
    Graph,
    Identity,
    Publish,
}

impl Phase {
    pub const ALL: [Phase; 8] = [
        Phase::Validation,
        Phase::Embeddings,
        Phase::Vectors,
        Phase::Obs,
        Phase::Genes,
        Phase::Graph,
        Phase::Identity,
        Phase::Publish,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Phase::Validation => "validation",
            Phase::Embeddings => "embeddings",
            Phase::Vectors => "vectors",
            Phase::Obs => "obs",
            Phase::Genes => "genes",
            Phase::Graph => "graph",
            Phase::Identity => "identity",
            Phase::Publish => "publish",
        }
    }
}

/// Wall and CPU time of one phase, and what it wrote.
#[derive(Clone, Debug, Serialize)]
pub struct PhaseTiming {
    pub phase: Phase,
    #[serde(serialize_with = "secs")]
    pub wall: Duration,
    /// CPU time of the whole process (all threads) during the phase.
    #[serde(serialize_with = "secs")]
    pub cpu: Duration,
    pub files: u64,
    /// Payload bytes before compression.
    pub raw_bytes: u64,
    /// Bytes written to disk.
    pub bytes: u64,
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// What one export did and cost.
#[derive(Clone, Debug, Serialize)]
pub struct ExportReport {
    pub phases: Vec<PhaseTiming>,
    #[serde(serialize_with = "secs")]
    pub wall: Duration,
    #[serde(serialize_with = "secs")]
    pub cpu: Duration,
    pub files_written: u64,
    pub directories_created: u64,
    /// Payload bytes before compression (JSON included).
    pub raw_bytes: u64,
    /// Bytes written to disk (JSON included).
    pub bytes_written: u64,
    pub n_cells: u64,
    pub n_genes: u64,
    pub n_edges: Option<u64>,
    pub threads: usize,
    /// Bytes of the gene matrix spilled to scratch files to stay within a memory
    /// budget (0 when the matrix was in memory).
    pub spill_bytes: u64,
}

impl ExportReport {
    pub fn phase(&self, phase: Phase) -> Option<&PhaseTiming> {
        self.phases.iter().find(|p| p.phase == phase)
    }
}

/// CPU time consumed by this process so far (user + system, all threads).
pub fn process_cpu_time() -> Duration {
    Duration::from_nanos(process_cpu_ns())
}

/// CPU time of this process (user + system) in nanoseconds.
///
/// Integer arithmetic on purpose, here and in [`monotonic_ns`]: `Duration`'s `+` and `-`
/// branch on whether the nanoseconds carry or borrow, so the instructions the phase
/// clock ran depended on the clock's readings, and `ci --counter instructions` saw the
/// same binary count differently (8 instructions in 227 million). Sums and differences
/// of `u64` nanoseconds run the same instructions whatever the time.
pub fn process_cpu_ns() -> u64 {
    // SAFETY: getrusage only writes into the struct we pass, which is valid and zeroed.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_SELF, &mut ru) != 0 {
            return 0;
        }
        ru
    };
    let us = |t: libc::timeval| (t.tv_sec as u64).wrapping_mul(1_000_000).wrapping_add(t.tv_usec as u64);
    us(ru.ru_utime).wrapping_add(us(ru.ru_stime)).wrapping_mul(1_000)
}

/// CPU nanoseconds consumed by the calling thread.
pub fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant Linux knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return 0;
    }
    (ts.tv_sec as u64).wrapping_mul(1_000_000_000).wrapping_add(ts.tv_nsec as u64)
}

/// The monotonic clock in nanoseconds (see [`process_cpu_ns`] for why not `Instant`).
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC always exists on Linux.
    if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) } != 0 {
        return 0;
    }
    (ts.tv_sec as u64).wrapping_mul(1_000_000_000).wrapping_add(ts.tv_nsec as u64)
}
