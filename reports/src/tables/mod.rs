//! The guide's sections as tables of measured numbers, one module per section.
//!
//! Tables 1–8 are built once per writer, each from that writer's own runs only (an
//! [`Input`] narrowed by [`Input::only`]), and then set side by side ([`side`]); a
//! fit or ratio never mixes two writers' runs. Table 9 ([`writers`]) is the one table
//! that compares writers, cell by cell.

pub mod atlas;
pub mod compression;
pub mod connectivities;
pub mod filesystems;
pub mod genes;
pub mod levers;
pub mod quantization;
pub mod scale;
pub mod scaling;
pub mod side;
pub mod writers;

use crate::cells::{self, CellRuns};
use crate::model::{Results, Sample, ScenarioRecord};
use crate::recommend::Budget;
use crate::report::{Context, Plot, Table};

/// What every table builder reads.
pub struct Input<'a> {
    /// Measured cells of the selected writers.
    pub cells: Vec<CellRuns<'a>>,
    /// Skipped samples (predictions) of the selected writers.
    pub skipped: Vec<&'a Sample>,
    /// Scenario records of the selected writers (`crate::scenarios`).
    pub scenarios: Vec<&'a ScenarioRecord>,
    /// The selected writers, in column order; after [`Input::only`], just one.
    pub writers: Vec<String>,
    /// Table 9's baseline writer.
    pub baseline: String,
    /// What each writer of the results writes, as the store headers declare it
    /// (`compact_v1`, `compact_v1_key_era`, `anndata`, `other`); kept whole by
    /// [`Input::only`], for rules that compare kinds of output.
    pub outputs: std::collections::BTreeMap<String, String>,
    pub machine: String,
    pub date: String,
    pub budget: Budget,
}

impl<'a> Input<'a> {
    /// The results narrowed to `writers` (which the caller has checked exist).
    pub fn new(results: &'a Results, budget: Budget, writers: Vec<String>, baseline: String) -> Input<'a> {
        let selected = |s: &&Sample| writers.contains(&s.writer);
        Input {
            cells: cells::group(results.samples().filter(selected)),
            skipped: results.skipped().filter(selected).collect(),
            scenarios: results.scenarios().filter(|r| writers.contains(&r.writer)).collect(),
            writers: writers.clone(),
            baseline,
            outputs: results.outputs(),
            machine: results.machine(),
            date: results.date(),
            budget,
        }
    }

    /// The same input holding one writer's cells only.
    pub fn only(&self, writer: &str) -> Input<'a> {
        Input {
            cells: self.cells.iter().filter(|c| c.writer() == writer).cloned().collect(),
            skipped: self.skipped.iter().copied().filter(|s| s.writer == writer).collect(),
            scenarios: self.scenarios.iter().copied().filter(|r| r.writer == writer).collect(),
            writers: vec![writer.to_string()],
            baseline: self.baseline.clone(),
            outputs: self.outputs.clone(),
            machine: self.machine.clone(),
            date: self.date.clone(),
            budget: self.budget,
        }
    }

    /// The writer a per-writer builder describes (the first selected).
    pub fn writer(&self) -> &str {
        self.writers.first().map_or("", String::as_str)
    }

    /// Cells of [`Input::writer`] with at least one run.
    pub fn writer_cells(&self) -> Vec<CellRuns<'a>> {
        self.cells.iter().filter(|c| c.writer() == self.writer()).cloned().collect()
    }

    /// The writer's cells in the default state of the knobs a table does not study:
    /// buffered, warm cache.
    pub fn plain(&self) -> Vec<CellRuns<'a>> {
        self.writer_cells()
            .into_iter()
            .filter(|c| {
                let s: &Sample = c.first();
                !s.durable() && !s.cold()
            })
            .collect()
    }

    pub fn context(&self, used: &[&CellRuns]) -> Context {
        cells::context(&self.machine, &self.date, used)
    }
}

/// Tables and plots, in the guide's order.
pub type Built = (Vec<Table>, Vec<Plot>);

/// Tables 1–8 and the plots of one writer, in the guide's order.
pub fn build_one(input: &Input) -> Built {
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
    tables.push(atlas::table(input));
    tables.push(filesystems::table(input));
    tables.push(connectivities::table(input));
    (tables, plots)
}

/// Every table and plot: tables 1–8 per selected writer, set side by side, then
/// table 9 (the writers on the same cells), then one table per scenario in the results
/// (`crate::scenarios`).
pub fn build(input: &Input) -> Built {
    let per_writer: Vec<(String, Built)> =
        input.writers.iter().map(|w| (w.clone(), build_one(&input.only(w)))).collect();
    let count = per_writer.first().map_or(0, |(_, (t, _))| t.len());
    let mut tables: Vec<Table> = (0..count)
        .map(|i| side::combine(per_writer.iter().map(|(w, (t, _))| (w.as_str(), &t[i])).collect()))
        .collect();
    let plot_count = per_writer.first().map_or(0, |(_, (_, p))| p.len());
    let plots =
        (0..plot_count).map(|i| side::merge_plots(per_writer.iter().map(|(w, (_, p))| (w.as_str(), &p[i])).collect())).collect();
    tables.push(writers::table(input));
    tables.extend(crate::scenarios::tables(input));
    (tables, plots)
}
