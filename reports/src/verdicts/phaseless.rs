//! The part rules for a writer that reports no phases (cellucid 0.9.2 and the other
//! reference writers): each part's share derived from whole runs, never from a phase
//! report the writer did not make, and named as derived in the evidence.
//!
//! - **Bytes by part** (and so bytes per value) come from a *twin*: the same dataset, settings and target
//!   exported by a writer that reports phases, whose folder has exactly the same bytes
//!   and files. For `compact_v1` writers the folders are then byte for byte the same
//!   (the conformance tests make ours so), and the twin's byte count per part is this
//!   writer's.
//! - **Time by part** comes from differences between whole runs: a cell with obs fields
//!   or a graph against the matched cell without them, and for genes the slope of the
//!   whole export's time against the exported genes. A difference inside the runs'
//!   noise is left out and counted, never fitted.
//!
//! [`verdict`] answers only the rules it can derive; the caller keeps its own "not
//! measured" for the others.

use super::{linear, v, Outcome, Verdict};
use crate::cells::{key, pairs, CellRuns};
use crate::model::Sample;
use crate::report::fmt_num;
use crate::stats::{least_squares, power_fit};
use crate::tables::Input;

/// The derived verdict of rule `id` for a writer that reports no phases, from its own
/// cells `own` (buffered, warm: [`Input::plain`]) and, for bytes, their twins among the
/// other writers' cells of `input`.
pub fn verdict(input: &Input, own: &[CellRuns], id: &str) -> Option<Verdict> {
    match id {
        "embeddings-cheap" => embeddings_cheap(input, own),
        "bytes-per-value" => bytes_per_value(input, own),
        "huge-means-genes" => huge_means_genes(input, own),
        "slow-means-genes" => slow_means_genes(own),
        "obs-linear-cells" => obs_linear(own, Against::Cells),
        "obs-linear-fields" => obs_linear(own, Against::Fields),
        "dense-graphs-explode" => dense_graphs(own),
        _ => None,
    }
}

/// The cell of a phase-reporting writer with the same export as `c`, and its run with
/// exactly `c`'s bytes and files.
fn twin<'c, 'a>(input: &'c Input<'a>, c: &CellRuns) -> Option<(&'c CellRuns<'a>, &'a Sample)> {
    let s = c.first();
    let k = key(s, &["writer"]);
    input
        .cells
        .iter()
        .filter(|t| t.writer() != s.writer && t.first().phases.is_some())
        .find_map(|t| {
            let run = t.runs.iter().copied().find(|r| key(r, &["writer"]) == k && r.bytes_apparent == s.bytes_apparent && r.files == s.files)?;
            Some((t, run))
        })
}

/// The twins' cells: for each of the writer's cells with a twin, all runs of the twin's
/// cell.
fn twin_cells<'a>(input: &Input<'a>, own: &[CellRuns]) -> Vec<CellRuns<'a>> {
    own.iter().filter_map(|c| twin(input, c).map(|(t, _)| t.clone())).collect()
}

/// For each of the writer's cells with a twin: (the part's bytes / the folder's bytes).
fn byte_shares(input: &Input, own: &[CellRuns], part: &str, all_genes_only: bool) -> (Vec<f64>, Option<String>) {
    let mut twin_writer = None;
    let shares = own
        .iter()
        .filter(|c| c.enough() && !(all_genes_only && c.first().gene_panel().is_some()))
        .filter_map(|c| {
            let (_, t) = twin(input, c)?;
            let p = t.phase(part)?;
            twin_writer.get_or_insert_with(|| t.writer.clone());
            Some(p.bytes as f64 / c.first().bytes_apparent.max(1) as f64)
        })
        .collect();
    (shares, twin_writer)
}

fn twin_note(twin: &str) -> String {
    format!("no phase report: bytes by part from {twin}'s phase report on the same cells, whose folders have exactly these bytes and files")
}

fn bytes_per_value(input: &Input, own: &[CellRuns]) -> Option<Verdict> {
    let twins = twin_cells(input, own);
    let twin = twins.first()?.writer().to_string();
    let verdict = super::bytes_per_value(&twins);
    (verdict.outcome != Outcome::NotMeasured)
        .then(|| Verdict { evidence: format!("{} over {} cells ({})", verdict.evidence, twins.len(), twin_note(&twin)), ..verdict })
}

const EMBEDDINGS: &str = "Embeddings are cheap; their disk size is tiny compared to gene expression.";

fn embeddings_cheap(input: &Input, own: &[CellRuns]) -> Option<Verdict> {
    let (shares, twin) = byte_shares(input, own, "embeddings", false);
    let m = shares.iter().copied().fold(f64::NAN, f64::max);
    let twin = twin?;
    let o = if m < 0.05 { Outcome::Holds } else if m < 0.2 { Outcome::Partly } else { Outcome::DoesNotHold };
    Some(v("embeddings-cheap", EMBEDDINGS, o, format!(
        "embeddings are at most {} % of an export's bytes over {} cells ({}; their time cannot be told apart from the whole run's)",
        fmt_num(m * 100.0), shares.len(), twin_note(&twin))))
}

fn huge_means_genes(input: &Input, own: &[CellRuns]) -> Option<Verdict> {
    let (shares, twin) = byte_shares(input, own, "genes", true);
    let twin = twin?;
    let min = shares.iter().copied().fold(f64::INFINITY, f64::min);
    Some(v(
        "huge-means-genes",
        "Export is huge → too many genes exported.",
        if min > 0.8 { Outcome::Holds } else { Outcome::Partly },
        format!("gene payloads are ≥ {} % of the folder's bytes in every all-gene export ({} cells; {})", fmt_num(min * 100.0), shares.len(), twin_note(&twin)),
    ))
}

/// The share of a whole run's time that grows with the exported genes: in each group of
/// cells equal but for the gene count (or panel), `time = a + b · genes` by least
/// squares, and `b · genes / time` at the group's all-gene cells.
fn slow_means_genes(own: &[CellRuns]) -> Option<Verdict> {
    let free = ["genes", "panel"];
    let mut groups: Vec<(String, Vec<&CellRuns>)> = Vec::new();
    for c in own.iter().filter(|c| c.enough()) {
        let k = key(c.first(), &free);
        match groups.iter_mut().find(|(gk, _)| *gk == k) {
            Some((_, v)) => v.push(c),
            None => groups.push((k, vec![c])),
        }
    }
    let mut shares = Vec::new();
    for (_, g) in &groups {
        let xs: Vec<f64> = g.iter().map(|c| c.first().genes_exported() as f64).collect();
        if xs.iter().all(|x| (x - xs[0]).abs() < 0.5) {
            continue;
        }
        let rows: Vec<Vec<f64>> = xs.iter().map(|&x| vec![1.0, x]).collect();
        let ys: Vec<f64> = g.iter().map(|c| c.median(|s| s.wall_s)).collect();
        let Some(beta) = least_squares(&rows, &ys) else { continue };
        for (c, (&x, &y)) in g.iter().zip(xs.iter().zip(&ys)) {
            if c.first().gene_panel().is_none() && y > 0.0 {
                shares.push((beta[1] * x / y).clamp(0.0, 1.0));
            }
        }
    }
    if shares.is_empty() {
        return None;
    }
    let min = shares.iter().copied().fold(f64::INFINITY, f64::min);
    let max = shares.iter().copied().fold(0.0, f64::max);
    let med = crate::stats::median(&shares).unwrap_or(f64::NAN);
    let o = if med > 0.5 { if min > 0.5 { Outcome::Holds } else { Outcome::Partly } } else { Outcome::DoesNotHold };
    Some(v("slow-means-genes", "Export is slow → same root cause (genes), plus filesystem limitations.", o, format!(
        "the part of the run's time that grows with exported genes is {}–{} % (median {} %) of it over {} all-gene cells (no phase report: the slope of a linear fit of whole-run time against exported genes, cells equal but for genes)",
        fmt_num(min * 100.0), fmt_num(max * 100.0), fmt_num(med * 100.0), shares.len())))
}

/// A part's time by difference: (x, median with − median without) for each pair, and
/// how many pairs fell inside the noise (the difference no larger than the spread,
/// max − min, of the runs without the part).
struct Differences {
    groups: Vec<Vec<(f64, f64)>>,
    pairs: usize,
    in_noise: usize,
}

fn differences<'c, 'a>(
    matched: Vec<(&'c CellRuns<'a>, &'c CellRuns<'a>)>,
    x: impl Fn(&Sample) -> f64,
    group_free: &[&str],
) -> Differences {
    let mut d = Differences { groups: Vec::new(), pairs: 0, in_noise: 0 };
    let mut keys: Vec<String> = Vec::new();
    for (with, without) in matched.into_iter().filter(|(a, b)| a.enough() && b.enough()) {
        d.pairs += 1;
        let base = without.wall();
        let noise = base.iter().copied().fold(f64::MIN, f64::max) - base.iter().copied().fold(f64::MAX, f64::min);
        let diff = with.median(|s| s.wall_s) - without.median(|s| s.wall_s);
        if diff <= noise.max(0.0) {
            d.in_noise += 1;
            continue;
        }
        let k = key(with.first(), group_free);
        match keys.iter().position(|gk| *gk == k) {
            Some(i) => d.groups[i].push((x(with.first()), diff)),
            None => {
                keys.push(k);
                d.groups.push(vec![(x(with.first()), diff)]);
            }
        }
    }
    d
}

fn difference_note(part: &str, base: &str, d: &Differences) -> String {
    format!(
        "no phase report: {part} time as the run's time minus that of the same cell {base}, over {} pairs, {} inside the runs' noise left out",
        d.pairs, d.in_noise
    )
}

#[derive(Clone, Copy)]
enum Against {
    Cells,
    Fields,
}

fn obs_linear(own: &[CellRuns], against: Against) -> Option<Verdict> {
    let matched = pairs(own, &["obs"], |s| s.obs_fields() > 0, |s| s.obs_fields() == 0);
    let (id, rule, what, x, free): (_, _, _, fn(&Sample) -> f64, &[&str]) = match against {
        Against::Cells => ("obs-linear-cells", "Obs work scales as O(n_cells · n_obs_fields): linear in cells.", "obs time vs cells", |s| s.cells() as f64, &["cells"]),
        Against::Fields => ("obs-linear-fields", "Obs work scales as O(n_cells · n_obs_fields): linear in fields.", "obs time vs fields", |s| s.obs_fields() as f64, &["obs"]),
    };
    let d = differences(matched, x, free);
    if d.pairs == 0 {
        return None;
    }
    let verdict = linear(id, rule, power_fit(&d.groups), what);
    Some(Verdict { evidence: format!("{} ({})", verdict.evidence, difference_note("obs", "without obs fields", &d)), ..verdict })
}

fn dense_graphs(own: &[CellRuns]) -> Option<Verdict> {
    let matched = pairs(own, &["graph"], |s| s.edges_per_cell() > 0.0, |s| s.edges_per_cell() == 0.0);
    let d = differences(matched, |s| s.edges_per_cell() * s.cells() as f64, &["graph"]);
    if d.pairs == 0 {
        return None;
    }
    let rule = "Connectivity cost depends on graph density; sparse graphs export fine, dense graphs explode.";
    let note = difference_note("graph", "without a graph", &d);
    Some(match power_fit(&d.groups) {
        Some(f) => v(
            "dense-graphs-explode",
            rule,
            super::explosion(&f),
            format!("graph time grows with edges^{}{} over {} points ({note})", fmt_num(f.exponent), f.interval.map_or(String::new(), |i| format!(" [{}–{}]", fmt_num(i.lo), fmt_num(i.hi))), f.points),
        ),
        None => v("dense-graphs-explode", rule, Outcome::NotMeasured, format!("fewer than two graph densities outside the noise ({note})")),
    })
}
