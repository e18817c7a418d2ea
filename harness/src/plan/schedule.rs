//! The interleaved run order of a sweep.
//!
//! Runs are done in rounds: every cell once per round, each round in its own seeded
//! random order, the warm-up rounds first. Interleaving spreads slow drifts of the
//! machine (thermal throttling, a neighbour's job, page-cache growth) over all cells
//! instead of biasing whichever cell ran during them, and a fresh order each round
//! stops one cell from always following the same other cell.

use super::rng::SplitMix64;
use super::Cell;

/// One run of one cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScheduledRun {
    /// Index into the `cells` slice given to [`schedule`].
    pub cell_index: usize,
    /// Round number: `0..warmup` are warm-ups, `warmup..warmup + repeats` are timed.
    pub repeat: u32,
    pub is_warmup: bool,
}

/// The run order for `cells`: `warmup + repeats` rounds, each a seeded permutation of
/// all cells. Same inputs and seed → the same order, on any machine.
pub fn schedule(cells: &[Cell], warmup: u32, repeats: u32, seed: u64) -> Vec<ScheduledRun> {
    schedule_warming(cells, &vec![true; cells.len()], warmup, repeats, seed)
}

/// [`schedule`], with warm-up runs only for the cells whose `warm` entry is true (see
/// `Plan::warms_up`). The timed rounds are the same permutations either way.
pub fn schedule_warming(cells: &[Cell], warm: &[bool], warmup: u32, repeats: u32, seed: u64) -> Vec<ScheduledRun> {
    let mut rng = SplitMix64::new(seed);
    let rounds = warmup.saturating_add(repeats);
    let mut out = Vec::with_capacity(cells.len() * rounds as usize);
    let mut order: Vec<usize> = (0..cells.len()).collect();
    for repeat in 0..rounds {
        // Shuffling the previous round's order with a continuing stream gives every
        // round a different permutation.
        rng.shuffle(&mut order);
        let is_warmup = repeat < warmup;
        out.extend(
            order
                .iter()
                .filter(|&&c| !is_warmup || warm.get(c).copied().unwrap_or(true))
                .map(|&cell_index| ScheduledRun { cell_index, repeat, is_warmup }),
        );
    }
    out
}
