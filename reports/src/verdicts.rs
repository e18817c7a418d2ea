//! Every rule of thumb of the guide, with an id, and a verdict on this machine with the
//! numbers behind it. Verdicts read the same cells as the tables, through the tables'
//! own helpers, so a verdict and its table never disagree.
//!
//! Verdicts are per writer ([`matrix`]): each writer's rules are judged on that writer's
//! own runs only ([`verdicts`] on an [`Input::only`]), never on a fit that mixes writers.
//! A writer that reports no phases has its part rules derived from whole runs instead
//! (`phaseless`: bytes from identical folders of a writer with phases, times from
//! differences between matched cells), and the evidence says so.
//! The rules about situations rather than speed (cloud sync, file-count limits, stale
//! exports) are judged from the writer's scenario records ([`crate::scenarios`]).

use crate::model::Codec;
use crate::recommend::{recommend, Setting};
use crate::report::{fmt_num, MIN_RUNS};
use crate::scenarios;
use crate::stats::Interval;
use crate::tables::{levers, quantization, scale, scaling, Input};
use serde::Serialize;

mod phaseless;
mod server_workflow;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Holds,
    Partly,
    DoesNotHold,
    NotMeasured,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Holds => "holds",
            Outcome::Partly => "partly",
            Outcome::DoesNotHold => "does not hold",
            Outcome::NotMeasured => "not measured",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verdict {
    pub id: String,
    /// The rule as the guide says it.
    pub rule: String,
    pub outcome: Outcome,
    /// The numbers behind the verdict.
    pub evidence: String,
}

/// One rule's verdict for one writer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Judgement {
    pub writer: String,
    pub outcome: Outcome,
    pub evidence: String,
}

/// One rule, judged for every writer (in the report's writer order).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VerdictRow {
    pub id: String,
    pub rule: String,
    pub by_writer: Vec<Judgement>,
}

/// The rule × writer matrix over the input's writers.
pub fn matrix(input: &Input) -> Vec<VerdictRow> {
    let mut rows: Vec<VerdictRow> = Vec::new();
    for w in &input.writers {
        let one = input.only(w);
        let plain = one.plain();
        let phaseless = !plain.is_empty() && !scaling::has_phases(&plain);
        // server-workflow compares kinds of output, so it reads every writer's cells.
        for v in verdicts(&one).into_iter().chain([server_workflow::verdict(input, w)]) {
            // A part rule a writer without phase reports could not be judged on, derived
            // from its whole runs instead (and from the bytes of identical folders).
            let v = match v.outcome {
                Outcome::NotMeasured if phaseless => phaseless::verdict(input, &plain, &v.id).unwrap_or(v),
                _ => v,
            };
            let j = Judgement { writer: w.clone(), outcome: v.outcome, evidence: explain(&one, &v.id, v.outcome, v.evidence) };
            match rows.iter_mut().find(|r| r.id == v.id) {
                Some(r) => r.by_writer.push(j),
                None => rows.push(VerdictRow { id: v.id, rule: v.rule, by_writer: vec![j] }),
            }
        }
    }
    rows
}

/// A "not measured" says why for this writer: no runs at all (all skipped for the
/// budget, or none in the results), or too few runs per cell. A rule judged by a
/// scenario already says why (its records are not sweep runs).
fn explain(input: &Input, id: &str, outcome: Outcome, evidence: String) -> String {
    if outcome != Outcome::NotMeasured || scenarios::is_scenario_rule(id) {
        return evidence;
    }
    let w = input.writer();
    let skipped = input.skipped.len();
    if input.cells.is_empty() {
        return match skipped {
            0 => format!("no runs of {w} in the results"),
            n => format!("no measured runs of {w}: {n} cell(s) skipped over its budget (predictions only)"),
        };
    }
    if !input.cells.iter().any(|c| c.enough()) {
        let most = input.cells.iter().map(|c| c.n()).max().unwrap_or(0);
        return format!("{evidence} ({w}: too few runs, at most {most} per cell; {MIN_RUNS} needed)");
    }
    evidence
}

fn v(id: &str, rule: &str, outcome: Outcome, evidence: String) -> Verdict {
    Verdict { id: id.into(), rule: rule.into(), outcome, evidence }
}

fn ci(r: (f64, Interval)) -> String {
    format!("{} [{}–{}]", fmt_num(r.0), fmt_num(r.1.lo), fmt_num(r.1.hi))
}

/// Linear within tolerance: holds if the CI (or the value, without CI) is within
/// [0.85, 1.15]; partly within [0.6, 1.4].
fn linear(id: &str, rule: &str, fit: Option<crate::stats::PowerFit>, what: &str) -> Verdict {
    match fit {
        None => v(id, rule, Outcome::NotMeasured, format!("{what}: needs at least two levels, each with {MIN_RUNS} runs")),
        Some(f) => {
            let e = f.exponent;
            let o = if (0.85..=1.15).contains(&e) {
                Outcome::Holds
            } else if (0.6..=1.4).contains(&e) {
                Outcome::Partly
            } else {
                Outcome::DoesNotHold
            };
            let i = f.interval.map_or(String::new(), |i| format!(" [{}–{}]", fmt_num(i.lo), fmt_num(i.hi)));
            v(id, rule, o, format!("{what}: exponent {}{i}, R² {}, {} points", fmt_num(e), fmt_num(f.r2), f.points))
        }
    }
}

const NO_PHASES: &str = "no phase reports (this writer does not report per-part times and bytes)";

/// [`linear`] on a per-part fit; for a writer without phase reports, not measured for
/// that reason (not for want of levels).
fn part_linear(id: &str, rule: &str, cells: &[crate::cells::CellRuns], s: &scaling::Spec, what: &str) -> Verdict {
    if !cells.is_empty() && !scaling::has_phases(cells) {
        return v(id, rule, Outcome::NotMeasured, NO_PHASES.into());
    }
    linear(id, rule, scaling::fit(cells, s), what)
}

/// An explosion is a cost clearly superlinear in edges: the whole interval above 1.2.
/// Superlinear but not by that much is "partly".
fn explosion(f: &crate::stats::PowerFit) -> Outcome {
    match f.interval.map_or(f.exponent, |i| i.lo) {
        lo if lo > 1.2 => Outcome::Holds,
        lo if lo > 1.0 => Outcome::Partly,
        _ => Outcome::DoesNotHold,
    }
}

/// Files beside the gene files that still count as "one file per gene": the manifests,
/// obs and embedding files of a folder (26 at most in the guide's sweep).
const FEW_FILES: i64 = 64;

/// The part the gene rules are judged on: the gene phase, or for a writer that reports
/// no phases, the whole export (an all-gene export is mostly genes), named as such.
fn gene_part(cells: &[crate::cells::CellRuns]) -> (&'static str, &'static str) {
    if scaling::has_phases(cells) || cells.is_empty() {
        ("genes", "gene")
    } else {
        ("whole export", "whole-export (no phase report)")
    }
}

fn spec(part: &str, bytes: bool, against: &str) -> &'static scaling::Spec {
    scaling::SPECS.iter().find(|s| s.part == part && s.bytes == bytes && s.against == against).unwrap_or(&scaling::SPECS[0])
}

/// Bytes per value of plain gene payloads against the nominal width, from the gene
/// phase's bytes of `cells`.
fn bytes_per_value(cells: &[crate::cells::CellRuns]) -> Verdict {
    let rule = "Disk per value is the value's width (4 bytes float32, 1 byte at 8 bits) without compression.";
    match (crate::tables::genes::bpv_summary(cells, None, Codec::None), crate::tables::genes::bpv_summary(cells, Some(8), Codec::None)) {
        (Some(f), Some(q)) => {
            let ok = (f.0 / 4.0 - 1.0).abs() < 0.02 && (q.0 - 1.0).abs() < 0.02;
            v("bytes-per-value", rule, if ok { Outcome::Holds } else { Outcome::Partly }, format!("f32 {} and q8 {} bytes per value (plain)", fmt_num(f.0), fmt_num(q.0)))
        }
        _ => v("bytes-per-value", rule, Outcome::NotMeasured, "needs plain f32 and q8 cells".into()),
    }
}

/// Every rule for [`Input::writer`], from its cells only.
pub fn verdicts(input: &Input) -> Vec<Verdict> {
    let cells = input.plain();
    let mut out = Vec::new();

    // --- What scales with what ---
    let emb_share: Vec<f64> = cells
        .iter()
        .filter(|c| c.enough())
        .filter_map(|c| {
            let e = c.median(|s| s.phase("embeddings").map_or(f64::NAN, |p| p.wall));
            let eb = c.median(|s| s.phase("embeddings").map_or(f64::NAN, |p| p.bytes as f64));
            let total = c.median(|s| s.wall_s);
            let bytes = c.median(|s| s.bytes_apparent as f64);
            (e.is_finite() && eb.is_finite()).then_some((e / total).max(eb / bytes))
        })
        .collect();
    out.push(match emb_share.iter().copied().fold(None, |a: Option<f64>, b| Some(a.map_or(b, |a| a.max(b)))) {
        None => v("embeddings-cheap", "Embeddings are cheap; their disk size is tiny compared to gene expression.", Outcome::NotMeasured, NO_PHASES.into()),
        Some(m) => v(
            "embeddings-cheap",
            "Embeddings are cheap; their disk size is tiny compared to gene expression.",
            if m < 0.05 { Outcome::Holds } else if m < 0.2 { Outcome::Partly } else { Outcome::DoesNotHold },
            format!("embeddings take at most {} % of an export's time or bytes over {} cells", fmt_num(m * 100.0), emb_share.len()),
        ),
    });
    out.push(part_linear("obs-linear-cells", "Obs work scales as O(n_cells · n_obs_fields): linear in cells.", &cells, spec("obs", false, "cells"), "obs time vs cells"));
    out.push(part_linear("obs-linear-fields", "Obs work scales as O(n_cells · n_obs_fields): linear in fields.", &cells, spec("obs", false, "fields"), "obs time vs fields"));
    let (genes_part, genes_what) = gene_part(&cells);
    out.push(linear("genes-time-linear-cells", "Gene expression time is roughly O(n_cells · n_exported_genes): linear in cells.", scaling::fit(&cells, spec(genes_part, false, "cells")), &format!("{genes_what} time vs cells")));
    out.push(linear("genes-time-linear-genes", "Gene expression time is roughly O(n_cells · n_exported_genes): linear in exported genes.", scaling::fit(&cells, spec(genes_part, false, "exported genes")), &format!("{genes_what} time vs exported genes")));
    out.push(linear("genes-disk-linear", "Disk is roughly n_cells · n_exported_genes · bytes_per_value.", scaling::fit(&cells, spec(genes_part, true, "exported genes")), &format!("{genes_what} bytes vs exported genes")));

    out.push(bytes_per_value(&cells));

    // files = exported genes
    let rule = "File count: n_exported_genes files (one per gene in var/).";
    let diffs: Vec<i64> = cells
        .iter()
        .filter_map(|c| c.first().phase("genes").map(|p| p.files as i64 - c.first().genes_exported() as i64))
        .collect();
    if diffs.is_empty() && !cells.is_empty() {
        // A writer without a phase report: the whole folder's files against the genes.
        let extra: Vec<i64> = cells.iter().map(|c| c.first().files as i64 - c.first().genes_exported() as i64).collect();
        let (mn, mx) = (extra.iter().min().copied().unwrap_or(0), extra.iter().max().copied().unwrap_or(0));
        out.push(v(
            "files-equal-genes",
            rule,
            if mn >= 0 && mx <= FEW_FILES { Outcome::Holds } else { Outcome::Partly },
            format!("the whole folder has {mn}…{mx} files more than exported genes over {} cells (no phase report: the gene files are not counted apart)", extra.len()),
        ));
    } else if diffs.is_empty() {
        out.push(v("files-equal-genes", rule, Outcome::NotMeasured, "no cells".into()));
    } else {
        let (mn, mx) = (diffs.iter().min().copied().unwrap_or(0), diffs.iter().max().copied().unwrap_or(0));
        let total_extra: Vec<i64> = cells.iter().map(|c| c.first().files as i64 - c.first().genes_exported() as i64).collect();
        out.push(v(
            "files-equal-genes",
            rule,
            if mx <= 1 && mn >= 0 { Outcome::Holds } else { Outcome::Partly },
            format!(
                "gene files − exported genes = {mn}…{mx} (the var manifest) over {} cells; the whole folder has {}…{} files more than genes",
                diffs.len(),
                total_extra.iter().min().copied().unwrap_or(0),
                total_extra.iter().max().copied().unwrap_or(0)
            ),
        ));
    }

    // connectivities
    let graph_cells = cells.iter().filter(|c| c.first().edges_per_cell() > 0.0).count();
    let fit = scaling::fit(&cells, spec("connectivities", false, "edges"));
    out.push(match fit {
        Some(f) => v(
            "dense-graphs-explode",
            "Connectivity cost depends on graph density; sparse graphs export fine, dense graphs explode.",
            explosion(&f),
            format!(
                "graph time grows with edges^{}{} over {} points (an explosion needs an exponent well above 1)",
                fmt_num(f.exponent),
                f.interval.map_or(String::new(), |i| format!(" [{}–{}]", fmt_num(i.lo), fmt_num(i.hi))),
                f.points
            ),
        ),
        None => v(
            "dense-graphs-explode",
            "Connectivity cost depends on graph density; sparse graphs export fine, dense graphs explode.",
            Outcome::NotMeasured,
            format!("{graph_cells} graph densities measured; at least two are needed"),
        ),
    });

    // --- levers ---
    let eff: Vec<(levers::LeverEffect, &levers::Lever)> = levers::LEVERS.iter().map(|l| (levers::effect(&cells, l), l)).collect();
    let get = |id: &str| eff.iter().find(|(_, l)| l.id == id).map(|(e, _)| e);
    let rule = "Export fewer genes: the best lever.";
    match (get("panel"), get("q8"), get("gz6")) {
        (Some(p), Some(q), Some(g)) if p.time.is_some() => {
            let pt = p.time.map_or(f64::NAN, |r| r.0);
            let pb = p.bytes.map_or(f64::NAN, |r| r.0);
            let others_t = [q.time, g.time].iter().flatten().map(|r| r.0).fold(f64::INFINITY, f64::min);
            let others_b = [q.bytes, g.bytes].iter().flatten().map(|r| r.0).fold(f64::INFINITY, f64::min);
            let o = match (pt < others_t, pb < others_b) {
                (true, true) => Outcome::Holds,
                (false, false) => Outcome::DoesNotHold,
                _ => Outcome::Partly,
            };
            out.push(v("panel-best-lever", rule, o, format!(
                "panel: time ×{}, bytes ×{}, files ×{}; best other lever: time ×{}, bytes ×{} (ratios depend on the panel's share of genes)",
                fmt_num(pt), fmt_num(pb), p.files.map_or("–".into(), |r| fmt_num(r.0)), fmt_num(others_t), fmt_num(others_b))));
        }
        _ => out.push(v("panel-best-lever", rule, Outcome::NotMeasured, "needs panel, q8 and gzip cells".into())),
    }

    let rule = "var_quantization = 8 is usually a good default for visualization.";
    let fid = quantization::fidelity_gene(8);
    match get("q8") {
        Some(q) if q.bytes.is_some() => {
            let b = q.bytes.map_or(f64::NAN, |r| r.0);
            let t = q.time.map_or(f64::NAN, |r| r.0);
            let o = if b < 0.5 && t <= 1.1 && fid.rms_rel < 0.005 { Outcome::Holds } else if b < 0.5 { Outcome::Partly } else { Outcome::DoesNotHold };
            out.push(v("q8-good-default", rule, o, format!(
                "q8 vs f32: bytes ×{}, time ×{}; error max {} % / RMS {} % of range, {} % of cells change colour bin",
                q.bytes.map_or("–".into(), ci), q.time.map_or("–".into(), ci), fmt_num(fid.max_rel * 100.0), fmt_num(fid.rms_rel * 100.0), fmt_num(fid.bin_changed * 100.0))));
        }
        _ => out.push(v("q8-good-default", rule, Outcome::NotMeasured, format!("no matched q8/f32 cells (fidelity alone: RMS {} % of range)", fmt_num(fid.rms_rel * 100.0)))),
    }

    let rule = "obs_continuous_quantization = 8 for continuous metadata.";
    match get("oq8") {
        Some(q) if q.bytes.is_some() => {
            let b = q.bytes.map_or(f64::NAN, |r| r.0);
            let fo = quantization::fidelity_obs(8);
            out.push(v("obs-q8", rule, if b < 1.0 { Outcome::Holds } else { Outcome::DoesNotHold }, format!(
                "whole export bytes ×{} (obs are a small part of it), time ×{}; obs error RMS {} % of range",
                q.bytes.map_or("–".into(), ci), q.time.map_or("–".into(), ci), fmt_num(fo.rms_rel * 100.0))));
        }
        _ => out.push(v("obs-q8", rule, Outcome::NotMeasured, "no matched oq8 cells".into())),
    }

    let rule = "gzip reduces size but can increase CPU time.";
    match get("gz6") {
        Some(g) if g.bytes.is_some() && g.time.is_some() => {
            let (b, t) = (g.bytes.map_or(f64::NAN, |r| r.0), g.time.map_or(f64::NAN, |r| r.0));
            let o = if b < 1.0 && t > 1.0 { Outcome::Holds } else if b < 1.0 { Outcome::Partly } else { Outcome::DoesNotHold };
            out.push(v("gzip-smaller-slower", rule, o, format!("gzip 6 vs none: bytes ×{}, time ×{}", g.bytes.map_or("–".into(), ci), g.time.map_or("–".into(), ci))));
        }
        _ => out.push(v("gzip-smaller-slower", rule, Outcome::NotMeasured, "no matched gzip/plain cells".into())),
    }

    // --- compression levels: compared directly on cells measured at both levels ---
    let direct = |a: Codec, b: Codec| -> Option<(f64, f64, usize)> {
        let p = crate::cells::pairs(&cells, &["codec"], |s| s.codec() == a, |s| s.codec() == b);
        let good: Vec<_> = p.iter().filter(|(x, y)| x.enough() && y.enough()).collect();
        let t: Vec<(Vec<f64>, Vec<f64>)> = good.iter().map(|(x, y)| (x.wall(), y.wall())).collect();
        let b_: Vec<(Vec<f64>, Vec<f64>)> =
            good.iter().map(|(x, y)| (x.values(|s| s.bytes_apparent as f64), y.values(|s| s.bytes_apparent as f64))).collect();
        Some((crate::stats::ratio_of_medians(&t)?.0, crate::stats::ratio_of_medians(&b_)?.0, good.len()))
    };
    let rule1 = "compression = 1 for speed.";
    out.push(match direct(Codec::Gzip(1), Codec::Gzip(6)) {
        Some((t, s, n)) => v("gz1-for-speed", rule1, if t < 1.0 { Outcome::Holds } else { Outcome::DoesNotHold }, format!("gzip 1 vs gzip 6 on the same {n} cell(s): time ×{}, size ×{}", fmt_num(t), fmt_num(s))),
        None => v("gz1-for-speed", rule1, Outcome::NotMeasured, "needs gzip 1 and 6 on the same cells".into()),
    });
    let rule6 = "compression = 6 is a reasonable trade-off (often a good default).";
    out.push(match (direct(Codec::Gzip(6), Codec::Gzip(1)), direct(Codec::Gzip(6), Codec::Gzip(9))) {
        (Some((t1, s1, _)), Some((t9, s9, _))) => {
            let o = if s1 < 1.0 && t9 < 1.0 { Outcome::Holds } else { Outcome::Partly };
            v("gz6-tradeoff", rule6, o, format!("gzip 6 vs 1: time ×{}, size ×{}; gzip 6 vs 9: time ×{}, size ×{}", fmt_num(t1), fmt_num(s1), fmt_num(t9), fmt_num(s9)))
        }
        (Some((t1, s1, n)), None) => v("gz6-tradeoff", rule6, Outcome::Partly, format!("gzip 9 not measured; gzip 6 vs 1 on {n} cell(s): time ×{}, size ×{}", fmt_num(t1), fmt_num(s1))),
        _ => v("gz6-tradeoff", rule6, Outcome::NotMeasured, "needs gzip 1, 6 and 9 on the same cells".into()),
    });
    let rule9 = "compression = 9 gives the smallest output (slowest).";
    out.push(match direct(Codec::Gzip(9), Codec::Gzip(6)) {
        Some((t, s, n)) => {
            let o = match (s <= 1.0, t > 1.0) {
                (true, true) => Outcome::Holds,
                (false, false) => Outcome::DoesNotHold,
                _ => Outcome::Partly,
            };
            v("gz9-smallest-slowest", rule9, o, format!("gzip 9 vs 6 on {n} cell(s): size ×{}, time ×{}", fmt_num(s), fmt_num(t)))
        }
        None => v("gz9-smallest-slowest", rule9, Outcome::NotMeasured, "no gzip 9 cells in the results".into()),
    });

    // --- scale tiers ---
    let (model, target) = scale::fitted(input);
    let budget = input.budget;
    let q8gz6 = Setting { var_quantization: Some(8), codec: Codec::Gzip(6) };
    let full = |n: u64| model.get(q8gz6).map(|m| m.predict(n as f64, scale::TIER_GENES as f64));
    let fits = |p: crate::recommend::Prediction| p.time_s <= budget.time_s && p.bytes <= budget.disk_bytes;
    let desc = |p: crate::recommend::Prediction| format!("{} s, {} GB", fmt_num(p.time_s), fmt_num(p.bytes / 1e9));
    let budget_txt = format!("budget {} s / {} GB on {target}, extrapolated from the fitted model", fmt_num(budget.time_s), fmt_num(budget.disk_bytes / 1e9));
    let rule = "≤ 50k cells: exporting many genes may be OK (prefer var_quantization = 8).";
    out.push(match full(50_000) {
        Some(p) => v("le50k-many-genes-ok", rule, if fits(p) { Outcome::Holds } else { Outcome::DoesNotHold }, format!("50k × 20k genes at q8 gz6: {}; {budget_txt}", desc(p))),
        None => v("le50k-many-genes-ok", rule, Outcome::NotMeasured, "no q8 gz6 model".into()),
    });
    let rule = "50k–200k cells: export a gene panel; use quantization; consider gzip.";
    out.push(match full(200_000) {
        Some(p) => {
            let best = recommend(&model, 200_000, scale::TIER_GENES, budget).best;
            let o = if !fits(p) { Outcome::Holds } else { Outcome::Partly };
            v("50k-200k-panel", rule, o, format!(
                "200k × 20k genes at q8 gz6: {} ({}); best within budget: {}; {budget_txt}",
                desc(p),
                if fits(p) { "fits: a panel is not needed here" } else { "over budget: a panel is needed" },
                best.map_or("nothing fits".into(), |b| format!("{} with {} genes", b.setting, b.genes_exported))
            ))
        }
        None => v("50k-200k-panel", rule, Outcome::NotMeasured, "no q8 gz6 model".into()),
    });
    let rule = "> 200k cells: full gene export can become impractical.";
    out.push(match (full(500_000), full(1_000_000)) {
        (Some(p5), Some(p1)) => {
            let o = match (fits(p5), fits(p1)) {
                (false, false) => Outcome::Holds,
                (true, false) => Outcome::Partly,
                _ => Outcome::DoesNotHold,
            };
            v("gt200k-impractical", rule, o, format!("all 20k genes at q8 gz6: 500k cells {}, 1M cells {}; {budget_txt}", desc(p5), desc(p1)))
        }
        _ => v("gt200k-impractical", rule, Outcome::NotMeasured, "no q8 gz6 model".into()),
    });

    // --- filesystems ---
    let ours: Vec<crate::cells::CellRuns> = input.writer_cells();
    let net = crate::cells::pairs(&ours, &["target"], |s| s.target.starts_with("sshfs") && !s.durable() && !s.cold(), |s| s.target == "disk");
    let rule = "Export to a local SSD, not a network drive.";
    let (r, n) = crate::tables::filesystems::time_ratio(&net);
    out.push(match r {
        Some(r) => v("local-ssd-over-network", rule, if r.1.lo > 1.0 { Outcome::Holds } else if r.0 > 1.0 { Outcome::Partly } else { Outcome::DoesNotHold }, format!("network (sshfs) vs local disk: time ×{} over {n} pairs", ci(r))),
        None => v("local-ssd-over-network", rule, Outcome::NotMeasured, "no network (sshfs) cells matched with disk cells".into()),
    });
    // Judged from scenario records (`cellucid-bench scenario NAME`), not sweep runs.
    out.push(scenarios::verdict(input, &scenarios::CLOUD_SYNC));
    out.push(scenarios::verdict(input, &scenarios::TOO_MANY_FILES));
    out.push(scenarios::verdict(input, &scenarios::STALE_EXPORT));

    // --- troubleshooting ---
    let shares: Vec<(f64, f64)> = cells
        .iter()
        .filter(|c| c.enough() && c.first().gene_panel().is_none())
        .filter_map(|c| {
            let gb = c.median(|s| s.phase("genes").map_or(f64::NAN, |p| p.bytes as f64));
            let gt = c.median(|s| s.phase("genes").map_or(f64::NAN, |p| p.wall));
            let total_b = c.median(|s| s.bytes_apparent as f64);
            let total_t = c.median(|s| s.phase("genes").map_or(0.0, |_| s.phases.as_ref().map_or(f64::NAN, |ps| ps.iter().map(|p| p.wall).sum())));
            (gb.is_finite() && gt.is_finite()).then_some((gb / total_b, gt / total_t))
        })
        .collect();
    let minb = shares.iter().map(|s| s.0).fold(f64::INFINITY, f64::min);
    let mint = shares.iter().map(|s| s.1).fold(f64::INFINITY, f64::min);
    let medt = crate::stats::median(&shares.iter().map(|s| s.1).collect::<Vec<_>>()).unwrap_or(f64::NAN);
    if shares.is_empty() {
        out.push(v("huge-means-genes", "Export is huge → too many genes exported.", Outcome::NotMeasured, NO_PHASES.into()));
        out.push(v("slow-means-genes", "Export is slow → same root cause (genes), plus filesystem limitations.", Outcome::NotMeasured, NO_PHASES.into()));
    } else {
        out.push(v("huge-means-genes", "Export is huge → too many genes exported.", if minb > 0.8 { Outcome::Holds } else { Outcome::Partly }, format!("gene payloads are ≥ {} % of the folder's bytes in every all-gene export ({} cells)", fmt_num(minb * 100.0), shares.len())));
        out.push(v("slow-means-genes", "Export is slow → same root cause (genes), plus filesystem limitations.", if medt > 0.5 { if mint > 0.5 { Outcome::Holds } else { Outcome::Partly } } else { Outcome::DoesNotHold }, format!("the gene phase is {}–{} % (median {} %) of the exporter's in-process time", fmt_num(mint * 100.0), fmt_num(shares.iter().map(|s| s.1).fold(0.0, f64::max) * 100.0), fmt_num(medt * 100.0))));
    }
    out
}
