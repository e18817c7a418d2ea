//! `server-workflow-for-all-genes`: the guide's note "If you truly need all genes at
//! very large cell counts, consider the Python server workflow where gene expression can
//! be loaded lazily from an AnnData/Zarr backend", judged where a writer with AnnData
//! output (cellucid 0.9.5's Cellucid-ready AnnData) and a folder writer exported the
//! same dataset with all genes: time, bytes, files and peak RSS, AnnData over folder.
//!
//! The AnnData writer's column compares it with every folder export of the same
//! dataset; a folder writer's column compares the AnnData writers with that writer's
//! exports. It holds when the AnnData output is faster than the fastest and smaller than
//! the smallest of those folder exports on every dataset, does not hold when it is
//! neither on any, and holds partly otherwise. The viewer's folder checks (`validate`)
//! do not apply to an AnnData file; the evidence says so.

use super::{v, Outcome, Verdict};
use crate::cells::{key, CellRuns};
use crate::report::{fmt_num, group_thousands};
use crate::tables::Input;

pub const ID: &str = "server-workflow-for-all-genes";
const RULE: &str = "If you truly need all genes at very large cell counts, consider the Python server workflow (gene expression loaded lazily from an AnnData/Zarr backend).";

/// What an AnnData output and a folder export of the same dataset may differ in.
const FREE: &[&str] = &["writer", "quant", "codec"];

fn is_anndata(input: &Input, writer: &str) -> bool {
    input.outputs.get(writer).is_some_and(|o| o == "anndata")
}

/// A folder writer: declared `compact_v1` of either era, or not declared at all (stores
/// written before writers declared their output held folder writers only).
fn is_folder(input: &Input, writer: &str) -> bool {
    input.outputs.get(writer).is_none_or(|o| o.starts_with("compact_v1"))
}

/// All genes, buffered, warm cache, enough runs for a median.
fn usable(c: &CellRuns) -> bool {
    let s = c.first();
    c.enough() && s.gene_panel().is_none() && !s.durable() && !s.cold()
}

/// Medians of one cell's runs.
struct Medians {
    wall: f64,
    bytes: f64,
    files: f64,
    rss: f64,
}

fn medians(c: &CellRuns) -> Medians {
    Medians {
        wall: c.median(|s| s.wall_s),
        bytes: c.median(|s| s.bytes_apparent as f64),
        files: c.median(|s| s.files as f64),
        rss: c.median(|s| s.max_rss_bytes as f64),
    }
}

/// One AnnData cell and the folder exports of the same dataset it is judged against.
struct Comparison<'c, 'a> {
    anndata: &'c CellRuns<'a>,
    folders: Vec<&'c CellRuns<'a>>,
}

impl Comparison<'_, '_> {
    /// (faster than the fastest folder export, smaller than the smallest).
    fn saves(&self) -> (bool, bool) {
        let a = medians(self.anndata);
        let fastest = self.folders.iter().map(|f| medians(f).wall).fold(f64::INFINITY, f64::min);
        let smallest = self.folders.iter().map(|f| medians(f).bytes).fold(f64::INFINITY, f64::min);
        (a.wall < fastest, a.bytes < smallest)
    }

    /// `200,000×20,000 on disk: W (AnnData) 95 s, 1.9 GB, 1 file(s), 9.1 GB peak RSS;
    /// vs F f32 plain: time ×…, bytes ×…, files ×… (1 vs 20,031), peak RSS ×…`.
    fn describe(&self) -> String {
        let s = self.anndata.first();
        let a = medians(self.anndata);
        let mut text = format!(
            "{}×{} on {}: {} (AnnData) {} s, {} GB, {} file(s), {} GB peak RSS",
            fmt_num(s.cells() as f64),
            fmt_num(s.genes() as f64),
            s.target,
            s.writer,
            fmt_num(a.wall),
            fmt_num(a.bytes / 1e9),
            count(a.files),
            fmt_num(a.rss / 1e9)
        );
        for f in &self.folders {
            let m = medians(f);
            text.push_str(&format!(
                "; vs {} {}: time ×{}, bytes ×{}, files ×{} ({} vs {}), peak RSS ×{}",
                f.writer(),
                f.first().setting_label(),
                fmt_num(a.wall / m.wall),
                fmt_num(a.bytes / m.bytes),
                fmt_num(a.files / m.files),
                count(a.files),
                count(m.files),
                fmt_num(a.rss / m.rss)
            ));
        }
        text
    }
}

/// A median file count as a whole number: `20,030`.
fn count(files: f64) -> String {
    if files.is_finite() {
        group_thousands(files.round().max(0.0) as u64)
    } else {
        fmt_num(files)
    }
}

/// The comparisons `writer`'s column is judged on (see the module doc).
fn comparisons<'c, 'a>(input: &'c Input<'a>, writer: &str) -> Vec<Comparison<'c, 'a>> {
    let anndata_side = is_anndata(input, writer);
    let mut out = Vec::new();
    for a in input.cells.iter().filter(|c| usable(c) && is_anndata(input, c.writer()) && (!anndata_side || c.writer() == writer)) {
        let k = key(a.first(), FREE);
        let folders: Vec<&CellRuns> = input
            .cells
            .iter()
            .filter(|f| usable(f) && is_folder(input, f.writer()) && (anndata_side || f.writer() == writer) && key(f.first(), FREE) == k)
            .collect();
        if !folders.is_empty() {
            out.push(Comparison { anndata: a, folders });
        }
    }
    out
}

/// The verdict of `writer`'s column, from every selected writer's cells in `input`.
pub fn verdict(input: &Input, writer: &str) -> Verdict {
    if !is_anndata(input, writer) && !is_folder(input, writer) {
        return v(ID, RULE, Outcome::NotMeasured, format!("{writer} writes neither a folder nor an AnnData file"));
    }
    let found = comparisons(input, writer);
    if found.is_empty() {
        let mut anndata: Vec<&str> = input.cells.iter().map(|c| c.writer()).filter(|w| is_anndata(input, w)).collect();
        anndata.sort_unstable();
        anndata.dedup();
        let why = if anndata.is_empty() {
            "no writer with AnnData output (e.g. cellucid-py-0.9.5) in the results".to_string()
        } else {
            format!(
                "no dataset exported with all genes both by {} (AnnData) and by a folder writer{}, each with enough runs (the `server` plan has them)",
                anndata.join(", "),
                if is_anndata(input, writer) { String::new() } else { format!(" ({writer})") }
            )
        };
        return v(ID, RULE, Outcome::NotMeasured, why);
    }
    let saves: Vec<(bool, bool)> = found.iter().map(Comparison::saves).collect();
    let outcome = if saves.iter().all(|&(t, b)| t && b) {
        Outcome::Holds
    } else if saves.iter().all(|&(t, b)| !t && !b) {
        Outcome::DoesNotHold
    } else {
        Outcome::Partly
    };
    let faster = saves.iter().filter(|s| s.0).count();
    let smaller = saves.iter().filter(|s| s.1).count();
    let evidence = format!(
        "the AnnData output is faster than the fastest folder export on {faster} and smaller than the smallest on {smaller} of {} dataset(s): {} (an AnnData file: the viewer's folder checks, `validate`, do not apply to it)",
        found.len(),
        found.iter().map(Comparison::describe).collect::<Vec<_>>().join(" | ")
    );
    v(ID, RULE, outcome, evidence)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Results, Store};
    use crate::recommend::Budget;
    use serde_json::{json, Value};

    const OURS: &str = "cellucid-bench";
    const PY092: &str = "cellucid-py-0.9.2";
    const PY095: &str = "cellucid-py-0.9.5";

    /// One run of `writer` on a `cells` × 20,000 dataset on disk.
    fn run(writer: &str, cells: u64, quant: Option<u8>, gzip: Option<u8>, repeat: u32, m: (f64, u64, u64, u64)) -> Value {
        let (wall, bytes, files, rss) = m;
        json!({
            "cell_id": format!("{writer}-{cells}-{quant:?}-{gzip:?}"),
            "label": format!("{cells}x20000 d=0.05 disk {writer}"),
            "repeat": repeat, "target": "disk", "writer": writer,
            "settings": {"compression": gzip, "gene_panel": null, "obs_continuous_quantization": null, "var_quantization": quant},
            "dataset": {"cells": cells, "genes": 20000, "density": 0.05, "graph": {"kind": "none"}, "categorical_fields": [12], "continuous_fields": {"count": 3}, "embedding_dims": [2]},
            "wall_s": wall, "user_s": wall, "sys_s": 0.0, "max_rss_bytes": rss,
            "bytes_apparent": bytes, "files": files, "ok": true, "finished_at": "2026-12-02T12:00:00Z",
        })
    }

    fn results(runs: &[(&str, u64, Option<u8>, Option<u8>, (f64, u64, u64, u64))]) -> Results {
        let header = json!({
            "format": "cellucid-bench-results", "version": 1, "plan": "server", "started": "2026-12-02T12:00:00Z",
            "writers": [
                {"name": OURS, "output": "compact_v1"},
                {"name": PY092, "version": "0.9.2", "output": "compact_v1"},
                {"name": PY095, "version": "0.9.5", "output": "anndata"},
            ],
        });
        let mut text = header.to_string() + "\n";
        for &(w, cells, q, g, m) in runs {
            for r in 1..=3 {
                text += &(run(w, cells, q, g, r, m).to_string() + "\n");
            }
        }
        Results::new(vec![Store::parse(&text).expect("store parses")])
    }

    fn judge(results: &Results, writer: &str) -> Verdict {
        let writers = vec![OURS.to_string(), PY092.to_string(), PY095.to_string()];
        let input = Input::new(results, Budget::default(), writers, OURS.into());
        verdict(&input, writer)
    }

    #[test]
    fn the_anndata_writer_is_judged_against_every_folder_export_of_its_datasets() {
        // 200k: the AnnData file is faster and smaller than every folder export; 500k:
        // slower than ours at f32 plain and larger than ours at q8 gz6.
        let r = results(&[
            (PY095, 200_000, None, None, (50.0, 1_000_000_000, 1, 9_000_000_000)),
            (OURS, 200_000, None, None, (60.0, 16_000_000_000, 20_030, 2_000_000_000)),
            (OURS, 200_000, Some(8), Some(6), (80.0, 1_200_000_000, 20_030, 2_000_000_000)),
            (PY092, 200_000, None, None, (250.0, 20_000_000_000, 20_030, 6_000_000_000)),
            (PY095, 500_000, None, None, (200.0, 2_500_000_000, 1, 20_000_000_000)),
            (OURS, 500_000, None, None, (150.0, 40_000_000_000, 20_030, 4_000_000_000)),
            (OURS, 500_000, Some(8), Some(6), (190.0, 2_000_000_000, 20_030, 4_000_000_000)),
        ]);
        let a = judge(&r, PY095);
        assert_eq!((a.id.as_str(), a.outcome), (ID, Outcome::Partly), "{}", a.evidence);
        assert!(a.evidence.contains("faster than the fastest folder export on 1 and smaller than the smallest on 1 of 2 dataset(s)"), "{}", a.evidence);
        assert!(a.evidence.contains("200,000×20,000 on disk: cellucid-py-0.9.5 (AnnData) 50.0 s, 1.00 GB, 1 file(s), 9.00 GB peak RSS"), "{}", a.evidence);
        assert!(a.evidence.contains("vs cellucid-py-0.9.2 f32 plain: time ×0.200, bytes ×0.050, files ×4.99e-5 (1 vs 20,030), peak RSS ×1.50"), "{}", a.evidence);
        assert!(a.evidence.contains("vs cellucid-bench q8 gz6: time ×0.625, bytes ×0.833"), "{}", a.evidence);
        assert!(a.evidence.contains("500,000×20,000 on disk") && a.evidence.contains("vs cellucid-bench q8 gz6: time ×1.05, bytes ×1.25"), "{}", a.evidence);
        assert!(a.evidence.contains("`validate`, do not apply"), "{}", a.evidence);
        // A folder writer's column: the AnnData writer against that writer's exports only.
        let py = judge(&r, PY092);
        assert_eq!(py.outcome, Outcome::Holds, "{}", py.evidence);
        assert!(py.evidence.contains("of 1 dataset(s)") && !py.evidence.contains("cellucid-bench"), "{}", py.evidence);
        assert_eq!(judge(&r, OURS).outcome, Outcome::Partly);
    }

    #[test]
    fn slower_and_larger_everywhere_does_not_hold() {
        let r = results(&[
            (PY095, 200_000, None, None, (90.0, 20_000_000_000, 1, 9_000_000_000)),
            (OURS, 200_000, None, None, (60.0, 16_000_000_000, 20_030, 2_000_000_000)),
        ]);
        assert_eq!(judge(&r, PY095).outcome, Outcome::DoesNotHold);
    }

    #[test]
    fn without_a_shared_dataset_it_is_not_measured_with_the_reason() {
        let r = results(&[
            (PY095, 200_000, None, None, (50.0, 1_000_000_000, 1, 9_000_000_000)),
            (OURS, 500_000, None, None, (150.0, 40_000_000_000, 20_030, 4_000_000_000)),
        ]);
        let a = judge(&r, PY095);
        assert_eq!(a.outcome, Outcome::NotMeasured);
        assert!(a.evidence.contains("no dataset exported with all genes both by cellucid-py-0.9.5 (AnnData) and by a folder writer"), "{}", a.evidence);
        let none = results(&[(OURS, 500_000, None, None, (150.0, 40_000_000_000, 20_030, 4_000_000_000))]);
        let o = judge(&none, OURS);
        assert_eq!(o.outcome, Outcome::NotMeasured);
        assert!(o.evidence.contains("no writer with AnnData output"), "{}", o.evidence);
    }
}
