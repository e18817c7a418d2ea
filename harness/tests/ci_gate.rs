//! A short A/A smoke test of the CI gate (`cellucid-bench ci`): this binary against
//! itself on a tiny plan must pass (exit 0) with identical outputs and print the
//! Markdown table; the same gate with an impossible threshold setup is not needed here —
//! the statistics and the exact gates have unit tests in `src/ci/`.

use std::process::Command;

const PLAN: &str = r#"
name = "ci-smoke"
description = "two tiny configurations on the disk target, 3 A/B pairs"
seed = 3
repeats = 3
warmup = 0
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

#[test]
fn a_binary_against_itself_passes_with_a_markdown_table() {
    let bin = env!("CARGO_BIN_EXE_cellucid-bench");
    let dir = tempfile::tempdir().expect("tmp");
    let plan = dir.path().join("smoke.toml");
    std::fs::write(&plan, PLAN).expect("write plan");
    let summary = dir.path().join("step-summary.md");
    let out = Command::new(bin)
        .args(["ci", "--baseline", bin, "--candidate", bin, "--quiet", "--plan"])
        .arg(&plan)
        .arg("--work-dir")
        .arg(dir.path().join("work"))
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .expect("run the gate");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.starts_with("## cellucid-bench CI gate: PASS"), "{stdout}");
    assert!(stdout.contains("| configuration | baseline s | candidate s | change | 95 % interval | output | verdict |"), "{stdout}");
    let rows: Vec<&str> = stdout.lines().filter(|l| l.starts_with("| 600x40")).collect();
    assert_eq!(rows.len(), 2, "{stdout}");
    assert!(rows.iter().all(|r| r.contains("| identical | pass |")), "{stdout}");
    assert!(stdout.contains("3 timed A/B pairs each"), "{stdout}");
    // The same Markdown went to the GitHub step summary.
    let written = std::fs::read_to_string(&summary).expect("step summary");
    assert!(written.contains("## cellucid-bench CI gate: PASS"), "{written}");

    // --json: machine-readable, same verdict.
    let out = Command::new(bin)
        .args(["ci", "--baseline", bin, "--quiet", "--json", "--repeats", "2", "--plan"])
        .arg(&plan)
        .arg("--work-dir")
        .arg(dir.path().join("work"))
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .expect("run the gate");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["pass"], true);
    assert_eq!(v["configurations"].as_array().map(Vec::len), Some(2));
    assert_eq!(v["configurations"][0]["pairs"], 2);
    assert_eq!(v["configurations"][0]["format_changes"].as_array().map(Vec::len), Some(0));
}
