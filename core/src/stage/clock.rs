//! Accumulates wall and CPU time into the phases of an [`ExportReport`](crate::ExportReport).

use crate::report::{process_cpu_time, Phase, PhaseTiming};
use std::time::{Duration, Instant};

/// A stopwatch that is always running for exactly one phase.
pub struct PhaseClock {
    timings: Vec<PhaseTiming>,
    current: Phase,
    wall_mark: Instant,
    cpu_mark: Duration,
    start: Instant,
    cpu_start: Duration,
}

impl PhaseClock {
    pub fn start(phase: Phase) -> Self {
        let now = Instant::now();
        let cpu = process_cpu_time();
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
            current: phase,
            wall_mark: now,
            cpu_mark: cpu,
            start: now,
            cpu_start: cpu,
        }
    }

    /// Charge the time since the last switch to the current phase and start `phase`.
    pub fn switch(&mut self, phase: Phase) {
        let now = Instant::now();
        let cpu = process_cpu_time();
        let (wall, cpu_used) = (now - self.wall_mark, cpu.saturating_sub(self.cpu_mark));
        let t = self.timing_mut(self.current);
        t.wall += wall;
        t.cpu += cpu_used;
        self.current = phase;
        self.wall_mark = now;
        self.cpu_mark = cpu;
    }

    /// Charge `wall` and `cpu` spent by `phase` on another thread while the current
    /// phase ran: the CPU is moved from the current phase (whose process-wide reading
    /// includes it) to `phase`.
    pub fn charge(&mut self, phase: Phase, wall: Duration, cpu: Duration) {
        let t = self.timing_mut(phase);
        t.wall += wall;
        t.cpu += cpu;
        self.cpu_mark += cpu;
    }

    /// Add files and bytes written to a phase.
    pub fn add_output(&mut self, phase: Phase, files: u64, raw_bytes: u64, bytes: u64) {
        let t = self.timing_mut(phase);
        t.files += files;
        t.raw_bytes += raw_bytes;
        t.bytes += bytes;
    }

    fn timing_mut(&mut self, phase: Phase) -> &mut PhaseTiming {
        let i = Phase::ALL.iter().position(|p| *p == phase).unwrap_or(0);
        &mut self.timings[i]
    }

    /// Stop the clock: per-phase timings, total wall and total CPU.
    pub fn finish(mut self) -> (Vec<PhaseTiming>, Duration, Duration) {
        self.switch(self.current);
        let wall = self.start.elapsed();
        let cpu = process_cpu_time().saturating_sub(self.cpu_start);
        (self.timings, wall, cpu)
    }
}
