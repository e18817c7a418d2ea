//! Samples grouped into cells (all runs of one configuration), and matching of cells
//! that differ in one dimension only (the levers, the codecs, the filesystems).

use crate::model::{quant_label, Sample};
use crate::report::{Context, MIN_RUNS};
use crate::stats;

/// All runs of one cell.
#[derive(Clone, Debug)]
pub struct CellRuns<'a> {
    pub runs: Vec<&'a Sample>,
}

impl<'a> CellRuns<'a> {
    pub fn first(&self) -> &'a Sample {
        self.runs[0]
    }

    pub fn writer(&self) -> &'a str {
        &self.runs[0].writer
    }

    pub fn n(&self) -> usize {
        self.runs.len()
    }

    pub fn enough(&self) -> bool {
        self.n() >= MIN_RUNS
    }

    pub fn values(&self, f: impl Fn(&Sample) -> f64) -> Vec<f64> {
        self.runs.iter().map(|s| f(s)).filter(|v| v.is_finite()).collect()
    }

    pub fn median(&self, f: impl Fn(&Sample) -> f64) -> f64 {
        stats::median(&self.values(f)).unwrap_or(f64::NAN)
    }

    pub fn wall(&self) -> Vec<f64> {
        self.values(|s| s.wall_s)
    }
}

/// Groups samples by writer and cell id, in order of first appearance. (A plan's cell
/// id includes its writer, but a merged store may hold another plan's cell of the same
/// id run by another writer: runs of two writers never share a cell.)
pub fn group<'a>(samples: impl Iterator<Item = &'a Sample>) -> Vec<CellRuns<'a>> {
    let mut out: Vec<CellRuns<'a>> = Vec::new();
    let mut index: std::collections::HashMap<(&str, &str), usize> = std::collections::HashMap::new();
    for s in samples {
        match index.get(&(s.writer.as_str(), s.cell_id.as_str())) {
            Some(&i) => out[i].runs.push(s),
            None => {
                index.insert((&s.writer, &s.cell_id), out.len());
                out.push(CellRuns { runs: vec![s] });
            }
        }
    }
    out
}

/// The dimensions of a cell, by name, for matching.
pub const DIMS: &[&str] =
    &["cells", "genes", "density", "graph", "obs", "oq", "emb", "quant", "codec", "panel", "target", "writer", "durable", "cold"];

fn dim(s: &Sample, d: &str) -> String {
    match d {
        "cells" => s.cells().to_string(),
        "genes" => s.genes().to_string(),
        "density" => format!("{}", s.density()),
        "graph" => s.graph_label(),
        "obs" => s.dataset.get("categorical_fields").map(|v| v.to_string()).unwrap_or_default()
            + &s.obs_fields().to_string(),
        "oq" => format!("{:?}", s.obs_quantization()),
        "emb" => s.embedding_dims().to_string(),
        "quant" => quant_label(s.var_quantization()),
        "codec" => s.codec().label(),
        "panel" => format!("{:?}", s.gene_panel()),
        "target" => s.target.clone(),
        "writer" => s.writer.clone(),
        "durable" => s.durable().to_string(),
        "cold" => s.cold().to_string(),
        _ => String::new(),
    }
}

/// The key of a cell over every dimension except `free`.
pub fn key(s: &Sample, free: &[&str]) -> String {
    DIMS.iter().filter(|d| !free.contains(d)).map(|d| dim(s, d)).collect::<Vec<_>>().join("|")
}

/// Pairs `(num, den)` of cells equal in every dimension but `free`, where `num`
/// satisfies `is_num` and `den` satisfies `is_den`.
pub fn pairs<'c, 'a>(
    cells: &'c [CellRuns<'a>],
    free: &[&str],
    is_num: impl Fn(&Sample) -> bool,
    is_den: impl Fn(&Sample) -> bool,
) -> Vec<(&'c CellRuns<'a>, &'c CellRuns<'a>)> {
    let mut out = Vec::new();
    for n in cells.iter().filter(|c| is_num(c.first())) {
        let k = key(n.first(), free);
        if let Some(d) = cells.iter().find(|c| is_den(c.first()) && key(c.first(), free) == k) {
            out.push((n, d));
        }
    }
    out
}

/// The context line of a table built from `cells`.
pub fn context(machine: &str, date: &str, cells: &[&CellRuns]) -> Context {
    if cells.is_empty() {
        return Context {
            machine: machine.into(),
            date: date.into(),
            runs: "none (not measured)".into(),
            spread: "–".into(),
            interval: String::new(),
            cells: 0,
        };
    }
    let ns: Vec<usize> = cells.iter().map(|c| c.n()).collect();
    let (mn, mx) = (ns.iter().min().copied().unwrap_or(0), ns.iter().max().copied().unwrap_or(0));
    let runs = if mn == mx {
        format!("{mn} timed runs per cell, {} cells", cells.len())
    } else {
        format!("{mn}–{mx} timed runs per cell, {} cells", cells.len())
    };
    let spreads: Vec<f64> = cells.iter().filter_map(|c| stats::rel_spread(&c.wall())).collect();
    let spread = match (stats::median(&spreads), spreads.iter().copied().fold(None, |a: Option<f64>, b| Some(a.map_or(b, |a| a.max(b))))) {
        (Some(m), Some(w)) => format!("wall time (max−min)/median per cell: median {:.1} %, worst {:.1} %", m * 100.0, w * 100.0),
        _ => "–".into(),
    };
    let walls: Vec<Vec<f64>> = cells.iter().map(|c| c.wall()).collect();
    Context { machine: machine.into(), date: date.into(), runs, spread, interval: interval_line(&walls), cells: cells.len() }
}

/// How well each cell's median is known: the relative half-width of its 95 % interval
/// (`stats::relative_half_width`), summarised over the cells, and how many are within
/// ±5 % (the precision the `guide` plan's adaptive repeats aim for).
pub fn interval_line(walls: &[Vec<f64>]) -> String {
    let widths: Vec<f64> = walls.iter().filter_map(|w| stats::relative_half_width(w)).collect();
    let short = walls.len() - widths.len();
    let few = if short > 0 { format!("; {short} cell(s) with fewer than {} runs have no 95 % interval", stats::MIN_VALUES_FOR_95) } else { String::new() };
    let Some(median) = stats::median(&widths) else {
        return format!("no cell has the {} runs a 95 % interval of its median needs (see the spread)", stats::MIN_VALUES_FOR_95);
    };
    let worst = widths.iter().copied().fold(0.0, f64::max);
    let within = widths.iter().filter(|&&w| w <= 0.05).count();
    format!(
        "95 % interval of each cell's median: median ±{:.1} %, worst ±{:.1} %; {within} of {} cells within ±5 %{few}",
        median * 100.0,
        worst * 100.0,
        widths.len()
    )
}
