//! `cellucid-bench scenario stale-export` with the real binary and the built-in writers
//! (the reference when its virtualenv exists): A, then B over it with force off, then
//! on. Our exporter must refuse with force off (A untouched) and give exactly B with
//! force on; the records must say so, in a store the report reads and judges.

mod support;

use cellucid_reports::model::{Results, Store};
use cellucid_reports::recommend::Budget;
use cellucid_reports::verdicts::Outcome;
use serde_json::Value;
use std::path::{Path, PathBuf};
use support::{bin, stderr};

const BENCH: &str = "cellucid-bench";
const PY: &str = "cellucid-py-0.9.2";

/// The reference's interpreter: `$CELLUCID_PEER_VENV`, else `.venv-peer` in the checkout.
fn peer_python() -> Option<PathBuf> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("repo").to_path_buf();
    let venv = std::env::var_os("CELLUCID_PEER_VENV").map(PathBuf::from).unwrap_or_else(|| repo.join(".venv-peer"));
    let python = venv.join("bin/python");
    if python.exists() {
        Some(python)
    } else {
        eprintln!("the reference is left out: no virtualenv at {} (set CELLUCID_PEER_VENV, or run `bash ../shared/peer/setup.sh .venv-peer`)", venv.display());
        None
    }
}

fn record<'s>(store: &'s Store, writer: &str, force: bool) -> &'s Value {
    let r = store.scenarios.iter().find(|r| r.writer == writer && r.data["force"] == force);
    &r.unwrap_or_else(|| panic!("no record of {writer} with force {force}")).data
}

fn count(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("{key} is not a count in {v}"))
}

#[test]
fn each_writer_refuses_without_force_and_replaces_with_it() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("stale.jsonl");
    let mut cmd = bin();
    cmd.args(["scenario", "stale-export", "--writer", BENCH]).arg("--out").arg(&out).arg("--work-dir").arg(tmp.path().join("work"));
    let mut writers = vec![BENCH];
    if let Some(python) = peer_python() {
        cmd.args(["--writer", PY]).arg("--peer-python").arg(python);
        writers.push(PY);
    }
    let o = cmd.output().expect("run scenario");
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    for w in &writers {
        for step in ["export A alone ... ok", "export B alone ... ok", "export A ... ok", "export B over A, force off ... exit ", "export B over A, force on ... exit 0"] {
            assert!(err.contains(&format!("stale-export {w}: {step}")), "no progress line {w}: {step} in\n{err}");
        }
    }

    let store = Store::read(&out).expect("the report reads the store");
    assert_eq!(store.header.plan, "scenario:stale-export");
    assert_eq!(store.header.writers.iter().map(|w| w.name.as_str()).collect::<Vec<_>>(), writers);
    assert_eq!((store.scenarios.len(), store.samples.len(), store.failed), (2 * writers.len(), 0, 0));
    for w in &writers {
        let off = record(&store, w, false);
        assert_eq!(off["target"], "disk", "{off}");
        assert!(off["exit_status"].as_i64().is_some_and(|c| c != 0), "{w} must refuse without force: {off}");
        let message = off["message"].as_str().unwrap_or_default();
        assert!(message.starts_with("error:") && message.contains("Refusing to replace non-empty export directory"), "{w}: {message}");
        assert_eq!(off["folder_equals"], "A", "{w} must leave A untouched: {off}");
        assert_eq!(count(off, "files_from_B") + count(off, "files_neither"), 0, "{off}");
        assert!(count(off, "files_from_A") > 0 && count(off, "files_from_A") + count(off, "files_in_both") == count(off, "files"), "{off}");
        assert_eq!((off["validate_problems"].as_u64(), off["a_reproducible"].as_bool()), (Some(0), Some(true)), "{off}");

        let on = record(&store, w, true);
        assert_eq!(on["exit_status"], 0, "{on}");
        assert_eq!(on["folder_equals"], "B", "{w} must give exactly B with force: {on}");
        assert_eq!(count(on, "files_from_A") + count(on, "files_neither") + count(on, "files_of_B_missing"), 0, "{on}");
        assert_eq!(on["validate_problems"].as_u64(), Some(0), "{on}");
        assert!(on["finished_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{on}");
    }

    let report = cellucid_reports::build(&Results::new(vec![store]), &cellucid_reports::Options::new(Budget::default())).expect("report");
    for w in &writers {
        let v = report.verdict("stale-export", w).expect("judged");
        assert_eq!(v.outcome, Outcome::DoesNotHold, "{w}: {}", v.evidence);
        assert!(v.evidence.contains("force off refuses") && v.evidence.contains("exactly B"), "{}", v.evidence);
    }

    // A store is written by one run: a second one into it is refused, the store intact.
    let before = std::fs::read(&out).expect("store");
    let again = bin()
        .args(["scenario", "stale-export", "--writer", BENCH])
        .arg("--out")
        .arg(&out)
        .arg("--work-dir")
        .arg(tmp.path().join("work"))
        .output()
        .expect("run again");
    assert!(!again.status.success() && stderr(&again).contains("already exists"), "{}", stderr(&again));
    assert_eq!(std::fs::read(&out).expect("store"), before);
}

#[test]
fn unknown_scenarios_and_writers_that_cannot_run_are_one_line_errors() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("s.jsonl");
    let run = |args: &[&str]| {
        let o = bin().args(args).arg("--out").arg(&out).arg("--work-dir").arg(tmp.path().join("work")).output().expect("run");
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let err = stderr(&o);
        assert_eq!(err.trim_end().lines().last().map(|l| l.starts_with("error: ")), Some(true), "{err}");
        err
    };
    let e = run(&["scenario", "stale"]);
    assert!(e.contains("no scenario \"stale\"") && e.contains("stale-export"), "{e}");
    let e = run(&["scenario", "stale-export", "--writer", "nope"]);
    assert!(e.contains("no writer \"nope\""), "{e}");
    let e = run(&["scenario", "stale-export", "--writer", PY, "--peer-python", "/nonexistent/venv/bin/python"]);
    assert!(e.contains("cannot run /nonexistent/venv/bin/python: no such file"), "{e}");
    assert!(!out.exists(), "nothing is stored when no scenario ran");
}
