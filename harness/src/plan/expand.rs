//! Blocks → cells (the factorial product), and the checks of a whole plan.

use super::axis::{check_writer_name, graph_text, Settings, ZSTD_LEVELS};
use super::{Axes, Block, Cell, Codec, Mode, Plan, PlanError};
use std::collections::HashSet;

/// Every cell of the plan in order, impossible combinations skipped, duplicates once.
pub(super) fn cells(plan: &Plan) -> Vec<Cell> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for block in &plan.blocks {
        for cell in block_cells(plan, block) {
            if impossible(&cell).is_none() && seen.insert(cell.id()) {
                out.push(cell);
            }
        }
    }
    out
}

/// Why a combination cannot be measured, as (axis, reason).
fn impossible(cell: &Cell) -> Option<(&'static str, String)> {
    if let Some(p) = cell.settings.gene_panel {
        if p > cell.dataset.genes {
            return Some(("gene_panel", format!("a panel of {p} genes is larger than the dataset's {} genes", cell.dataset.genes)));
        }
    }
    // What a writer cannot express is not decided here: the plan does not know the
    // writers. The sweep's sizing drops such cells with the reason (`sweep::scheduler`).
    None
}

/// The factorial product of one block, nothing skipped.
fn block_cells(plan: &Plan, block: &Block) -> Vec<Cell> {
    let a = &block.axes;
    let mut out = Vec::with_capacity(a.combinations());
    for &cells in &a.cells {
        for &genes in &a.genes {
            for &density in &a.density {
                for graph in &a.graph {
                    for &vq in &a.var_quantization {
                        for &oq in &a.obs_continuous_quantization {
                            for &compression in &a.compression {
                                for &gene_panel in &a.gene_panel {
                                    for obs in &a.obs_fields {
                                        for target in &a.target {
                                            for writer in &a.writer {
                                                for &durability in &a.durability {
                                                    for &cold_cache in &a.cold_cache {
                                                        let mut dataset = plan.dataset.clone();
                                                        dataset.cells = cells;
                                                        dataset.genes = genes;
                                                        dataset.density = density;
                                                        dataset.graph = graph.clone();
                                                        dataset.continuous_fields.count = obs.continuous;
                                                        dataset.categorical_fields = obs.categorical.clone();
                                                        // The first categorical field is the cluster labels.
                                                        if let Some(&k) = obs.categorical.first() {
                                                            dataset.clusters = k;
                                                        }
                                                        out.push(Cell {
                                                            dataset,
                                                            settings: Settings {
                                                                var_quantization: vq,
                                                                obs_continuous_quantization: oq,
                                                                compression,
                                                                gene_panel,
                                                            },
                                                            target: target.clone(),
                                                            writer: writer.clone(),
                                                            durability,
                                                            cold_cache,
                                                            memory_limit: block.memory_limit,
                                                            block: block.name.clone(),
                                                        });
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

fn bad(axis: &str, value: impl ToString, reason: impl Into<String>, block: &Block) -> PlanError {
    PlanError::invalid(axis, Some(value.to_string()), format!("{} (in block {:?})", reason.into(), block.name))
}

fn no_repeats<T: PartialEq + std::fmt::Debug>(axis: &str, values: &[T], block: &Block) -> Result<(), PlanError> {
    for (i, v) in values.iter().enumerate() {
        if values[..i].contains(v) {
            return Err(bad(axis, format!("{v:?}"), "is listed twice", block));
        }
    }
    Ok(())
}

fn check_axes(a: &Axes, block: &Block) -> Result<(), PlanError> {
    for &c in &a.cells {
        if c == 0 {
            return Err(bad("cells", c, "must be at least 1", block));
        }
    }
    for &g in &a.genes {
        if g == 0 {
            return Err(bad("genes", g, "must be at least 1", block));
        }
    }
    for &d in &a.density {
        if !(d > 0.0 && d < 1.0) {
            return Err(bad("density", d, "must be strictly between 0 and 1", block));
        }
    }
    for (axis, values) in [("var_quantization", &a.var_quantization), ("obs_continuous_quantization", &a.obs_continuous_quantization)] {
        for &q in values.iter().flatten() {
            if q != 8 && q != 16 {
                return Err(bad(axis, q, "must be \"none\", 8 or 16", block));
            }
        }
    }
    for &c in &a.compression {
        if let Err(reason) = c.check() {
            let reason = match c {
                Codec::Zstd(_) => format!("zstd level must be in {}..{}", ZSTD_LEVELS.start(), ZSTD_LEVELS.end()),
                _ => reason,
            };
            return Err(bad("compression", c, reason, block));
        }
    }
    for &p in a.gene_panel.iter().flatten() {
        if p == 0 {
            return Err(bad("gene_panel", p, "must be \"all\" or at least 1 gene", block));
        }
    }
    for t in &a.target {
        if t.is_empty() || t.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("target", format!("{t:?}"), "must be a non-empty target name without spaces", block));
        }
    }
    no_repeats("cells", &a.cells, block)?;
    no_repeats("genes", &a.genes, block)?;
    no_repeats("density", &a.density, block)?;
    no_repeats("graph", &a.graph.iter().map(graph_text).collect::<Vec<_>>(), block)?;
    no_repeats("var_quantization", &a.var_quantization, block)?;
    no_repeats("obs_continuous_quantization", &a.obs_continuous_quantization, block)?;
    no_repeats("compression", &a.compression, block)?;
    no_repeats("gene_panel", &a.gene_panel, block)?;
    no_repeats("obs_fields", &a.obs_fields, block)?;
    no_repeats("target", &a.target, block)?;
    for w in &a.writer {
        check_writer_name(w).map_err(|reason| bad("writer", format!("{w:?}"), reason, block))?;
    }
    no_repeats("writer", &a.writer, block)?;
    no_repeats("durability", &a.durability, block)?;
    no_repeats("cold_cache", &a.cold_cache, block)?;
    Ok(())
}

/// Maps a synthetic-spec field back to the axis that sets it.
fn axis_of_spec_field(field: &str) -> &'static str {
    match field {
        "cells" => "cells",
        "genes" => "genes",
        "density" => "density",
        f if f.starts_with("graph") => "graph",
        f if f.starts_with("categorical_fields") || f.starts_with("continuous_fields") || f == "clusters" => "obs_fields",
        _ => "dataset",
    }
}

pub(super) fn validate(plan: &Plan) -> Result<(), PlanError> {
    if plan.name.is_empty() || !plan.name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
        return Err(PlanError::invalid(
            "name",
            Some(format!("{:?}", plan.name)),
            "must be non-empty and use only letters, digits, '.', '_' and '-' (it names result files)",
        ));
    }
    if plan.repeats == 0 {
        return Err(PlanError::invalid("repeats", Some("0".into()), "must be at least 1"));
    }
    if plan.blocks.is_empty() {
        return Err(PlanError::invalid("block", None, "the plan has no cells"));
    }
    let mut names = HashSet::new();
    for block in &plan.blocks {
        if !names.insert(block.name.as_str()) {
            return Err(PlanError::invalid("name", Some(format!("{:?}", block.name)), "two blocks have this name"));
        }
        check_axes(&block.axes, block)?;
        if plan.mode == Mode::List {
            let a = &block.axes;
            let lens = [
                ("cells", a.cells.len()),
                ("genes", a.genes.len()),
                ("density", a.density.len()),
                ("graph", a.graph.len()),
                ("var_quantization", a.var_quantization.len()),
                ("obs_continuous_quantization", a.obs_continuous_quantization.len()),
                ("compression", a.compression.len()),
                ("gene_panel", a.gene_panel.len()),
                ("obs_fields", a.obs_fields.len()),
                ("target", a.target.len()),
                ("writer", a.writer.len()),
                ("durability", a.durability.len()),
                ("cold_cache", a.cold_cache.len()),
            ];
            if let Some((axis, n)) = lens.iter().find(|(_, n)| *n != 1) {
                return Err(bad(axis, n, "values: a [[cell]] of a list-mode plan has exactly one value per axis", block));
            }
        }
        let all = block_cells(plan, block);
        let mut possible = 0usize;
        let mut first_reason = None;
        for cell in &all {
            if let Err(e) = cell.dataset.validate() {
                let field = e.field().unwrap_or("dataset");
                return Err(bad(axis_of_spec_field(field), cell.label(), e.to_string(), block));
            }
            match impossible(cell) {
                None => possible += 1,
                Some(r) => {
                    if first_reason.is_none() {
                        first_reason = Some((r, cell.label()));
                    }
                }
            }
        }
        if possible == 0 {
            let ((axis, reason), label) = first_reason.unwrap_or((("block", "it has no cells".into()), String::new()));
            return Err(bad(axis, label, format!("no combination of this block can run: {reason}"), block));
        }
    }
    Ok(())
}
