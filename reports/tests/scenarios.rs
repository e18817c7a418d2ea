//! Scenario stores beside a sweep store: the scenario-judged rules in the verdict matrix
//! (judged from each writer's records, "not measured" with the reason otherwise), one
//! table per scenario in every format, and the old store alone unchanged.

use cellucid_reports::model::{Results, Store};
use cellucid_reports::recommend::Budget;
use cellucid_reports::verdicts::Outcome;
use cellucid_reports::{build, Options, Report};
use serde_json::{json, Value};
use std::path::Path;

const BENCH: &str = "cellucid-bench";
const PY: &str = "cellucid-py-0.9.2";
const OLD: &str = "cellucid-py-0.0.9";

fn quick() -> Store {
    Store::read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/quick.jsonl")).expect("quick store")
}

fn record(writer: &str, force: bool, exit: i64, message: &str, equals: &str) -> Value {
    let (a, b) = match equals {
        "A" => (52, 0),
        "B" => (0, 52),
        _ => (40, 12),
    };
    json!({
        "scenario": "stale-export", "writer": writer, "target": "disk", "fs_type": "ext4", "output": "compact_v1",
        "force": force, "exit_status": exit, "signal": null, "message": message, "folder_equals": equals,
        "files": 52, "files_from_A": a, "files_from_B": b, "files_in_both": 0, "files_neither": 0, "files_of_B_missing": 52 - b,
        "validate_problems": 0, "validate_first_problem": null, "a_reproducible": true, "beside_out": [],
        "finished_at": "2026-12-02T07:00:00Z",
    })
}

/// Ours refuses and replaces; the guide-era writer skips the files it finds.
fn scenario_store() -> Store {
    let header = json!({
        "format": "cellucid-bench-results", "version": 1, "plan": "scenario:stale-export", "started": "2026-12-02T07:00:00Z",
        "machine": {"cpu_model": "AMD EPYC", "cores": 2, "memory_bytes": 24_000_000_000u64, "os": "Linux"},
        "writers": [{"name": BENCH, "version": "0.1.0", "output": "compact_v1"}, {"name": OLD, "version": "0.0.9", "output": "compact_v1"}],
    });
    let refusal = "error: FileExistsError: out_dir: Refusing to replace non-empty export directory /w/out. Pass force=True to publish a complete replacement generation.";
    let lines = [
        header,
        record(BENCH, false, 1, refusal, "A"),
        record(BENCH, true, 0, "", "B"),
        record(OLD, false, 0, "", "mix"),
        record(OLD, true, 0, "", "B"),
    ];
    Store::parse(&lines.iter().map(|l| l.to_string() + "\n").collect::<String>()).expect("scenario store")
}

fn report(stores: Vec<Store>, writers: &[&str]) -> Report {
    let options = Options { budget: Budget::default(), writers: writers.iter().map(|w| w.to_string()).collect(), baseline: None };
    build(&Results::new(stores), &options).expect("report")
}

#[test]
fn stale_export_is_judged_per_writer_from_its_records() {
    let r = report(vec![quick(), scenario_store()], &[]);
    let names: Vec<&str> = r.writers.iter().map(|w| w.name.as_str()).collect();
    // Writers the headers declare first (the old quick store declares none).
    assert_eq!(names, [BENCH, OLD, PY], "a writer with scenario records only is reported on");
    let ours = r.verdict("stale-export", BENCH).expect("ours");
    assert_eq!(ours.outcome, Outcome::DoesNotHold, "{}", ours.evidence);
    assert!(ours.evidence.contains("“error: FileExistsError: out_dir: Refusing to replace"), "{}", ours.evidence);
    let old = r.verdict("stale-export", OLD).expect("0.0.9");
    assert_eq!(old.outcome, Outcome::Holds, "{}", old.evidence);
    assert!(old.evidence.contains("exits 0 yet leaves a mix of A and B"), "{}", old.evidence);
    // The reference has sweep runs but no records: the scenario's reason, not "no runs".
    let py = r.verdict("stale-export", PY).expect("0.9.2");
    assert_eq!(py.outcome, Outcome::NotMeasured);
    assert!(py.evidence.contains("cellucid-bench scenario stale-export"), "{}", py.evidence);
    let limits = r.verdict("too-many-files", OLD).expect("0.0.9");
    assert!(limits.evidence.contains("file-count limit"), "{}", limits.evidence);
}

#[test]
fn each_scenario_has_a_table_in_every_format() {
    let r = report(vec![quick(), scenario_store()], &[]);
    let t = r.tables.iter().find(|t| t.id == "scenario-stale-export").expect("scenario table");
    assert_eq!(t.rows.len(), 4);
    assert_eq!(&t.columns[..2], ["writer", "target"]);
    let col = |name: &str| t.columns.iter().position(|c| c == name).unwrap_or_else(|| panic!("no column {name}: {:?}", t.columns));
    assert!(!t.columns.iter().any(|c| c == "finished_at" || c == "scenario"));
    assert_eq!(t.rows[0][0].text, BENCH);
    assert_eq!((t.rows[0][col("force")].text.as_str(), t.rows[0][col("folder_equals")].text.as_str()), ("no", "A"));
    assert_eq!(t.rows[1][col("exit_status")].value, Some(0.0));
    assert_eq!(t.rows[2][col("folder_equals")].text, "mix");
    assert!(t.guide.contains("force=FALSE"));
    let md = cellucid_reports::export::markdown::render(&r);
    assert!(md.contains("### Scenario stale-export") && md.contains("| `stale-export` |"), "markdown");
    let html = cellucid_reports::export::html::render(&r).expect("html");
    assert!(html.contains("id=\"table-scenario-stale-export\""), "html");
    // `--writer` narrows the records too.
    let only = report(vec![quick(), scenario_store()], &[BENCH]);
    let t = only.tables.iter().find(|t| t.id == "scenario-stale-export").expect("table");
    assert_eq!(t.rows.len(), 2);
}

#[test]
fn a_sweep_store_alone_renders_as_before_with_the_new_rule_not_measured() {
    let r = report(vec![quick()], &[]);
    assert!(!r.tables.iter().any(|t| t.id.starts_with("scenario-")));
    let v = r.verdict("stale-export", BENCH).expect("the rule is in the matrix");
    assert_eq!(v.outcome, Outcome::NotMeasured);
    assert_eq!(r.verdict("avoid-cloud-sync", PY).expect("rule").outcome, Outcome::NotMeasured);
}
