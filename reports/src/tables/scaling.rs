//! Table 1, *What scales with what*: fitted exponents of time and bytes per export part
//! against cells, genes, fields, dimensions and edges, beside the guide's O(…) claims.
//!
//! Each fit pools every group of cells that differ only in the variable studied (each
//! group its own intercept, one common slope), so a factorial sweep gives several
//! independent estimates of the same exponent. Per-phase times and bytes come from the
//! exporter's own phase report.

use super::Input;
use crate::cells::{key, CellRuns};
use crate::model::Sample;
use crate::report::{Cell, Table};
use crate::stats::{power_fit, PowerFit};

/// One fit of the table: which part, which quantity, against what.
pub struct Spec {
    pub part: &'static str,
    pub phase: &'static str,
    pub bytes: bool,
    pub against: &'static str,
    /// Dimensions allowed to vary inside a group.
    pub free: &'static [&'static str],
    pub x: fn(&Sample) -> f64,
    pub guide: &'static str,
    pub guide_exponent: Option<f64>,
}

fn cells_x(s: &Sample) -> f64 {
    s.cells() as f64
}
fn genes_x(s: &Sample) -> f64 {
    s.genes_exported() as f64
}
fn fields_x(s: &Sample) -> f64 {
    s.obs_fields() as f64
}
fn dims_x(s: &Sample) -> f64 {
    s.embedding_dims() as f64
}
fn edges_x(s: &Sample) -> f64 {
    s.edges_per_cell() * s.cells() as f64
}

pub const SPECS: &[Spec] = &[
    Spec { part: "embeddings", phase: "embeddings", bytes: false, against: "cells", free: &["cells"], x: cells_x, guide: "O(n_cells·dim)", guide_exponent: Some(1.0) },
    Spec { part: "embeddings", phase: "embeddings", bytes: true, against: "cells", free: &["cells"], x: cells_x, guide: "O(n_cells·dim)", guide_exponent: Some(1.0) },
    Spec { part: "embeddings", phase: "embeddings", bytes: true, against: "dimensions", free: &["emb"], x: dims_x, guide: "O(n_cells·dim)", guide_exponent: Some(1.0) },
    Spec { part: "obs", phase: "obs", bytes: false, against: "cells", free: &["cells"], x: cells_x, guide: "O(n_cells·n_obs_fields)", guide_exponent: Some(1.0) },
    Spec { part: "obs", phase: "obs", bytes: false, against: "fields", free: &["obs"], x: fields_x, guide: "O(n_cells·n_obs_fields)", guide_exponent: Some(1.0) },
    Spec { part: "obs", phase: "obs", bytes: true, against: "fields", free: &["obs"], x: fields_x, guide: "O(n_cells·n_obs_fields)", guide_exponent: Some(1.0) },
    Spec { part: "genes", phase: "genes", bytes: false, against: "cells", free: &["cells"], x: cells_x, guide: "O(n_cells·n_exported_genes)", guide_exponent: Some(1.0) },
    Spec { part: "genes", phase: "genes", bytes: false, against: "exported genes", free: &["genes", "panel"], x: genes_x, guide: "O(n_cells·n_exported_genes)", guide_exponent: Some(1.0) },
    Spec { part: "genes", phase: "genes", bytes: true, against: "cells", free: &["cells"], x: cells_x, guide: "n_cells·n_exported_genes·bytes_per_value", guide_exponent: Some(1.0) },
    Spec { part: "genes", phase: "genes", bytes: true, against: "exported genes", free: &["genes", "panel"], x: genes_x, guide: "n_cells·n_exported_genes·bytes_per_value", guide_exponent: Some(1.0) },
    Spec { part: "connectivities", phase: "graph", bytes: false, against: "edges", free: &["graph"], x: edges_x, guide: "depends on graph density; dense graphs explode", guide_exponent: None },
    Spec { part: "connectivities", phase: "graph", bytes: true, against: "edges", free: &["graph"], x: edges_x, guide: "depends on graph density; dense graphs explode", guide_exponent: None },
    // The whole export (no phase): the only fits for a writer that reports no phases.
    Spec { part: "whole export", phase: WHOLE, bytes: false, against: "cells", free: &["cells"], x: cells_x, guide: WHOLE_GUIDE, guide_exponent: Some(1.0) },
    Spec { part: "whole export", phase: WHOLE, bytes: false, against: "exported genes", free: &["genes", "panel"], x: genes_x, guide: WHOLE_GUIDE, guide_exponent: Some(1.0) },
    Spec { part: "whole export", phase: WHOLE, bytes: true, against: "exported genes", free: &["genes", "panel"], x: genes_x, guide: WHOLE_GUIDE, guide_exponent: Some(1.0) },
];

/// The phase name of the whole-export specs (the run's wall time and folder bytes).
pub const WHOLE: &str = "";
const WHOLE_GUIDE: &str = "genes dominate: ≈ O(n_cells·n_exported_genes)";

/// Whether any of the cells' runs reported phases (some writers do not).
pub fn has_phases(cells: &[CellRuns]) -> bool {
    cells.iter().any(|c| c.first().phases.is_some())
}

/// The spec's y for one run.
fn y(r: &Sample, spec: &Spec) -> f64 {
    if spec.phase == WHOLE {
        return if spec.bytes { r.bytes_apparent as f64 } else { r.wall_s };
    }
    r.phase(spec.phase).map_or(f64::NAN, |p| if spec.bytes { p.bytes as f64 } else { p.wall })
}

/// The fit of one spec over our cells (buffered, warm, with enough runs).
pub fn fit(cells: &[CellRuns], spec: &Spec) -> Option<PowerFit> {
    let mut groups: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for c in cells.iter().filter(|c| c.enough()) {
        let s = c.first();
        if spec.phase != WHOLE && s.phase(spec.phase).is_none() {
            continue;
        }
        let y = c.median(|r| y(r, spec));
        let k = key(s, spec.free);
        match groups.iter_mut().find(|(gk, _)| *gk == k) {
            Some((_, v)) => v.push(((spec.x)(s), y)),
            None => groups.push((k, vec![((spec.x)(s), y)])),
        }
    }
    let groups: Vec<Vec<(f64, f64)>> = groups.into_iter().map(|(_, v)| v).collect();
    power_fit(&groups)
}

pub fn table(input: &Input) -> Table {
    let cells = input.plain();
    let mut rows = Vec::new();
    for spec in SPECS {
        let f = fit(&cells, spec);
        let claim = match spec.guide_exponent {
            Some(e) => format!("{} → exponent {e}", spec.guide),
            None => spec.guide.to_string(),
        };
        let mut row = vec![
            Cell::text(spec.part),
            Cell::text(if spec.bytes { "bytes" } else { "time" }),
            Cell::text(spec.against),
            Cell::text(claim),
        ];
        match f {
            Some(f) => {
                row.push(Cell::with_interval(f.exponent, f.interval));
                row.push(Cell::num(f.r2));
                row.push(Cell::text(format!("{} / {}", f.points, f.groups)));
            }
            None => {
                row.push(Cell::missing("not measured (needs ≥ 2 levels)"));
                row.push(Cell::missing("–"));
                row.push(Cell::missing("0"));
            }
        }
        rows.push(row);
    }
    let used: Vec<&CellRuns> = cells.iter().filter(|c| c.enough()).collect();
    Table {
        id: "scaling".into(),
        title: "1. What scales with what: fitted exponents".into(),
        guide: "Embeddings O(n_cells·dim), obs O(n_cells·n_obs_fields), genes O(n_cells·n_exported_genes), connectivities depend on graph density.".into(),
        context: input.context(&used),
        columns: ["part", "quantity", "against", "guide", "exponent [95 % CI]", "R²", "points / groups"].map(String::from).to_vec(),
        rows,
        notes: vec![
            "Exponent of a log-log least-squares fit of the phase's median time (or bytes) against the variable, pooled over groups of cells equal in everything else. An exponent of 1 means linear. Very short phases (well under 1 ms) are dominated by fixed costs, so their time exponents are below 1.".into(),
            "Cells with fewer than 3 runs are left out. No interval is printed when a fit has no residual degrees of freedom. Per-part rows need the writer's phase report; the whole-export rows (the run's wall time, the folder's bytes) exist for every writer.".into(),
        ],
    }
}
