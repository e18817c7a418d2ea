//! The `cellucid-bench` binary end to end: the 12 golden cases from their `input.h5ad`
//! and `params.json`, the real PBMC dataset, and malformed inputs (one clear line on
//! stderr, a non-zero exit, nothing written).

mod support;

use support::{bin, shared, stderr};
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn peer_python() -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("repo").to_path_buf();
    let candidates: Vec<PathBuf> = match std::env::var_os("CELLUCID_PEER_VENV") {
        Some(v) => vec![PathBuf::from(v)],
        None => vec![repo.join(".venv-peer"), PathBuf::from("/work/.venv-peer")],
    };
    candidates
        .iter()
        .map(|v| v.join("bin/python"))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("no peer venv in {candidates:?}: run `bash ../shared/peer/setup.sh .venv-peer`"))
}

fn expected_dirs(case: &Path) -> BTreeSet<String> {
    let tree: serde_json::Value = serde_json::from_slice(&fs::read(case.join("expected_tree.json")).expect("tree")).expect("json");
    tree["directories"].as_array().expect("dirs").iter().map(|d| d["path"].as_str().expect("path").to_string()).collect()
}

#[test]
fn golden_cases_through_the_cli_from_h5ad() {
    let mut cases: Vec<PathBuf> = fs::read_dir(shared().join("golden"))
        .expect("golden")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("input.h5ad").exists())
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 12);
    let mut failures = Vec::new();
    for case in &cases {
        let tmp = tempfile::tempdir().expect("tmp");
        let out = tmp.path().join("expected");
        let o = bin().arg("export").arg(case.join("input.h5ad")).arg(&out).arg("--params").arg(case.join("params.json")).arg("--quiet").output().expect("run");
        let name = case.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if !o.status.success() {
            failures.push(format!("{name}: exit {:?}: {}", o.status.code(), stderr(&o)));
            continue;
        }
        let diffs = cellucid_core::compare::compare_folders(&case.join("expected"), &out, Some(&expected_dirs(case)));
        if !diffs.is_empty() {
            failures.push(format!("{name}: {}", diffs.join("; ")));
        }
    }
    println!("CLI from h5ad: {}/{} golden cases match", cases.len() - failures.len(), cases.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn pbmc68k_exports_at_q8_gzip6_and_validates() {
    let input = shared().join("data/pbmc68k_reduced.h5ad");
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("pbmc");
    let o = bin()
        .args(["export"])
        .arg(&input)
        .arg(&out)
        .args(["--var-quantization", "8", "--obs-continuous-quantization", "8", "--compression", "6", "--json"])
        .output()
        .expect("run");
    assert!(o.status.success(), "export failed: {}", stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).expect("--json prints the report");
    assert_eq!(report["n_cells"], 700);
    assert_eq!(report["n_genes"], 765);
    assert!(report["n_edges"].as_u64().expect("edges") > 0, "connectivities were exported");
    let v = bin().arg("validate").arg(&out).output().expect("validate");
    assert!(v.status.success(), "validate: {}", String::from_utf8_lossy(&v.stdout));
    let identity: serde_json::Value = serde_json::from_slice(&fs::read(out.join("dataset_identity.json")).expect("identity")).expect("json");
    assert_eq!(identity["embeddings"]["available_dimensions"], serde_json::json!([2]));
    assert_eq!(identity["id"], "pbmc68k_reduced");
    assert!(identity["stats"]["n_categorical_fields"].as_u64().expect("cats") >= 2);
}

/// Run an export that must fail: non-zero exit, one `error:` line naming `needle`, and
/// no out_dir.
fn assert_refused(input: &Path, extra: &[&str], needle: &str) {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("out");
    let o = bin().arg("export").arg(input).arg(&out).args(extra).arg("--quiet").output().expect("run");
    let err = stderr(&o);
    assert!(!o.status.success(), "expected a refusal for {}", input.display());
    assert_eq!(err.trim_end().lines().count(), 1, "one line on stderr, got: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(needle), "error should name {needle:?}: {err}");
    assert!(!out.exists(), "nothing may be written");
}

/// A copy of golden case02's h5ad, modified by a short h5py snippet.
fn modified_h5ad(dir: &Path, snippet: &str) -> PathBuf {
    let src = shared().join("golden/case02_csr_q8_gz6_graph/input.h5ad");
    let dst = dir.join("input.h5ad");
    fs::copy(&src, &dst).expect("copy");
    let script = format!("import h5py, numpy as np, sys\nf = h5py.File(sys.argv[1], 'r+')\n{snippet}\nf.close()\n");
    let o = Command::new(peer_python()).arg("-c").arg(script).arg(&dst).output().expect("python");
    assert!(o.status.success(), "h5py: {}", stderr(&o));
    dst
}

fn case02_params() -> PathBuf {
    shared().join("golden/case02_csr_q8_gz6_graph/params.json")
}

#[test]
fn malformed_inputs_are_refused_cleanly() {
    let tmp = tempfile::tempdir().expect("tmp");
    let params = case02_params();
    let p = params.to_str().expect("utf-8 path");

    // A truncated file.
    let src = shared().join("golden/case02_csr_q8_gz6_graph/input.h5ad");
    let bytes = fs::read(&src).expect("read");
    let truncated = tmp.path().join("truncated.h5ad");
    fs::write(&truncated, &bytes[..bytes.len() / 2]).expect("write");
    assert_refused(&truncated, &["--params", p], "truncated.h5ad");

    // A missing obsm key.
    assert_refused(&src, &["--params", p, "--latent", "obsm/X_nope"], "obsm/X_nope");

    // X with the wrong shape.
    let d = tmp.path().join("shape");
    fs::create_dir(&d).expect("mkdir");
    let bad = modified_h5ad(&d, "f['X'].attrs['shape'] = np.array([150, 11])");
    assert_refused(&bad, &["--params", p], "X");

    // A categorical code out of range.
    let d = tmp.path().join("codes");
    fs::create_dir(&d).expect("mkdir");
    let bad = modified_h5ad(&d, "c = f['obs/cluster/codes']; v = c[...]; v[7] = 9; c[...] = v");
    assert_refused(&bad, &["--params", p], "cluster");

    // A non-symmetric graph.
    let d = tmp.path().join("graph");
    fs::create_dir(&d).expect("mkdir");
    let bad = modified_h5ad(&d, "g = f['obsp/connectivities/data']; v = g[...]; v[0] = v[0] * 2; g[...] = v");
    assert_refused(&bad, &["--params", p], "symmetric");
}

#[test]
fn validate_reports_problems_with_exit_1() {
    let case = shared().join("golden/case02_csr_q8_gz6_graph");
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("e");
    let o = bin().arg("export").arg(case.join("input.h5ad")).arg(&out).arg("--params").arg(case.join("params.json")).arg("--quiet").output().expect("run");
    assert!(o.status.success(), "{}", stderr(&o));
    let ok = bin().arg("validate").arg(&out).output().expect("validate");
    assert_eq!(ok.status.code(), Some(0));
    fs::write(out.join("var/3.values.u8.gz"), b"not gzip").expect("corrupt");
    let bad = bin().arg("validate").arg(&out).output().expect("validate");
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stdout).contains("var/3.values.u8.gz"));
}

#[test]
fn params_with_the_wrong_json_type_get_the_references_message() {
    let case = shared().join("golden/case02_csr_q8_gz6_graph");
    let tmp = tempfile::tempdir().expect("tmp");
    let mut params: serde_json::Value = serde_json::from_slice(&fs::read(case.join("params.json")).expect("params")).expect("json");
    params["compression"] = serde_json::json!(6.0);
    let pf = tmp.path().join("params.json");
    fs::write(&pf, params.to_string()).expect("write");
    assert_refused(&case.join("input.h5ad"), &["--params", pf.to_str().expect("utf-8")], "compression must be None or one integer from 1 to 9.");
}

#[test]
fn compare_runs_both_writers_and_checks_their_outputs_agree() {
    let case = shared().join("golden/case02_csr_q8_gz6_graph");
    let setting = format!("case02={}", case.join("params.json").display());
    let o = bin()
        .arg("compare")
        .arg(case.join("input.h5ad"))
        .args(["--setting", &setting, "--repeats", "1", "--peer-python"])
        .arg(peer_python())
        .arg("--peer-script")
        .arg(shared().join("peer/cellucid_prepare_092.py"))
        .output()
        .expect("run compare");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "compare failed: {}\n{out}", stderr(&o));
    assert!(out.contains("| case02 | cellucid-bench |") && out.contains("| case02 | cellucid-py-0.9.2 |"), "{out}");
    assert!(out.contains("is equivalent to cellucid-bench's"), "{out}");
}
