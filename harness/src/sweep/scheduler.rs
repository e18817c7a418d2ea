//! Which cells a sweep runs, and in which order: the plan's cells (or a shard's), on the
//! chosen targets, without the cells their writer cannot express (dropped with the
//! reason, never run and never changed), then the interleaved schedule.

use crate::plan::{schedule_warming, Cell, MachineBudget, Plan, ScheduledRun};
use crate::writer::Writers;
use anyhow::{bail, Result};

/// A cell its writer cannot express.
#[derive(Clone, Debug)]
pub struct Dropped {
    pub label: String,
    pub writer: String,
    pub reason: String,
}

/// The plan's cells (one shard's, if given), only on `only_targets` when given.
pub fn select(plan: &Plan, shard: Option<(usize, usize)>, only_targets: Option<&[String]>) -> Result<Vec<Cell>> {
    plan.validate().map_err(|e| anyhow::anyhow!("plan {}: {e}", plan.name))?;
    let mut cells = match shard {
        Some((i, n)) => plan.shard(i, n),
        None => plan.cells(),
    };
    if let Some(only) = only_targets {
        cells.retain(|c| only.contains(&c.target));
    }
    if cells.is_empty() {
        bail!("no cell of plan {} left to run (check --targets and --shard)", plan.name);
    }
    Ok(cells)
}

/// Splits off the cells whose writer cannot express them. A writer the plan names but
/// nobody declared is an error.
pub fn drop_unsupported(cells: Vec<Cell>, writers: &Writers) -> Result<(Vec<Cell>, Vec<Dropped>)> {
    let mut kept = Vec::with_capacity(cells.len());
    let mut dropped = Vec::new();
    for c in cells {
        let w = writers.get(&c.writer).map_err(|e| anyhow::anyhow!("plan axis `writer`: {e}"))?;
        match w.supports.why_not(&c, &w.name) {
            None => kept.push(c),
            Some(reason) => dropped.push(Dropped { label: c.label(), writer: w.name.clone(), reason }),
        }
    }
    Ok((kept, dropped))
}

/// Prints dropped cells, one line each (the reason names the plan axis).
pub fn print_dropped(dropped: &[Dropped]) {
    for d in dropped {
        eprintln!("cell {}: dropped, {} cannot express it: {}", d.label, d.writer, d.reason);
    }
}

/// The run order: warm-ups (for the cells that get them), then rounds of timed runs.
pub fn runs(plan: &Plan, cells: &[Cell], machine: &MachineBudget) -> Vec<ScheduledRun> {
    let warm = plan.warms_up(cells, machine);
    schedule_warming(cells, &warm, plan.warmup, plan.repeats, plan.seed)
}
