//! Accumulates wall and CPU time into the phases of an [`ExportReport`](crate::ExportReport).
//!
//! In integer nanoseconds until [`PhaseClock::finish`]: `Duration` arithmetic branches on
//! carries and borrows, which made the instruction count of an export depend on the
//! clock's readings (see `crate::report::process_cpu_ns`).

use crate::report::{monotonic_ns, process_cpu_ns, Phase, PhaseTiming};
use std::time::Duration;

/// A stopwatch that is always running for exactly one phase.
pub struct PhaseClock {
    timings: Vec<PhaseTiming>,
    /// Per phase (the order of `Phase::ALL`): wall and CPU nanoseconds.
    wall_ns: [u64; Phase::ALL.len()],
    cpu_ns: [u64; Phase::ALL.len()],
    current: Phase,
    wall_mark: u64,
    cpu_mark: u64,
    start: u64,
    cpu_start: u64,
}

impl PhaseClock {
    pub fn start(phase: Phase) -> Self {
        let (now, cpu) = (monotonic_ns(), process_cpu_ns());
        PhaseClock {
            timings: Phase::ALL
                .iter()
                .map(|&phase| PhaseTiming {
                    phase,
                    wall: Duration::ZERO,
                    cpu: Duration::ZERO,
                    files: 0,
                    raw_bytes: 0,
                    bytes: 0,
                })
                .collect(),
            wall_ns: [0; Phase::ALL.len()],
            cpu_ns: [0; Phase::ALL.len()],
            current: phase,
            wall_mark: now,
            cpu_mark: cpu,
            start: now,
            cpu_start: cpu,
        }
    }

    /// Charge the time since the last switch to the current phase and start `phase`.
    pub fn switch(&mut self, phase: Phase) {
        let (now, cpu) = (monotonic_ns(), process_cpu_ns());
        let i = index(self.current);
        self.wall_ns[i] = self.wall_ns[i].wrapping_add(now.saturating_sub(self.wall_mark));
        self.cpu_ns[i] = self.cpu_ns[i].wrapping_add(cpu.saturating_sub(self.cpu_mark));
        self.current = phase;
        self.wall_mark = now;
        self.cpu_mark = cpu;
    }

    /// Charge `wall` and `cpu` spent by `phase` on another thread while the current
    /// phase ran: the CPU is moved from the current phase (whose process-wide reading
    /// includes it) to `phase`.
    pub fn charge(&mut self, phase: Phase, wall_ns: u64, cpu_ns: u64) {
        let i = index(phase);
        self.wall_ns[i] = self.wall_ns[i].wrapping_add(wall_ns);
        self.cpu_ns[i] = self.cpu_ns[i].wrapping_add(cpu_ns);
        self.cpu_mark = self.cpu_mark.wrapping_add(cpu_ns);
    }

    /// Add files and bytes written to a phase.
    pub fn add_output(&mut self, phase: Phase, files: u64, raw_bytes: u64, bytes: u64) {
        let t = &mut self.timings[index(phase)];
        t.files += files;
        t.raw_bytes += raw_bytes;
        t.bytes += bytes;
    }

    /// Stop the clock: per-phase timings, total wall and total CPU.
    pub fn finish(mut self) -> (Vec<PhaseTiming>, Duration, Duration) {
        self.switch(self.current);
        for (i, t) in self.timings.iter_mut().enumerate() {
            t.wall = Duration::from_nanos(self.wall_ns[i]);
            t.cpu = Duration::from_nanos(self.cpu_ns[i]);
        }
        let wall = Duration::from_nanos(monotonic_ns().saturating_sub(self.start));
        let cpu = Duration::from_nanos(process_cpu_ns().saturating_sub(self.cpu_start));
        (self.timings, wall, cpu)
    }
}

/// The position of `phase` in `Phase::ALL`.
fn index(phase: Phase) -> usize {
    Phase::ALL.iter().position(|p| *p == phase).unwrap_or(0)
}
