//! The report's model, independent of any output format: tables of cells, plots of
//! series, verdicts. Exporters (`crate::export`) only render it.

use crate::stats::Interval;
use crate::verdicts::VerdictRow;
use serde::Serialize;

/// Cells measured fewer times than this print "n<3" instead of a number.
pub const MIN_RUNS: usize = 3;

/// One table cell: the text shown, and the number behind it for CSV/JSON.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Cell {
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lo: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hi: Option<f64>,
}

impl Cell {
    pub fn text(t: impl Into<String>) -> Cell {
        Cell { text: t.into(), value: None, lo: None, hi: None }
    }

    /// A number with `digits` significant-looking decimals chosen by magnitude.
    pub fn num(v: f64) -> Cell {
        Cell { text: fmt_num(v), value: Some(v), lo: None, hi: None }
    }

    pub fn int(v: u64) -> Cell {
        Cell { text: group_thousands(v), value: Some(v as f64), lo: None, hi: None }
    }

    /// `1.23 [1.10–1.40]`.
    pub fn with_interval(v: f64, i: Option<Interval>) -> Cell {
        match i {
            Some(i) => Cell {
                text: format!("{} [{}–{}]", fmt_num(v), fmt_num(i.lo), fmt_num(i.hi)),
                value: Some(v),
                lo: Some(i.lo),
                hi: Some(i.hi),
            },
            None => Cell::num(v),
        }
    }

    /// Fewer runs than [`MIN_RUNS`], or not in the results at all.
    pub fn missing(reason: impl Into<String>) -> Cell {
        Cell::text(reason)
    }

    pub fn too_few(n: usize) -> Cell {
        Cell::missing(format!("n<{MIN_RUNS} ({n})"))
    }
}

/// Three significant digits, plain notation for the usual range.
pub fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if a >= 1000.0 {
        group_thousands(v.round() as u64)
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else if a >= 0.001 {
        format!("{v:.3}")
    } else {
        format!("{v:.2e}")
    }
}

/// `1,234,567`.
pub fn group_thousands(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What every table states about its numbers.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Context {
    pub machine: String,
    pub date: String,
    /// `3 runs per cell (12 cells)`.
    pub runs: String,
    /// `wall-time spread (max−min)/median: median 4 %, worst 11 %`.
    pub spread: String,
    /// The 95 % interval of each cell's median, relative: `median ±3.1 %, worst ±9.0 %;
    /// 10 of 12 cells within ±5 %` (cells with fewer than 6 runs have none; empty: not
    /// stated, e.g. a table of findings).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub interval: String,
    /// Measured cells the table read (0: the table has no data for its writer).
    pub cells: usize,
}

impl Context {
    pub fn line(&self) -> String {
        let interval = if self.interval.is_empty() { String::new() } else { format!(" Interval: {}.", self.interval) };
        format!("Machine: {}. Date: {}. Runs: {}. Spread: {}.{interval}", self.machine, self.date, self.runs, self.spread)
    }
}

/// One table of the report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Table {
    /// File-name-safe id (`gene-expression`).
    pub id: String,
    pub title: String,
    /// What the guide says in this section.
    pub guide: String,
    pub context: Context,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    pub notes: Vec<String>,
}

/// One series of a plot.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// One plot (drawn by the SVG and PNG exporters, inlined by the HTML one).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Plot {
    pub id: String,
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub log_x: bool,
    pub log_y: bool,
    pub series: Vec<Series>,
}

/// Everything a report holds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub title: String,
    pub machine: String,
    /// The commits of the binaries that measured (`Results::commits`).
    pub commits: String,
    pub date: String,
    pub plans: String,
    pub samples: usize,
    pub failed: usize,
    /// Cells skipped for their writer's budget (predictions only, never in a statistic).
    pub skipped: usize,
    /// The writers reported on, in column order, with their version where known.
    pub writers: Vec<WriterColumn>,
    /// The writer speed-ups in table 9 are measured against.
    pub baseline: String,
    pub tables: Vec<Table>,
    pub plots: Vec<Plot>,
    /// Rule × writer.
    pub verdicts: Vec<VerdictRow>,
}

/// A writer as the report names it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WriterColumn {
    pub name: String,
    pub version: Option<String>,
    /// Measured runs (skipped cells not counted).
    pub samples: usize,
}

impl WriterColumn {
    /// `cellucid-py-0.9.2 (0.9.2)`, or the name alone.
    pub fn describe(&self) -> String {
        match &self.version {
            Some(v) => format!("{} ({v})", self.name),
            None => self.name.clone(),
        }
    }
}

impl Report {
    /// The verdict of rule `id` for `writer`.
    pub fn verdict(&self, id: &str, writer: &str) -> Option<&crate::verdicts::Judgement> {
        self.verdicts.iter().find(|v| v.id == id)?.by_writer.iter().find(|j| j.writer == writer)
    }

    /// `cellucid-bench (baseline), cellucid-py-0.9.2 (0.9.2)`.
    pub fn writers_line(&self) -> String {
        self.writers
            .iter()
            .map(|w| if w.name == self.baseline { format!("{} (baseline)", w.describe()) } else { w.describe() })
            .collect::<Vec<_>>()
            .join(", ")
    }
}
