//! Conformance: every golden case, replayed from its raw `inputs/` through `export()`,
//! must reproduce cellucid 0.9.2's `expected/` folder (JSON and raw payloads byte for
//! byte; each `.gz` one member with the same header and decompressed bytes), and the
//! result must pass `validate()`.

mod support;

use cellucid_core::{export, validate, GzipBackend};
use cellucid_datasets::golden;
use std::path::Path;
use support::built::{export_built, Exporter};
use support::tree::{compare, golden_cases};

fn run_case(case: &Path, backend: GzipBackend, exporter: Exporter) -> Vec<String> {
    let ds = golden::load_dataset(case).unwrap_or_else(|e| panic!("{}: {e}", case.display()));
    let mut options = golden::export_options(case).unwrap_or_else(|e| panic!("{}: {e}", case.display()));
    options.gzip_backend = backend;
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("expected");
    let mut problems = Vec::new();
    match exporter(&ds, &options, &out) {
        Ok(report) => {
            problems.extend(compare(case, &out));
            let v = validate(&out);
            problems.extend(v.problems.iter().map(|p| format!("validate: {}: {}: {}", p.file, p.field, p.message)));
            if report.files_written == 0 {
                problems.push("report counts no files".into());
            }
        }
        Err(e) => problems.push(format!("export failed: {e}")),
    }
    problems
}

fn check_all(backend: GzipBackend) {
    check_all_with(backend, export);
}

fn check_all_with(backend: GzipBackend, exporter: Exporter) {
    let cases = golden_cases();
    assert_eq!(cases.len(), 12, "expected 12 golden cases");
    let mut failed = Vec::new();
    for case in &cases {
        let problems = run_case(case, backend, exporter);
        if !problems.is_empty() {
            let name = case.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            failed.push(format!("{name}:\n  {}", problems.join("\n  ")));
        }
    }
    let ok = cases.len() - failed.len();
    println!("conformance ({backend:?}): {ok}/{} golden cases match", cases.len());
    assert!(failed.is_empty(), "{ok}/{} golden cases match; failures:\n{}", cases.len(), failed.join("\n"));
}

#[test]
fn golden_cases_match_with_the_default_backend() {
    check_all(GzipBackend::default());
}

#[test]
fn golden_cases_match_with_every_other_backend() {
    for b in [GzipBackend::ZlibRs, GzipBackend::Libdeflate, GzipBackend::Miniz] {
        if b != GzipBackend::default() {
            check_all(b);
        }
    }
}

/// The Python package's way in: the matrix built beside the other inputs' checks.
#[test]
fn golden_cases_match_with_the_matrix_built_beside_the_checks() {
    check_all_with(GzipBackend::default(), export_built);
}
