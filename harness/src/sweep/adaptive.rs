//! Adaptive repeats in a sweep (the plan's `[adaptive]`, see `plan::Adaptive`): after the
//! plan's fixed rounds, further rounds of the cells whose median is not yet known to the
//! plan's interval, each round in its own seeded order (interleaved, like the fixed
//! rounds), until every cell has stopped. Each cell's stop is recorded on its last
//! stored sample.

use crate::plan::{Adaptive, Cell, ScheduledRun, SplitMix64, Stop};
use crate::store::Sample;

/// Each cell's timed runs so far and whether it stopped.
pub struct Repeats {
    rule: Adaptive,
    /// The plan's `repeats`: no cell stops before.
    min_runs: usize,
    walls: Vec<Vec<f64>>,
    attempts: Vec<u32>,
    stopped: Vec<bool>,
    next_repeat: Vec<u32>,
    rng: SplitMix64,
}

impl Repeats {
    /// For `cells` of a plan with `warmup` and `repeats` fixed rounds and `seed`.
    pub fn new(rule: Adaptive, cells: usize, warmup: u32, repeats: u32, seed: u64) -> Repeats {
        Repeats {
            rule,
            min_runs: repeats as usize,
            walls: vec![Vec::new(); cells],
            attempts: vec![0; cells],
            stopped: vec![false; cells],
            next_repeat: vec![warmup.saturating_add(repeats); cells],
            // Its own stream: the fixed rounds' order does not change when a plan adds
            // `[adaptive]`.
            rng: SplitMix64::new(seed ^ 0x4144_4150_5449_5645),
        }
    }

    /// Takes in a resumed store's samples: their walls, their stops, the rounds done.
    pub fn resume(&mut self, cells: &[Cell], stored: &[Sample]) {
        for (i, c) in cells.iter().enumerate() {
            let id = c.id();
            for s in stored.iter().filter(|s| s.cell_id == id && s.skipped.is_none()) {
                self.attempts[i] += 1;
                if s.ok {
                    self.walls[i].push(s.wall_s);
                }
                self.stopped[i] |= s.stopped.is_some();
                self.next_repeat[i] = self.next_repeat[i].max(s.repeat + 1);
            }
        }
    }

    /// Counts the timed run `sample` of cell `i` and, when the cell stops now, says why
    /// on the sample.
    pub fn record(&mut self, i: usize, sample: &mut Sample) {
        self.attempts[i] += 1;
        if sample.ok {
            self.walls[i].push(sample.wall_s);
        }
        if self.stopped[i] {
            return;
        }
        let walls = &self.walls[i];
        let stop = self.rule.decide(walls, self.min_runs).or_else(|| {
            // Failed runs count towards max_repeats too: a cell that keeps failing stops.
            (self.attempts[i] >= self.rule.max_repeats && self.attempts[i] as usize >= self.min_runs)
                .then(|| Stop::MaxRepeats { runs: walls.len(), half_width: crate::plan::relative_half_width(walls) })
        });
        if let Some(stop) = stop {
            self.stopped[i] = true;
            sample.stopped = Some(stop.to_string());
        }
    }

    /// The next round: every cell not stopped yet, in a fresh seeded order (empty when
    /// all have stopped).
    pub fn next_round(&mut self) -> Vec<ScheduledRun> {
        let mut open: Vec<usize> = (0..self.stopped.len()).filter(|&i| !self.stopped[i]).collect();
        self.rng.shuffle(&mut open);
        open.into_iter()
            .map(|i| {
                let repeat = self.next_repeat[i];
                self.next_repeat[i] += 1;
                ScheduledRun { cell_index: i, repeat, is_warmup: false }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(wall: f64, ok: bool) -> Sample {
        Sample { wall_s: wall, ok, ..Sample::default() }
    }

    #[test]
    fn rounds_continue_until_every_cell_has_stopped() {
        let rule = Adaptive { interval: 0.05, max_repeats: 8, max_cell_seconds: 1e9 };
        let mut r = Repeats::new(rule, 2, 1, 3, 7);
        // Fixed rounds: cell 0 steady, cell 1 noisy.
        for k in 0..3 {
            r.record(0, &mut sample(1.0, true));
            r.record(1, &mut sample(if k % 2 == 0 { 1.0 } else { 1.5 }, true));
        }
        let mut rounds = 0;
        let mut stops = Vec::new();
        loop {
            let round = r.next_round();
            if round.is_empty() {
                break;
            }
            rounds += 1;
            for run in round {
                assert_eq!(run.repeat as usize, 1 + 3 + rounds - 1, "repeats continue after warm-up and fixed rounds");
                let mut s = sample(if run.cell_index == 1 && rounds % 2 == 0 { 1.5 } else { 1.0 }, true);
                r.record(run.cell_index, &mut s);
                if let Some(why) = s.stopped {
                    stops.push((run.cell_index, why));
                }
            }
        }
        assert_eq!(rounds, 5, "the noisy cell runs to max_repeats = 8");
        assert!(stops.iter().any(|(i, w)| *i == 0 && w.starts_with("converged: 95 % interval of the median ±0.0 % after 6 runs")), "{stops:?}");
        assert!(stops.iter().any(|(i, w)| *i == 1 && w.starts_with("max_repeats: 8 runs")), "{stops:?}");
    }

    #[test]
    fn a_cell_that_keeps_failing_stops_at_max_repeats() {
        let rule = Adaptive { interval: 0.05, max_repeats: 4, max_cell_seconds: 1e9 };
        let mut r = Repeats::new(rule, 1, 0, 3, 1);
        for _ in 0..3 {
            r.record(0, &mut sample(0.0, false));
        }
        assert_eq!(r.next_round().len(), 1);
        let mut last = sample(0.0, false);
        r.record(0, &mut last);
        assert_eq!(last.stopped.as_deref(), Some("max_repeats: 0 runs, interval no 95 % interval yet"));
        assert!(r.next_round().is_empty());
    }
}
