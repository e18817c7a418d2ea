//! Smoke tests of the CI gate (`cellucid-bench ci`) end to end, with real child processes:
//! this binary against itself passes (exit 0, identical outputs, the Markdown table and
//! the step summary, `--json`); a candidate that is grossly slower fails as SLOWER; a
//! candidate that writes one more file fails as a FORMAT CHANGE.
//!
//! **Why a 50 % threshold here.** These tests check the gate's machinery, not its
//! statistics: those have unit tests in `src/ci/` and are calibrated on the real `ci`
//! plan by `scripts/calibrate-gate.sh` (false alarms on A/A, detections of a 10 %
//! slowdown; README "A CI gate for export speed"). The smoke plan's exports take about
//! 40 ms, and with so few pairs the bootstrap interval's lower end is the smallest pair
//! ratio, so the gate says SLOWER exactly when *every* pair's candidate run was slower
//! than the threshold allows. With the default 10 % a machine loaded by other work did
//! that once (three pairs at +13 … +30 %): a 40 ms run is a handful of scheduler time
//! slices, and load does not hit both runs of a pair alike. A 50 % threshold over five
//! pairs cannot be crossed by load on an A/A run in practice (shown with both cores
//! loaded by `stress-ng --cpu 2`: 20 runs, 0 failures), while a candidate that sleeps
//! 0.5 s before exporting still fails every pair by a wide margin — so the speed path of
//! the gate is still shown to fail when it should.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const PLAN: &str = r#"
name = "ci-smoke"
description = "two tiny configurations on the disk target, 5 A/B pairs after one warm-up round"
seed = 3
repeats = 5
warmup = 1
mode = "list"

[axes]
density = 0.1
target = "disk"
subject = "ours"

[[cell]]
name = "tiny-q8-gz1"
cells = 600
genes = 40
var_quantization = 8
compression = 1

[[cell]]
name = "tiny-f32"
cells = 600
genes = 40
var_quantization = "none"
compression = "none"
"#;

/// The smoke tests' threshold (see the module doc).
const SMOKE_THRESHOLD: &str = "50%";

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_cellucid-bench")
}

fn write_plan(dir: &Path) -> PathBuf {
    let plan = dir.join("smoke.toml");
    std::fs::write(&plan, PLAN).expect("write plan");
    plan
}

/// A shell script standing in for a candidate binary: `body` runs with `$BIN` set to the
/// real binary and the export's arguments in `$@` (`export INPUT OUT …`).
fn wrapper(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\nBIN='{}'\n{body}\n", bin())).expect("write wrapper");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod wrapper");
    path
}

/// Runs the gate on the smoke plan with `extra` arguments; no step summary.
fn gate(dir: &Path, candidate: &Path, extra: &[&str]) -> Output {
    Command::new(bin())
        .args(["ci", "--baseline", bin(), "--quiet", "--threshold", SMOKE_THRESHOLD, "--candidate"])
        .arg(candidate)
        .arg("--plan")
        .arg(write_plan(dir))
        .arg("--work-dir")
        .arg(dir.join("work"))
        .args(extra)
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .expect("run the gate")
}

fn show(o: &Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn a_binary_against_itself_passes_with_a_markdown_table() {
    let dir = tempfile::tempdir().expect("tmp");
    let plan = write_plan(dir.path());
    let summary = dir.path().join("step-summary.md");
    let out = Command::new(bin())
        .args(["ci", "--baseline", bin(), "--candidate", bin(), "--quiet", "--threshold", SMOKE_THRESHOLD, "--plan"])
        .arg(&plan)
        .arg("--work-dir")
        .arg(dir.path().join("work"))
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .expect("run the gate");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(stdout.starts_with("## cellucid-bench CI gate: PASS"), "{stdout}");
    assert!(stdout.contains("| configuration | baseline s | candidate s | change | 95 % interval | output | verdict |"), "{stdout}");
    let rows: Vec<&str> = stdout.lines().filter(|l| l.starts_with("| 600x40")).collect();
    assert_eq!(rows.len(), 2, "{stdout}");
    // The exact gates hold whatever the load: the same binary writes the same bytes.
    assert!(rows.iter().all(|r| r.contains("| identical | pass |")), "{stdout}");
    assert!(stdout.contains("5 timed A/B pairs each"), "{stdout}");
    // The same Markdown went to the GitHub step summary.
    let written = std::fs::read_to_string(&summary).expect("step summary");
    assert!(written.contains("## cellucid-bench CI gate: PASS"), "{written}");

    // --json: machine-readable, same verdict.
    let out = gate(dir.path(), Path::new(bin()), &["--json", "--repeats", "2"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["pass"], true);
    assert_eq!(v["configurations"].as_array().map(Vec::len), Some(2));
    assert_eq!(v["configurations"][0]["pairs"], 2);
    assert_eq!(v["configurations"][0]["format_changes"].as_array().map(Vec::len), Some(0));
}

#[test]
fn a_grossly_slower_candidate_fails_as_slower() {
    let dir = tempfile::tempdir().expect("tmp");
    // Half a second before each ~40 ms export: every pair is several times slower, far
    // beyond the 50 % threshold even when load makes the baseline's export 10× slower.
    let slow = wrapper(dir.path(), "slow-candidate", "sleep 0.5\nexec \"$BIN\" \"$@\"");
    let out = gate(dir.path(), &slow, &["--repeats", "3", "--warmup", "0"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(stdout.starts_with("## cellucid-bench CI gate: FAIL"), "{stdout}");
    let rows: Vec<&str> = stdout.lines().filter(|l| l.starts_with("| 600x40")).collect();
    assert_eq!(rows.len(), 2, "{stdout}");
    // Slower, but the output is the same binary's: identical.
    assert!(rows.iter().all(|r| r.contains("| identical | SLOWER |")), "{stdout}");
}

#[test]
fn a_candidate_writing_one_more_file_fails_as_a_format_change() {
    let dir = tempfile::tempdir().expect("tmp");
    // $3 is the export's out_dir (`export INPUT OUT --params …`).
    let extra_file = wrapper(dir.path(), "extra-file-candidate", "\"$BIN\" \"$@\" || exit $?\necho extra > \"$3/extra.txt\"");
    let out = gate(dir.path(), &extra_file, &["--repeats", "1", "--warmup", "0"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(stdout.starts_with("## cellucid-bench CI gate: FAIL"), "{stdout}");
    let rows: Vec<&str> = stdout.lines().filter(|l| l.starts_with("| 600x40")).collect();
    assert_eq!(rows.len(), 2, "{stdout}");
    assert!(rows.iter().all(|r| r.contains("FORMAT CHANGE")), "{stdout}");
    assert!(stdout.contains("files "), "the report names what changed: {stdout}");
}
