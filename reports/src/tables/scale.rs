//! Table 6, *Recommended settings by dataset scale*, rebuilt from measurements: the
//! `recommend` model fitted on the stored results of local disk (tmpfs when the results
//! have no disk cells), evaluated at each guide tier for a 20,000-gene dataset, under the
//! stated budgets.

use super::Input;
use crate::model::Codec;
use crate::recommend::{recommend, Model, Observation, Setting};
use crate::report::{fmt_num, Cell, Table};

/// Genes of the dataset the tiers are evaluated for (a typical full transcriptome).
pub const TIER_GENES: u64 = 20_000;

/// The guide's tiers: (name, its advice, the cell counts evaluated).
pub const TIERS: &[(&str, &str, u64)] = &[
    ("≤ 50k cells", "exporting many genes may be OK; still prefer var_quantization=8", 50_000),
    ("50k–200k cells", "export a gene panel; use quantization; consider gzip", 200_000),
    ("> 200k cells", "strongly prefer gene panels; full gene export can become impractical", 500_000),
    ("> 200k cells", "strongly prefer gene panels; full gene export can become impractical", 1_000_000),
];

/// The model fitted on stored results, and the target it was fitted on.
pub fn fitted(input: &Input) -> (Model, String) {
    for target in ["disk", "tmpfs"] {
        let obs: Vec<Observation> = input
            .writer_cells()
            .iter()
            .filter(|c| c.first().target == target)
            .flat_map(|c| c.runs.iter().filter_map(|s| Observation::from_run(s)))
            .collect();
        let m = Model::fit(&obs);
        if !m.settings.is_empty() {
            return (m, target.to_string());
        }
    }
    (Model::default(), String::new())
}

pub fn table(input: &Input) -> Table {
    let (model, target) = fitted(input);
    let budget = input.budget;
    let q8gz6 = Setting { var_quantization: Some(8), codec: Codec::Gzip(6) };
    let mut rows = Vec::new();
    for (tier, advice, cells) in TIERS {
        let mut row = vec![Cell::text(*tier), Cell::text(*advice), Cell::int(*cells)];
        if model.settings.is_empty() {
            row.extend((0..5).map(|_| Cell::missing("not measured")));
            rows.push(row);
            continue;
        }
        let r = recommend(&model, *cells, TIER_GENES, budget);
        match &r.best {
            Some(b) => {
                row.push(Cell::text(format!(
                    "{}{}",
                    b.setting,
                    if b.all_genes { ", all genes".to_string() } else { format!(", panel of {}", b.genes_exported) }
                )));
                row.push(Cell::num(b.prediction.time_s));
                row.push(Cell::num(b.prediction.bytes / 1e9));
            }
            None => row.extend((0..3).map(|_| Cell::missing("nothing fits"))),
        }
        match model.get(q8gz6) {
            Some(m) => {
                let p = m.predict(*cells as f64, TIER_GENES as f64);
                let fits = p.time_s <= budget.time_s && p.bytes <= budget.disk_bytes;
                row.push(Cell::text(format!(
                    "{} s, {} GB, {} files: {}",
                    fmt_num(p.time_s),
                    fmt_num(p.bytes / 1e9),
                    fmt_num(p.files),
                    if fits { "fits" } else { "over budget" }
                )));
            }
            None => row.push(Cell::missing("q8 gz6 not measured")),
        }
        rows.push(row);
    }
    let mine = input.writer_cells();
    let used: Vec<_> = mine.iter().filter(|c| c.first().target == target && Observation::from_run(c.first()).is_some()).collect();
    Table {
        id: "scale".into(),
        title: "6. Recommended settings by dataset scale (measured)".into(),
        guide: "≤ 50k: many genes may be OK, prefer var_quantization=8; 50k–200k: gene panel, quantization, consider gzip; > 200k: strongly prefer panels, full export can become impractical.".into(),
        context: input.context(&used),
        columns: ["guide tier", "guide's advice", "cells", "best within budget (20,000 genes)", "predicted time s", "predicted disk GB", "all 20,000 genes at q8 gz6"]
            .map(String::from)
            .to_vec(),
        rows,
        notes: vec![format!(
            "Budget: export ≤ {} s and ≤ {} GB on {} of this machine. Predictions extrapolate the `recommend` model (time ≈ a + b·cells·genes + c·genes + d·cells, bytes ≈ e + f·cells·genes + h·cells per setting) fitted on the stored runs; the best choice exports the most genes that fit, then uses the least of the two budgets. Run `cellucid-bench recommend` for a dataset's own numbers.",
            fmt_num(budget.time_s),
            fmt_num(budget.disk_bytes / 1e9),
            if target.is_empty() { "the target".to_string() } else { target }
        )],
    }
}
