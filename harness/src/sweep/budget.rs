//! Time budgets for slow writers.
//!
//! A writer has a budget per run and per sweep (a plan's `[budget.NAME]` over the
//! writer's own `[writer.budget]`). Before anything runs, each cell of a budgeted writer
//! is predicted with the sizing model (`plan::size`): cells over the run budget are
//! skipped, and then, cheapest first, cells are kept while the writer's whole share of the
//! sweep (warm-ups and repeats) fits its sweep budget. The model is calibrated per writer
//! on its own runs: stored results of the same cells (`sweep --calibration FILE`), or else
//! the sweep first runs two of the writer's cheap cells once (untimed) and fits
//! `fixed + scale × model` to them ([`WriterFit`]); the budgets are then applied again
//! with the fit. A skipped cell is stored as a skipped sample with its prediction.

use crate::plan::{run_seconds, Cell, MachineBudget, Plan, WriterFit};
use crate::store::Sample;
use crate::writer::{Budget, Writers};
use std::collections::BTreeMap;

/// Cells to calibrate a writer on when it has no fit yet.
pub const CALIBRATION_CELLS: usize = 2;

/// The least difference, in the default model's seconds, between the two calibration
/// cells (when the writer has a cell that far from its cheapest).
const MIN_SPREAD_S: f64 = 1.0;

/// A cell not run because of its writer's budget.
#[derive(Clone, Debug)]
pub struct SkippedCell {
    pub cell: Cell,
    pub reason: String,
    pub predicted_wall_s: f64,
}

/// The budget of every writer a plan uses.
pub struct Budgets {
    by_writer: BTreeMap<String, Budget>,
}

impl Budgets {
    /// The plan's budgets over each writer's defaults, for the writers of `cells`.
    pub fn new(plan: &Plan, cells: &[Cell], writers: &Writers) -> Budgets {
        let mut by_writer = BTreeMap::new();
        for c in cells {
            if by_writer.contains_key(&c.writer) {
                continue;
            }
            let default = writers.get(&c.writer).map(|w| w.budget).unwrap_or_default();
            let b = plan.budgets.get(&c.writer).copied().unwrap_or_default().or(default);
            by_writer.insert(c.writer.clone(), b);
        }
        Budgets { by_writer }
    }

    pub fn get(&self, writer: &str) -> Budget {
        self.by_writer.get(writer).copied().unwrap_or_default()
    }

    /// Writers with a budget.
    pub fn budgeted(&self) -> impl Iterator<Item = &str> {
        self.by_writer.iter().filter(|(_, b)| !b.is_empty()).map(|(w, _)| w.as_str())
    }

    /// Splits `cells` into the ones within their writer's budgets and the skipped ones.
    pub fn apply(&self, plan: &Plan, cells: Vec<Cell>, m: &MachineBudget) -> (Vec<Cell>, Vec<SkippedCell>) {
        let warm = plan.warms_up(&cells, m);
        let runs = |i: usize| plan.repeats + if warm[i] { plan.warmup } else { 0 };
        let predicted: Vec<f64> = cells.iter().map(|c| run_seconds(c, m)).collect();
        let mut keep = vec![true; cells.len()];
        let mut reasons: Vec<Option<String>> = vec![None; cells.len()];
        let model = |w: &str| match m.writer_fits.get(w) {
            Some(f) => format!("model fitted on {} of its runs", f.points),
            None => "default model, not calibrated".to_string(),
        };
        for (i, c) in cells.iter().enumerate() {
            if let Some(max) = self.get(&c.writer).run_seconds.filter(|max| predicted[i] > *max) {
                keep[i] = false;
                reasons[i] = Some(format!("predicted {:.1} s a run ({}), over {}'s run budget of {max} s", predicted[i], model(&c.writer), c.writer));
            }
        }
        for (writer, budget) in &self.by_writer {
            let Some(max) = budget.sweep_seconds else { continue };
            let mut mine: Vec<usize> = (0..cells.len()).filter(|&i| keep[i] && &cells[i].writer == writer).collect();
            mine.sort_by(|&a, &b| predicted[a].total_cmp(&predicted[b]));
            let mut used = 0.0;
            for i in mine {
                let cost = predicted[i] * runs(i) as f64;
                if used + cost > max {
                    keep[i] = false;
                    reasons[i] = Some(format!(
                        "{writer}'s sweep budget of {max} s: its cheaper cells are predicted to take {used:.0} s, this one {:.1} s × {} runs more ({})",
                        predicted[i],
                        runs(i),
                        model(writer)
                    ));
                } else {
                    used += cost;
                }
            }
        }
        let mut kept = Vec::new();
        let mut skipped = Vec::new();
        for (i, c) in cells.into_iter().enumerate() {
            match reasons[i].take() {
                Some(reason) if !keep[i] => skipped.push(SkippedCell { cell: c, reason, predicted_wall_s: predicted[i] }),
                _ => kept.push(c),
            }
        }
        (kept, skipped)
    }

    /// For each budgeted writer without a fit in `m`, the indices of its cheapest cells
    /// (up to [`CALIBRATION_CELLS`]: the cheapest, and the cheapest clearly larger one) to
    /// calibrate on.
    pub fn calibration_cells(&self, cells: &[Cell], m: &MachineBudget) -> Vec<(String, Vec<usize>)> {
        let mut out = Vec::new();
        for writer in self.budgeted() {
            if m.writer_fits.contains_key(writer) {
                continue;
            }
            let mut mine: Vec<usize> = (0..cells.len()).filter(|&i| cells[i].writer == writer).collect();
            mine.sort_by(|&a, &b| run_seconds(&cells[a], m).total_cmp(&run_seconds(&cells[b], m)));
            let Some(&first) = mine.first() else { continue };
            // The second point's size-dependent part at least twice the first's and a
            // second longer, so that the fit can tell the writer's start-up from its
            // per-value cost (two small cells differ by less than the start-up's noise).
            let variable = |i: usize| crate::plan::model_parts(&cells[i], m).1;
            let far = |i: usize| variable(i) >= (2.0 * variable(first)).max(variable(first) + MIN_SPREAD_S);
            let second = mine.iter().skip(1).find(|&&i| far(i)).or(mine.get(1));
            let picked: Vec<usize> = std::iter::once(first).chain(second.copied()).take(CALIBRATION_CELLS).collect();
            out.push((writer.to_string(), picked));
        }
        out
    }
}

/// `(fixed, variable, measured)` of one run, the point a [`WriterFit`] is fitted on.
pub fn fit_point(cell: &Cell, m: &MachineBudget, wall_s: f64) -> (f64, f64, f64) {
    let (fixed, variable) = crate::plan::model_parts(cell, m);
    (fixed, variable, wall_s)
}

/// Fits per writer from stored samples of `cells` (matched by cell id; the median wall
/// time of each cell's successful runs is one point).
pub fn fits_from_samples(cells: &[Cell], samples: &[Sample], m: &MachineBudget) -> BTreeMap<String, WriterFit> {
    let mut points: BTreeMap<String, Vec<(f64, f64, f64)>> = BTreeMap::new();
    for c in cells {
        let id = c.id();
        let walls: Vec<f64> = samples.iter().filter(|s| s.ok && s.cell_id == id).map(|s| s.wall_s).collect();
        if walls.is_empty() {
            continue;
        }
        let wall = crate::benchmark::stats::median(&walls);
        points.entry(c.writer.clone()).or_default().push(fit_point(c, m, wall));
    }
    points.into_iter().filter_map(|(w, p)| WriterFit::fit(&p).map(|f| (w, f))).collect()
}

/// Per-writer peak-memory margins from stored samples of `cells` (matched by cell id; the
/// largest RSS of each cell's successful runs).
pub fn memory_scales_from_samples(cells: &[Cell], samples: &[Sample]) -> crate::plan::MemoryScales {
    let runs = cells.iter().filter_map(|c| {
        let id = c.id();
        let rss = samples.iter().filter(|s| s.ok && s.cell_id == id).map(|s| s.max_rss_bytes).max()?;
        Some((c.writer.as_str(), &c.dataset, rss))
    });
    crate::plan::MemoryScales::from_runs(runs)
}
