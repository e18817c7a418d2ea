//! The guide's sections as tables of measured numbers, one module per section.
//!
//! Every builder takes the same [`Input`] (the results grouped into cells, the machine
//! and date, the budgets) and returns its table(s) and plot(s). Only cells of this
//! exporter (`subject = ours`) are used, except in the reference table.

pub mod compression;
pub mod connectivities;
pub mod filesystems;
pub mod genes;
pub mod levers;
pub mod quantization;
pub mod reference;
pub mod scale;
pub mod scaling;

use crate::cells::{self, CellRuns};
use crate::model::{Results, Sample};
use crate::recommend::Budget;
use crate::report::{Context, Plot, Table};

/// What every table builder reads.
pub struct Input<'a> {
    pub cells: Vec<CellRuns<'a>>,
    pub machine: String,
    pub date: String,
    pub budget: Budget,
}

impl<'a> Input<'a> {
    pub fn new(results: &'a Results, budget: Budget) -> Input<'a> {
        Input { cells: cells::group(results.samples()), machine: results.machine(), date: results.date(), budget }
    }

    /// Cells of this exporter with at least one run.
    pub fn ours(&self) -> Vec<&CellRuns<'a>> {
        self.cells.iter().filter(|c| c.first().subject == "ours").collect()
    }

    /// Our cells in the default state of the knobs a table does not study: buffered,
    /// warm cache.
    pub fn ours_plain(&self) -> Vec<CellRuns<'a>> {
        self.cells
            .iter()
            .filter(|c| {
                let s: &Sample = c.first();
                s.subject == "ours" && !s.durable() && !s.cold()
            })
            .cloned()
            .collect()
    }

    pub fn context(&self, used: &[&CellRuns]) -> Context {
        cells::context(&self.machine, &self.date, used)
    }
}

/// Every table and plot, in the guide's order.
pub fn build(input: &Input) -> (Vec<Table>, Vec<Plot>) {
    let mut tables = Vec::new();
    let mut plots = Vec::new();
    tables.push(scaling::table(input));
    let (t, p) = genes::tables(input);
    tables.extend(t);
    plots.extend(p);
    tables.push(levers::table(input));
    let (t, p) = compression::table(input);
    tables.push(t);
    plots.push(p);
    tables.push(quantization::table(input));
    tables.push(scale::table(input));
    tables.push(filesystems::table(input));
    tables.push(connectivities::table(input));
    tables.push(reference::table(input));
    (tables, plots)
}
