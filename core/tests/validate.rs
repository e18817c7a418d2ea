//! `validate()` against the golden folders written by cellucid 0.9.2, and against
//! copies of them broken one rule at a time.
//!
//! The golden set lives in `shared/golden` beside the repository (override with `CELLUCID_SHARED`).
//! Git dropped the empty directories of `expected/`, so each copy recreates those
//! flagged `"empty": true` in `expected_tree.json`.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use cellucid_core::{validate, ValidationReport};
use flate2::{read::GzDecoder, write::GzEncoder, Compression};
use serde_json::Value;
use tempfile::TempDir;

mod support;

fn golden_root() -> PathBuf {
    let root = support::tree::shared_dir().join("golden");
    assert!(root.is_dir(), "golden set not found at {} (set CELLUCID_SHARED)", root.display());
    root
}

fn case_names() -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(golden_root())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("case"))
        .collect();
    names.sort();
    names
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A copy of `case`'s `expected/` folder with its empty directories recreated.
fn golden_copy(case: &str) -> (TempDir, PathBuf) {
    let case_dir = golden_root().join(case);
    let tmp = TempDir::new().unwrap();
    let out = tmp.path().join("export");
    copy_tree(&case_dir.join("expected"), &out);
    let tree: Value = serde_json::from_str(&fs::read_to_string(case_dir.join("expected_tree.json")).unwrap()).unwrap();
    for d in tree["directories"].as_array().unwrap() {
        if d["empty"] == Value::Bool(true) {
            fs::create_dir_all(out.join(d["path"].as_str().unwrap())).unwrap();
        }
    }
    (tmp, out)
}

fn expected_file_count(case: &str) -> usize {
    let text = fs::read_to_string(golden_root().join(case).join("expected_tree.json")).unwrap();
    let tree: Value = serde_json::from_str(&text).unwrap();
    tree["files"].as_array().unwrap().len()
}

/// Validates a golden copy after `mutate` edited it.
fn mutated(case: &str, mutate: impl FnOnce(&Path)) -> ValidationReport {
    let (_tmp, dir) = golden_copy(case);
    mutate(&dir);
    validate(&dir)
}

/// Asserts a problem names `file` and `field`, and returns its message.
#[track_caller]
fn assert_flags(report: &ValidationReport, file: &str, field: &str) -> String {
    match report.problems.iter().find(|p| p.file == file && p.field == field) {
        Some(p) => p.message.clone(),
        None => panic!("expected a problem for {file} / {field}, got {:#?}", report.problems),
    }
}

/// Edits a JSON file as text (keeps key order, which `vector_fields` depends on).
fn replace_text(dir: &Path, name: &str, from: &str, to: &str) {
    let path = dir.join(name);
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{from:?} not in {name}");
    fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

fn edit_json(dir: &Path, name: &str, edit: impl FnOnce(&mut Value)) {
    let path = dir.join(name);
    let mut v: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut v);
    fs::write(&path, serde_json::to_string(&v).unwrap()).unwrap();
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    GzDecoder::new(bytes).read_to_end(&mut out).unwrap();
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::new(6));
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// Decompresses `name`, lets `edit` change the payload, recompresses it.
fn edit_gz(dir: &Path, name: &str, edit: impl FnOnce(&mut Vec<u8>)) {
    let path = dir.join(name);
    let mut data = gunzip(&fs::read(&path).unwrap());
    edit(&mut data);
    fs::write(&path, gzip(&data)).unwrap();
}

#[test]
fn every_golden_case_validates() {
    let cases = case_names();
    assert_eq!(cases.len(), 12);
    for case in &cases {
        let (_tmp, dir) = golden_copy(case);
        let report = validate(&dir);
        assert!(report.is_ok(), "{case}: {:#?}", report.problems);
        assert_eq!(report.files_checked, expected_file_count(case), "{case}: every file is read");
    }
}

#[test]
fn missing_folder_reports_required_files() {
    let tmp = TempDir::new().unwrap();
    let report = validate(tmp.path());
    assert_flags(&report, "dataset_identity.json", "exists");
    assert_flags(&report, "obs_manifest.json", "exists");
    assert_eq!(report.files_checked, 0);
}

#[test]
fn extra_json_key() {
    let report = mutated("case01_dense_f32_plain", |d| {
        replace_text(d, "obs_manifest.json", "{\"_format\"", "{\"extra\": 1, \"_format\"")
    });
    assert_eq!(assert_flags(&report, "obs_manifest.json", "extra"), "unsupported key");
    let report = mutated("case02_csr_q8_gz6_graph", |d| {
        edit_json(d, "dataset_identity.json", |v| v["stats"]["n_points"] = 1.into())
    });
    assert_flags(&report, "dataset_identity.json", "stats.n_points");
}

#[test]
fn missing_json_key() {
    let report = mutated("case02_csr_q8_gz6_graph", |d| {
        edit_json(d, "dataset_identity.json", |v| {
            v["stats"].as_object_mut().unwrap().remove("n_edges");
        })
    });
    assert_eq!(
        assert_flags(&report, "dataset_identity.json", "stats.n_edges"),
        "missing required key"
    );
    let report = mutated("case02_csr_q8_gz6_graph", |d| {
        edit_json(d, "connectivity_manifest.json", |v| {
            v.as_object_mut().unwrap().remove("weight_bytes");
        })
    });
    assert_flags(&report, "connectivity_manifest.json", "weight_bytes");
}

#[test]
fn truncated_raw_payload() {
    let report = mutated("case01_dense_f32_plain", |d| {
        let p = d.join("obs/1.values.f32");
        let bytes = fs::read(&p).unwrap();
        fs::write(&p, &bytes[..bytes.len() - 4]).unwrap();
    });
    let message = assert_flags(&report, "obs/1.values.f32", "length");
    assert!(message.contains("476") && message.contains("480"), "{message}");
    assert_eq!(report.problems.len(), 1, "{:#?}", report.problems);
    assert_eq!(report.files_checked, expected_file_count("case01_dense_f32_plain"));
}

#[test]
fn truncated_gzip_payload() {
    let report = mutated("case02_csr_q8_gz6_graph", |d| {
        let p = d.join("points_3d.bin.gz");
        let bytes = fs::read(&p).unwrap();
        fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
    });
    assert!(
        report.problems.iter().all(|p| p.file == "points_3d.bin.gz"),
        "{:#?}",
        report.problems
    );
    assert!(!report.is_ok());
}

#[test]
fn wrong_isize() {
    let report = mutated("case02_csr_q8_gz6_graph", |d| {
        let p = d.join("var/3.values.u8.gz");
        let mut bytes = fs::read(&p).unwrap();
        let n = bytes.len();
        bytes[n - 4] ^= 1;
        fs::write(&p, bytes).unwrap();
    });
    assert_flags(&report, "var/3.values.u8.gz", "gzip.isize");
}

#[test]
fn two_gzip_members() {
    let report = mutated("case02_csr_q8_gz6_graph", |d| {
        let p = d.join("obs/0.values.u8.gz");
        let mut bytes = fs::read(&p).unwrap();
        bytes.extend(bytes.clone());
        fs::write(&p, bytes).unwrap();
    });
    assert_flags(&report, "obs/0.values.u8.gz", "gzip.members");
    assert_eq!(report.problems.len(), 1, "{:#?}", report.problems);
}

#[test]
fn categorical_code_out_of_range() {
    // case02 field 1 ("cluster") has 3 categories: code 3 is neither a category nor 255.
    let report = mutated("case02_csr_q8_gz6_graph", |d| edit_gz(d, "obs/1.codes.u8.gz", |data| data[7] = 3));
    let message = assert_flags(&report, "obs/1.codes.u8.gz", "codes");
    assert!(message.contains("cells 7"), "{message}");
    // The marker stays legal.
    let report = mutated("case02_csr_q8_gz6_graph", |d| edit_gz(d, "obs/1.codes.u8.gz", |data| data[7] = 255));
    assert!(report.is_ok(), "{:#?}", report.problems);
}

#[test]
fn unsorted_edges() {
    let report = mutated("case02_csr_q8_gz6_graph", |d| {
        for (name, width) in [
            ("connectivity/edges.src.bin.gz", 2),
            ("connectivity/edges.dst.bin.gz", 2),
            ("connectivity/edges.weights.f64.bin.gz", 8),
        ] {
            edit_gz(d, name, |data| {
                let (a, b) = data.split_at_mut(width);
                a.swap_with_slice(&mut b[..width]);
            });
        }
    });
    let message = assert_flags(&report, "connectivity/edges.src.bin.gz", "edges.order");
    assert!(message.contains("edge 1"), "{message}");
    assert_eq!(report.problems.len(), 1, "{:#?}", report.problems);
}

#[test]
fn src_not_below_dst_and_bad_weight() {
    let report = mutated("case02_csr_q8_gz6_graph", |d| {
        // Swap src and dst of the last edge (keeps the sort of the earlier edges).
        let src = gunzip(&fs::read(d.join("connectivity/edges.src.bin.gz")).unwrap());
        let dst = gunzip(&fs::read(d.join("connectivity/edges.dst.bin.gz")).unwrap());
        let n = src.len();
        edit_gz(d, "connectivity/edges.src.bin.gz", |data| {
            data[n - 2..].copy_from_slice(&dst[n - 2..])
        });
        edit_gz(d, "connectivity/edges.dst.bin.gz", |data| {
            data[n - 2..].copy_from_slice(&src[n - 2..])
        });
        edit_gz(d, "connectivity/edges.weights.f64.bin.gz", |data| {
            data[..8].copy_from_slice(&0f64.to_le_bytes())
        });
    });
    let message = assert_flags(&report, "connectivity/edges.src.bin.gz", "edges.order");
    assert!(message.contains("src < dst"), "{message}");
    assert_flags(&report, "connectivity/edges.weights.f64.bin.gz", "values");
}

#[test]
fn wrong_max_neighbors() {
    let report = mutated("case02_csr_q8_gz6_graph", |d| {
        replace_text(d, "connectivity_manifest.json", "\"max_neighbors\": 14", "\"max_neighbors\": 13")
    });
    let message = assert_flags(&report, "connectivity_manifest.json", "max_neighbors");
    assert!(message.contains("14"), "{message}");
}

#[test]
fn identity_n_cells_disagrees() {
    let report = mutated("case02_csr_q8_gz6_graph", |d| {
        replace_text(d, "dataset_identity.json", "\"n_cells\": 150", "\"n_cells\": 151")
    });
    let message = assert_flags(&report, "dataset_identity.json", "stats.n_cells");
    assert!(message.contains("151") && message.contains("150"), "{message}");
    // The one manifest that disagrees with the others is named instead.
    let report = mutated("case02_csr_q8_gz6_graph", |d| {
        replace_text(d, "var_manifest.json", "\"n_points\": 150", "\"n_points\": 149")
    });
    assert_flags(&report, "var_manifest.json", "n_points");
    assert!(
        report.problems.iter().all(|p| p.file != "dataset_identity.json"),
        "{:#?}",
        report.problems
    );
}

#[test]
fn undeclared_file_and_directory() {
    let report = mutated("case01_dense_f32_plain", |d| {
        fs::write(d.join("notes.txt"), "hi").unwrap();
        fs::write(d.join("obs/9.values.f32"), [0u8; 480]).unwrap();
        fs::create_dir(d.join("extra")).unwrap();
        fs::create_dir(d.join("obs/sub")).unwrap();
    });
    for file in ["notes.txt", "obs/9.values.f32", "extra/", "obs/sub/"] {
        assert_flags(&report, file, "undeclared");
    }
    assert_eq!(report.problems.len(), 4, "{:#?}", report.problems);
}

#[test]
fn key_era_pattern() {
    let report = mutated("case04_embed1d_only", |d| {
        replace_text(d, "var_manifest.json", "var/{index}.values.f32", "var/{key}.values.f32")
    });
    let message = assert_flags(&report, "var_manifest.json", "_varSchema.pathPattern");
    assert!(message.contains("{index}"), "{message}");
}

#[test]
fn wrong_index_width() {
    let report = mutated("case02_csr_q8_gz6_graph", |d| {
        replace_text(
            d,
            "connectivity_manifest.json",
            "\"index_bytes\": 2, \"index_dtype\": \"uint16\"",
            "\"index_bytes\": 4, \"index_dtype\": \"uint32\"",
        )
    });
    let message = assert_flags(&report, "connectivity_manifest.json", "index_dtype");
    assert!(message.contains("uint16"), "{message}");
}

#[test]
fn obs_fields_out_of_manifest_order() {
    let report = mutated("case02_csr_q8_gz6_graph", |d| {
        edit_json(d, "dataset_identity.json", |v| v["obs_fields"].as_array_mut().unwrap().swap(1, 2))
    });
    assert_flags(&report, "dataset_identity.json", "obs_fields[1].key");
}

#[test]
fn infinite_point_and_all_nan_gene() {
    let report = mutated("case01_dense_f32_plain", |d| {
        let p = d.join("points_2d.bin");
        let mut bytes = fs::read(&p).unwrap();
        bytes[8..12].copy_from_slice(&f32::INFINITY.to_le_bytes());
        fs::write(&p, bytes).unwrap();
        let g = d.join("var/0.values.f32");
        let n = fs::metadata(&g).unwrap().len() as usize / 4;
        fs::write(&g, f32::NAN.to_le_bytes().repeat(n)).unwrap();
    });
    assert_flags(&report, "points_2d.bin", "values");
    let message = assert_flags(&report, "var/0.values.f32", "values");
    assert!(message.contains("no value"), "{message}");
}

#[test]
fn compression_suffix_and_settings_disagree() {
    let report = mutated("case02_csr_q8_gz6_graph", |d| {
        replace_text(d, "var_manifest.json", "\"compression\": 6", "\"compression\": 5");
        replace_text(
            d,
            "dataset_identity.json",
            "\"obs_categorical_dtype\": \"uint8\"",
            "\"obs_categorical_dtype\": \"uint16\"",
        );
    });
    assert_flags(&report, "var_manifest.json", "compression");
    assert_flags(&report, "obs_manifest.json", "_categoricalFields[0][3]");
    assert_flags(&report, "obs_manifest.json", "_categoricalFields[1][3]");
}

#[test]
fn vector_file_name_must_follow_key_order() {
    let report = mutated("case08_vector_fields", |d| {
        fs::rename(d.join("vectors/0_2d.bin.gz"), d.join("vectors/5_2d.bin.gz")).unwrap();
        replace_text(d, "dataset_identity.json", "vectors/0_2d.bin.gz", "vectors/5_2d.bin.gz");
    });
    assert_flags(&report, "dataset_identity.json", "vector_fields.fields.T_fwd_umap.files.2d");
    assert_eq!(report.problems.len(), 1, "{:#?}", report.problems);
}

#[test]
fn duplicate_advertised_path() {
    let report = mutated("case08_vector_fields", |d| {
        replace_text(d, "dataset_identity.json", "vectors/1_3d.bin.gz", "points_3d.bin.gz")
    });
    let message = assert_flags(&report, "dataset_identity.json", "vector_fields.fields.velocity_umap.files.3d");
    assert!(message.contains("unique") || message.contains("exactly"), "{message}");
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let report = mutated("case02_csr_q8_gz6_graph", |d| {
        replace_text(d, "dataset_identity.json", "\"version\": 2", "\"version\": 1");
        replace_text(d, "obs_manifest.json", "\"_format\": \"compact_v1\"", "\"_format\": \"compact_v2\"");
        let p = d.join("var/9.values.u8.gz");
        let mut bytes = fs::read(&p).unwrap();
        bytes.push(0);
        fs::write(&p, bytes).unwrap();
    });
    assert_flags(&report, "dataset_identity.json", "version");
    assert_flags(&report, "obs_manifest.json", "_format");
    assert_flags(&report, "var/9.values.u8.gz", "gzip.isize");
    assert_flags(&report, "var/9.values.u8.gz", "gzip.trailing");
}
