//! Reports per writer, from synthetic stores whose numbers are known: the rule × writer
//! verdict matrix (each writer judged on its own runs), skipped samples kept out of
//! every statistic, table 9's pairing of the same cell across writers, `--writer`
//! selection, an old store with `subject` only, and the committed measurement store.

use cellucid_reports::model::{Results, Store};
use cellucid_reports::recommend::Budget;
use cellucid_reports::report::{Report, Table};
use cellucid_reports::verdicts::Outcome;
use cellucid_reports::{build, Options};
use serde_json::{json, Value};
use std::path::Path;

const BENCH: &str = "cellucid-bench";
const PY: &str = "cellucid-py-0.9.2";
const R: &str = "cellucid-r-0.9.1";

fn header(writers: Option<&[&str]>) -> Value {
    let mut h = json!({
        "format": "cellucid-bench-results", "version": 1, "plan": "synthetic", "started": "2026-12-02T06:00:00Z",
        "machine": {"cpu_model": "Test CPU", "cores": 2, "memory_bytes": 24_000_000_000u64, "kernel": "6", "os": "Linux", "hostname": "t"},
    });
    if let Some(ws) = writers {
        h["writers"] = ws.iter().map(|w| json!({"name": w, "version": if *w == PY { json!("0.9.2") } else { Value::Null }, "output": "compact_v1"})).collect();
    }
    h
}

/// Who ran a sample: a new store names the writer, an old one the subject.
#[derive(Clone, Copy)]
enum Who<'a> {
    Writer(&'a str),
    Subject(&'a str),
}

/// One run of `cells` × `genes` at q8 gz6 on tmpfs taking `wall` seconds; with phases,
/// the gene phase is 90 % of it.
fn sample(who: Who, cells: u64, genes: u64, repeat: u32, wall: f64, phases: bool) -> Value {
    let (name, key) = match who {
        Who::Writer(w) => (w, "writer"),
        Who::Subject(s) => (s, "subject"),
    };
    let bytes = cells * genes / 4;
    let mut s = json!({
        "cell_id": format!("{name}-{cells}-{genes}"),
        "label": format!("{cells}x{genes} d=0.10 q8 gz6 tmpfs {name}"),
        "repeat": repeat, "target": "tmpfs",
        "settings": {"compression": 6, "gene_panel": null, "obs_continuous_quantization": null, "var_quantization": 8},
        "dataset": {"cells": cells, "genes": genes, "density": 0.1, "graph": {"kind": "none"}, "categorical_fields": [12], "continuous_fields": {"count": 3}, "embedding_dims": [2]},
        "wall_s": wall, "user_s": wall, "sys_s": 0.0, "max_rss_bytes": cells * 1000,
        "bytes_apparent": bytes, "files": genes + 12, "efficiency": 0.5, "ok": true, "finished_at": "2026-12-02T06:01:00Z",
    });
    s[key] = json!(name);
    if phases {
        s["phases"] = json!([
            {"phase": "genes", "wall": wall * 0.9, "cpu": wall, "bytes": bytes - 1000, "raw_bytes": cells * genes, "files": genes + 1},
            {"phase": "obs", "wall": wall * 0.05, "cpu": wall * 0.05, "bytes": 1000, "raw_bytes": 1000, "files": 8},
        ]);
    }
    s
}

/// A cell skipped for its budget, as the contract stores it: `ok: false`, `wall_s` 0,
/// the prediction under `skipped`.
fn skipped(writer: &str, cells: u64, genes: u64, predicted: f64) -> Value {
    let mut s = sample(Who::Writer(writer), cells, genes, 1, 0.0, false);
    s["ok"] = json!(false);
    s["bytes_apparent"] = json!(0);
    s["files"] = json!(0);
    s["skipped"] = json!({"reason": "predicted 9999 s over the run budget of 600 s", "predicted_wall_s": predicted, "predicted_rss_bytes": 30_000_000_000u64});
    s
}

fn store(lines: Vec<Value>) -> Store {
    let text: String = lines.iter().map(|l| l.to_string() + "\n").collect();
    Store::parse(&text).expect("synthetic store parses")
}

/// Three writers on a 3 × 2 grid of sizes: ours linear (1 µs per 1,000 values), the
/// Python reference 10 × slower and linear without phase reports, the R writer
/// quadratic in cells, run on two sizes only, its largest cell skipped for its budget.
fn three_writers() -> Results {
    let mut lines = vec![header(Some(&[BENCH, PY, R]))];
    for cells in [10_000u64, 20_000, 40_000] {
        for genes in [1_000u64, 2_000] {
            let values = (cells * genes) as f64;
            for rep in 1..=3 {
                let jitter = 1.0 + 0.01 * rep as f64;
                lines.push(sample(Who::Writer(BENCH), cells, genes, rep, values * 1e-9 * jitter, true));
                lines.push(sample(Who::Writer(PY), cells, genes, rep, values * 1e-8 * jitter, false));
                if genes == 1_000 && cells < 40_000 {
                    let quadratic = (cells as f64 / 1e4).powi(2) * genes as f64 * 1e-3 * jitter;
                    lines.push(sample(Who::Writer(R), cells, genes, rep, quadratic, false));
                }
            }
        }
    }
    lines.push(skipped(R, 40_000, 1_000, 9_999.0));
    Results::new(vec![store(lines)])
}

fn report(results: &Results, writers: &[&str], baseline: Option<&str>) -> Report {
    let options = Options {
        budget: Budget::default(),
        writers: writers.iter().map(|w| w.to_string()).collect(),
        baseline: baseline.map(String::from),
    };
    build(results, &options).expect("report builds")
}

fn table<'r>(r: &'r Report, id: &str) -> &'r Table {
    r.tables.iter().find(|t| t.id == id).unwrap_or_else(|| panic!("no table {id}"))
}

fn col(t: &Table, name: &str) -> usize {
    t.columns.iter().position(|c| c == name).unwrap_or_else(|| panic!("no column {name:?} in {:?}", t.columns))
}

#[test]
fn verdict_matrix_judges_each_writer_on_its_own_runs() {
    let r = report(&three_writers(), &[], None);
    let names: Vec<&str> = r.writers.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, [BENCH, PY, R]);
    assert_eq!(r.writers[1].version.as_deref(), Some("0.9.2"));
    for row in &r.verdicts {
        let order: Vec<&str> = row.by_writer.iter().map(|j| j.writer.as_str()).collect();
        assert_eq!(order, names, "rule {}", row.id);
    }
    let rule = |id: &str, w: &str| r.verdict(id, w).unwrap_or_else(|| panic!("no verdict {id} for {w}"));
    // Ours and the reference are linear in cells; the R writer is quadratic, and a fit
    // over all three writers' runs would have said something in between.
    let ours = rule("genes-time-linear-cells", BENCH);
    assert_eq!(ours.outcome, Outcome::Holds, "{}", ours.evidence);
    assert!(ours.evidence.contains("gene time") && ours.evidence.contains("exponent 1.00"), "{}", ours.evidence);
    let py = rule("genes-time-linear-cells", PY);
    assert_eq!(py.outcome, Outcome::Holds, "{}", py.evidence);
    assert!(
        py.evidence.contains("whole-export"),
        "a writer without phases is judged on the whole export: {}",
        py.evidence
    );
    let rr = rule("genes-time-linear-cells", R);
    assert_eq!(rr.outcome, Outcome::DoesNotHold, "{}", rr.evidence);
    assert!(
        rr.evidence.contains("exponent 2.00") && rr.evidence.contains("2 points"),
        "only R's two measured sizes: {}",
        rr.evidence
    );
    // Part rules: ours judged on its phases; a writer without them on derived parts that
    // say so: bytes from ours' phase report on identical folders, time from the slope of
    // the whole run against the exported genes.
    assert_ne!(rule("huge-means-genes", BENCH).outcome, Outcome::NotMeasured);
    let huge = rule("huge-means-genes", PY);
    assert_eq!(huge.outcome, Outcome::Holds, "{}", huge.evidence);
    assert!(huge.evidence.contains("no phase report") && huge.evidence.contains(BENCH), "{}", huge.evidence);
    let slow = rule("slow-means-genes", PY);
    assert_eq!(slow.outcome, Outcome::Holds, "{}", slow.evidence);
    assert!(slow.evidence.contains("100 %") && slow.evidence.contains("slope"), "{}", slow.evidence);
    // R ran at one gene count only: no slope to take, and the reason is the phases.
    let no_phase = rule("slow-means-genes", R);
    assert_eq!(no_phase.outcome, Outcome::NotMeasured);
    assert!(no_phase.evidence.contains("phase"), "{}", no_phase.evidence);
    // Files are counted for every writer (the whole folder without phases).
    assert_eq!(rule("files-equal-genes", PY).outcome, Outcome::Holds);
}

/// A run of the Python writer (no phases) on a 10,000 × 1,000 dataset with `fields` obs
/// fields and `edges` graph edges per cell, costing 1 s + 10 µs per cell and field +
/// 20 µs × (all edges)^0.9, with a jitter of ±1 %.
fn parts_sample(cells: u64, fields: u64, edges: u64, repeat: u32) -> Value {
    let graph = if edges == 0 { 0.0 } else { 2e-5 * ((edges * cells) as f64).powf(0.9) };
    let wall = (1.0 + 1e-5 * (cells * fields) as f64 + graph) * (1.0 + 0.01 * (repeat as f64 - 2.0));
    let mut s = sample(Who::Writer(PY), cells, 1_000, repeat, wall, false);
    s["cell_id"] = json!(format!("py-{cells}-{fields}-{edges}"));
    s["dataset"]["categorical_fields"] = json!(vec![5; fields as usize / 2]);
    s["dataset"]["continuous_fields"] = json!({"count": fields - fields / 2});
    s["dataset"]["graph"] = if edges == 0 { json!({"kind": "none"}) } else { json!({"kind": "knn", "k": edges}) };
    s
}

#[test]
fn parts_of_a_writer_without_phases_are_derived_from_differences() {
    let mut lines = vec![header(Some(&[PY]))];
    for cells in [10_000u64, 20_000] {
        for (fields, edges) in [(0, 0), (4, 0), (16, 0), (4, 15), (4, 150)] {
            lines.extend((1..=3).map(|rep| parts_sample(cells, fields, edges, rep)));
        }
    }
    let r = report(&Results::new(vec![store(lines)]), &[], None);
    let rule = |id: &str| r.verdict(id, PY).unwrap_or_else(|| panic!("no verdict {id}"));
    for id in ["obs-linear-fields", "obs-linear-cells"] {
        let j = rule(id);
        assert_eq!(j.outcome, Outcome::Holds, "{id}: {}", j.evidence);
        assert!(j.evidence.contains("exponent 1.00") && j.evidence.contains("minus that of the same cell"), "{id}: {}", j.evidence);
    }
    // The graph costs 0.9 s and 7.2 s at 10,000 cells: sublinear in edges, no explosion.
    let g = rule("dense-graphs-explode");
    assert_eq!(g.outcome, Outcome::DoesNotHold, "{}", g.evidence);
    assert!(g.evidence.contains("edges^0.90") && g.evidence.contains("without a graph"), "{}", g.evidence);
    // No twin with phases: the bytes of parts stay unknown, and say why.
    assert_eq!(rule("huge-means-genes").outcome, Outcome::NotMeasured);
    assert_eq!(rule("embeddings-cheap").outcome, Outcome::NotMeasured);
}

#[test]
fn skipped_samples_enter_no_statistic() {
    let results = three_writers();
    assert_eq!(results.stores[0].skipped.len(), 1);
    assert_eq!(results.stores[0].failed, 0, "a skipped cell is not a failed run");
    assert!(results.samples().all(|s| s.skipped.is_none()));
    let r = report(&results, &[], None);
    assert_eq!(r.skipped, 1);
    assert_eq!(r.samples, 18 + 18 + 6, "measured runs only");
    // Table 2 lists every measured cell (even with one run): none of R's is 40,000 cells.
    let genes = table(&r, "gene-expression");
    let (w, cells) = (col(genes, "writer"), col(genes, "cells"));
    let r_rows: Vec<&Vec<_>> = genes.rows.iter().filter(|row| row[w].text == R).collect();
    assert_eq!(r_rows.len(), 2);
    assert!(r_rows.iter().all(|row| row[cells].value != Some(40_000.0)));
    // A writer whose every cell was skipped has no measurement at all.
    let only_skipped = store(vec![
        header(Some(&[BENCH, R])),
        sample(Who::Writer(BENCH), 10_000, 1_000, 1, 0.1, true),
        skipped(R, 40_000, 1_000, 9_999.0),
    ]);
    let r = report(&Results::new(vec![only_skipped]), &[], None);
    let j = r.verdict("genes-time-linear-cells", R).unwrap();
    assert_eq!(j.outcome, Outcome::NotMeasured);
    assert!(j.evidence.contains("skipped over its budget"), "{}", j.evidence);
    assert!(r.verdicts.iter().all(|v| v.by_writer[1].outcome == Outcome::NotMeasured));
}

#[test]
fn table_nine_pairs_the_same_cells_across_writers() {
    let r = report(&three_writers(), &[], None);
    let t = table(&r, "writers");
    let (what, writer, time) = (col(t, "dataset and setting"), col(t, "writer"), col(t, "time s [range]"));
    let speed = col(t, "speed-up vs cellucid-bench [95 % CI]");
    let predicted = col(t, "predicted s (extrapolated, not run)");
    // Six cells measured by ours and the reference; R measured two of them and was
    // skipped on a third: 6 × 2 + 2 + 1 rows.
    assert_eq!(t.rows.len(), 15);
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for row in &t.rows {
        match groups.last_mut() {
            Some((k, ws)) if *k == row[what].text => ws.push(&row[writer].text),
            _ => groups.push((&row[what].text, vec![&row[writer].text])),
        }
    }
    assert_eq!(groups.len(), 6, "each cell's rows are adjacent: {groups:?}");
    for (k, ws) in &groups {
        assert_eq!(ws[..2], [BENCH, PY], "{k}");
    }
    for row in &t.rows {
        match row[writer].text.as_str() {
            BENCH => assert_eq!(row[speed].text, "1 (baseline)"),
            PY => {
                let v = row[speed].value.unwrap();
                assert!((v - 0.1).abs() < 0.005, "the reference is 10 × slower: {v}");
                let i = (row[speed].lo.unwrap(), row[speed].hi.unwrap());
                assert!(i.0 <= v && v <= i.1, "{i:?}");
            }
            _ => {}
        }
    }
    // The skipped cell: a prediction in its own column, nothing in the measured ones.
    let skipped: Vec<&Vec<_>> =
        t.rows.iter().filter(|row| row[writer].text == R && row[predicted].value.is_some()).collect();
    assert_eq!(skipped.len(), 1);
    let row = skipped[0];
    assert!(row[what].text.starts_with("40000×1000"), "{}", row[what].text);
    assert_eq!(row[predicted].value, Some(9_999.0));
    assert!(row[predicted].text.contains("extrapolated"));
    assert!(row[time].text.starts_with("not run") && row[time].value.is_none());
    assert!(row.iter().enumerate().filter(|(j, _)| *j != predicted).all(|(_, c)| c.value.is_none()));
    // Against another baseline the speed-ups turn around.
    let r = report(&three_writers(), &[BENCH, PY], Some(PY));
    let t = table(&r, "writers");
    let (writer, speed) = (col(t, "writer"), col(t, "speed-up vs cellucid-py-0.9.2 [95 % CI]"));
    assert_eq!(t.rows.len(), 12);
    let ours = t.rows.iter().find(|row| row[writer].text == BENCH).unwrap();
    assert!((ours[speed].value.unwrap() - 10.0).abs() < 0.5);
}

#[test]
fn tables_render_for_one_writer_or_side_by_side() {
    let all = report(&three_writers(), &[], None);
    // Rules, levers, tiers: each writer's numbers as columns of the same row.
    let scaling = table(&all, "scaling");
    assert!(scaling.title.ends_with("side by side"), "{}", scaling.title);
    for w in [BENCH, PY, R] {
        col(scaling, &format!("{w}: exponent [95 % CI]"));
    }
    assert_eq!(scaling.columns.len(), 4 + 3 * 3);
    // Tables of measured cells: one block per writer.
    let genes = table(&all, "gene-expression");
    assert_eq!(genes.columns[0], "writer");
    assert_eq!(genes.rows.len(), 6 + 6 + 2);
    for t in &all.tables {
        assert!(t.rows.iter().all(|r| r.len() == t.columns.len()), "{}", t.id);
    }
    // One writer: its own numbers only, the title naming it.
    let one = report(&three_writers(), &[R], None);
    assert_eq!(one.writers.len(), 1);
    assert!(one.verdicts.iter().all(|v| v.by_writer.len() == 1 && v.by_writer[0].writer == R));
    let scaling = table(&one, "scaling");
    assert!(scaling.title.ends_with("— cellucid-r-0.9.1"), "{}", scaling.title);
    assert_eq!(table(&one, "gene-expression").rows.len(), 2);
    assert!(table(&one, "writers").rows[0][0].text.starts_with("not measured"));
    // Unknown writers are refused by name.
    let e = build(&three_writers(), &Options { writers: vec!["cellucid-x".into()], ..Options::default() })
        .unwrap_err()
        .to_string();
    assert!(e.contains("cellucid-x") && e.contains(PY), "{e}");
    // Every export carries the matrix.
    let dir = tempfile::tempdir().unwrap();
    cellucid_reports::export::write_all(&all, dir.path()).unwrap();
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(md.contains(&format!("| id | rule of thumb | {BENCH} | {PY} | {R} |")));
    let csv = std::fs::read_to_string(dir.path().join("csv/verdicts.csv")).unwrap();
    assert!(csv.starts_with("id,rule,writer,verdict,numbers\n"));
    assert_eq!(csv.lines().count(), 1 + 3 * all.verdicts.len());
    assert!(csv
        .lines()
        .any(|l| l.starts_with("genes-time-linear-cells,") && l.contains(",cellucid-r-0.9.1,does not hold,")));
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains("<th>cellucid-py-0.9.2 (0.9.2)</th>"));
    let json: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(json["verdicts"][0]["by_writer"].as_array().unwrap().len(), 3);
    assert_eq!(json["skipped"], 1);
}

#[test]
fn old_stores_with_subject_only_map_to_writers() {
    // `ours` measured three times per cell, `reference` once: too few runs for it.
    let mut lines = vec![header(None)];
    for cells in [10_000u64, 20_000] {
        for rep in 1..=3 {
            lines.push(sample(Who::Subject("ours"), cells, 1_000, rep, cells as f64 * 1e-5, true));
        }
        lines.push(sample(Who::Subject("reference"), cells, 1_000, 1, cells as f64 * 1e-4, false));
    }
    let results = Results::new(vec![store(lines)]);
    assert!(results.samples().all(|s| s.writer == BENCH || s.writer == PY));
    let r = report(&results, &[], None);
    let names: Vec<&str> = r.writers.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, [BENCH, PY]);
    assert_eq!(r.verdict("genes-time-linear-cells", BENCH).unwrap().outcome, Outcome::Holds);
    let j = r.verdict("genes-time-linear-cells", PY).unwrap();
    assert_eq!(j.outcome, Outcome::NotMeasured);
    assert!(j.evidence.contains("too few runs"), "{}", j.evidence);
    let t = table(&r, "writers");
    assert_eq!(t.rows.len(), 4);
    let speed = col(t, "speed-up vs cellucid-bench [95 % CI]");
    assert!(t.rows.iter().filter(|row| row[2].text == PY).all(|row| row[speed].text.starts_with("n<3")));
}

#[test]
fn committed_measurement_store_still_renders() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/measurements/2026-12-01");
    let stores = ["guide.jsonl", "filesystems.jsonl"].iter().map(|f| Store::read(&dir.join(f)).unwrap()).collect();
    let results = Results::new(stores);
    let r = report(&results, &[], None);
    let names: Vec<&str> = r.writers.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, [BENCH, PY], "the old store's `ours` and `reference`");
    let judged = |w: &str| {
        r.verdicts.iter().filter(|v| r.verdict(&v.id, w).is_some_and(|j| j.outcome != Outcome::NotMeasured)).count()
    };
    assert!(judged(BENCH) >= 20, "{}", judged(BENCH));
    assert!(judged(PY) >= 1, "the reference's cells are judged too");
    // The reference ran 8 cells (10k and 50k cells × f32/q8 × plain/gzip 6 on disk),
    // each beside ours.
    let t = table(&r, "writers");
    assert_eq!(t.rows.iter().filter(|row| row[2].text == PY).count(), 8);
    assert_eq!(t.rows.iter().filter(|row| row[2].text == BENCH).count(), 8);
    let dir = tempfile::tempdir().unwrap();
    cellucid_reports::export::write_all(&r, dir.path()).unwrap();
}

#[test]
fn a_merged_store_names_every_machine_and_commit_of_its_shards() {
    let mut h = header(Some(&[BENCH]));
    h["git_commit"] = json!("a".repeat(40));
    h["git_commits"] = json!(["a".repeat(40), format!("{}-dirty", "b".repeat(40))]);
    let other = json!({"cpu_model": "Other CPU", "cores": 2, "memory_bytes": 24_000_000_000u64, "kernel": "6", "os": "Linux", "hostname": "u"});
    h["machines"] = json!([h["machine"].clone(), other]);
    let lines = vec![h, sample(Who::Writer(BENCH), 10_000, 1_000, 1, 0.1, true)];
    let r = report(&Results::new(vec![store(lines)]), &[], None);
    assert!(r.machine.contains("Test CPU") && r.machine.contains("Other CPU"), "{}", r.machine);
    assert_eq!(r.commits, "aaaaaaaaaa, bbbbbbbbbb-dirty");
    let md = cellucid_reports::export::markdown::render(&r);
    assert!(md.contains("Built from: aaaaaaaaaa, bbbbbbbbbb-dirty."), "{}", &md[..300]);
}

#[test]
fn runs_faster_than_their_cells_floor_are_shown_as_measured_and_counted() {
    let mut lines = vec![header(Some(&[BENCH, PY]))];
    // The floor measured beside each run (create bound 0.3, 0.2, 0.25 s): the cell's
    // floor is 0.2 s; ours' runs take 0.1 s (200 %), the reference's 1 s (20 %).
    for (rep, this) in [(1u32, 0.3), (2, 0.2), (3, 0.25)] {
        for (w, wall) in [(BENCH, 0.1), (PY, 1.0)] {
            let mut s = sample(Who::Writer(w), 10_000, 1_000, rep, wall, false);
            s["floor"] = json!({"codec_s": 0.01, "create_s": this, "seq_write_s": 0.01, "floor_s": this, "runs": rep,
                "this_run": {"codec_s": 0.01, "create_s": this, "seq_write_s": 0.01, "floor_s": this}});
            lines.push(s);
        }
    }
    let r = report(&Results::new(vec![store(lines)]), &[], None);
    let t = table(&r, "writers");
    let (writer, eff) = (col(t, "writer"), col(t, "% of floor"));
    let of =
        |w: &str| t.rows.iter().find(|row| row[writer].text == w).and_then(|row| row[eff].value).unwrap_or(f64::NAN);
    assert!((of(BENCH) - 200.0).abs() < 1e-6, "not capped at 100: {}", of(BENCH));
    assert!((of(PY) - 20.0).abs() < 1e-6, "{}", of(PY));
    assert!(
        t.notes.iter().any(|n| n.starts_with("3 of 6 runs were measured faster") && n.contains("200 %")),
        "{:?}",
        t.notes
    );
}
