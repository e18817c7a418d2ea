//! Accumulates wall and CPU time into the phases of an [`ExportReport`](crate::ExportReport).
//!
//! In integer nanoseconds until [`PhaseClock::finish`]: `Duration` arithmetic branches on
//! carries and borrows, which made the instruction count of an export depend on the
//! clock's readings (see `crate::report::process_cpu_ns`).

use crate::report::{monotonic_ns, process_cpu_ns, thread_cpu_ns, Phase, PhaseTiming};
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
    /// Set between [`PhaseClock::begin_background`] and [`PhaseClock::end_background`].
    background: Option<Background>,
}

/// Work of one phase running on other threads while this thread's phases are timed.
struct Background {
    phase: Phase,
    /// This thread's CPU at the last switch: phases switched meanwhile are charged it.
    thread_mark: u64,
    /// Process and thread CPU when the background work began.
    process_cpu0: u64,
    thread_cpu0: u64,
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
            background: None,
        }
    }

    /// Charge the time since the last switch to the current phase and start `phase`.
    pub fn switch(&mut self, phase: Phase) {
        let (now, cpu) = (monotonic_ns(), process_cpu_ns());
        let i = index(self.current);
        self.wall_ns[i] = self.wall_ns[i].wrapping_add(now.saturating_sub(self.wall_mark));
        let spent = match &mut self.background {
            // Other threads work for the background phase: this phase gets this thread's.
            Some(b) => {
                let t = thread_cpu_ns();
                t.saturating_sub(std::mem::replace(&mut b.thread_mark, t))
            }
            None => cpu.saturating_sub(self.cpu_mark),
        };
        self.cpu_ns[i] = self.cpu_ns[i].wrapping_add(spent);
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

    /// From now until [`PhaseClock::end_background`], other threads work for `phase`
    /// (e.g. a matrix transposed while this thread checks the other inputs): the phases
    /// this thread switches through meanwhile are charged this thread's CPU only, and
    /// the rest of the process's CPU in that window goes to `phase`.
    pub fn begin_background(&mut self, phase: Phase) {
        self.switch(self.current);
        let (process_cpu0, thread_cpu0) = (process_cpu_ns(), thread_cpu_ns());
        self.background = Some(Background { phase, thread_mark: thread_cpu0, process_cpu0, thread_cpu0 });
    }

    /// End the window of [`PhaseClock::begin_background`]: the background phase gets the
    /// window's CPU that this thread did not spend, and `overlap_wall_ns`, the part of
    /// its wall time that ran beside this thread's other phases (what ran after them is
    /// in the phase current then).
    pub fn end_background(&mut self, overlap_wall_ns: u64) {
        self.switch(self.current);
        let Some(b) = self.background.take() else { return };
        // One reading of each clock: the next phase starts where the window ended.
        let (process, thread) = (process_cpu_ns(), thread_cpu_ns());
        let others = process.saturating_sub(b.process_cpu0).saturating_sub(thread.saturating_sub(b.thread_cpu0));
        let i = index(b.phase);
        self.cpu_ns[i] = self.cpu_ns[i].wrapping_add(others);
        self.wall_ns[i] = self.wall_ns[i].wrapping_add(overlap_wall_ns);
        self.cpu_mark = process;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Spin until this thread has used `ns` more CPU nanoseconds.
    fn burn(ns: u64) {
        let until = thread_cpu_ns() + ns;
        while thread_cpu_ns() < until {
            std::hint::spin_loop();
        }
    }

    fn cpu_of(timings: &[PhaseTiming], phase: Phase) -> u64 {
        timings.iter().find(|t| t.phase == phase).map_or(0, |t| t.cpu.as_nanos() as u64)
    }

    /// Work of another thread inside the background window goes to the background
    /// phase, not to the phase this thread was timing meanwhile. In CPU time, not wall
    /// time, so a busy machine cannot change the outcome.
    #[test]
    fn background_work_is_charged_to_its_own_phase() {
        const MS: u64 = 1_000_000;
        let mut clock = PhaseClock::start(Phase::Validation);
        clock.begin_background(Phase::Genes);
        clock.switch(Phase::Obs);
        std::thread::scope(|s| {
            s.spawn(|| burn(40 * MS));
            burn(5 * MS);
        });
        clock.switch(Phase::Graph);
        clock.end_background(0);
        let (timings, _, _) = clock.finish();
        let (genes, obs) = (cpu_of(&timings, Phase::Genes), cpu_of(&timings, Phase::Obs));
        assert!(genes >= 40 * MS, "the other thread's 40 ms of CPU went elsewhere: genes {genes} ns");
        assert!((5 * MS..40 * MS).contains(&obs), "obs should hold this thread's 5 ms only: {obs} ns");
    }
}
