//! `cellucid-bench export` on `.h5ad` files whose strings are not valid UTF-8 (Latin-1 in
//! an ASCII var index, a truncated sequence in a category label or an `encoding-type`
//! attribute, fixed-length records, a NUL inside a fixed-length record): a non-zero exit,
//! exactly one line on stderr naming the HDF5 path, and nothing created at out_dir.
//! The files are built by `datasets/tests/support/hostile.rs`.

#[path = "../../datasets/tests/support/hostile.rs"]
mod hostile;

use std::path::Path;
use std::process::Command;

use hostile::{ASCII, UTF8};

/// HDF5 holds a lock on each open file through a descriptor without `O_CLOEXEC`, so a
/// child spawned while another test has a file open inherits the lock and cannot open
/// its own input: tests write files and spawn exports one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

const PARAMS: &str = r#"{"obs_keys": ["ct", "batch"], "var_quantization": 8, "compression": 1,
  "dataset_name": "strings", "dataset_id": "strings", "created_at": "2026-01-02T03:04:05Z",
  "inputs": {"gene_expression": "X", "latent_space": "obsm/X_latent", "X_umap_2d": "obsm/X_umap_2d"}}"#;

fn export(input: &Path, out: &Path) -> std::process::Output {
    let params = input.with_file_name("params.json");
    std::fs::write(&params, PARAMS).expect("params");
    Command::new(env!("CARGO_BIN_EXE_cellucid-bench"))
        .arg("export")
        .arg(input)
        .arg(out)
        .arg("--params")
        .arg(&params)
        .arg("--quiet")
        .output()
        .expect("run")
}

/// Builds the valid file, breaks it with `spoil`, and checks the refusal names `expected`.
fn assert_refused(spoil: impl FnOnce(&Path), expected: &str) {
    let _g = serial();
    let tmp = tempfile::tempdir().expect("tmp");
    let input = tmp.path().join("input.h5ad");
    hostile::write_valid(&input);
    spoil(&input);
    let out = tmp.path().join("out");
    let o = export(&input, &out);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "must fail: {err}");
    assert_eq!(err.lines().count(), 1, "exactly one line on stderr: {err:?}");
    assert!(err.starts_with("error: ") && err.trim_end().ends_with(expected), "{err}");
    assert!(!out.exists(), "nothing may be created at out_dir");
    let left: Vec<_> = std::fs::read_dir(tmp.path()).expect("ls").flatten().map(|e| e.file_name()).collect();
    assert_eq!(left.len(), 2, "only the input and params remain beside out_dir: {left:?}");
}

#[test]
fn the_unspoiled_file_exports() {
    let _g = serial();
    let tmp = tempfile::tempdir().expect("tmp");
    let input = tmp.path().join("input.h5ad");
    hostile::write_valid(&input);
    let o = export(&input, &tmp.path().join("out"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn latin1_gene_id_in_an_ascii_string() {
    let ids: [&[u8]; 5] = [b"CD3E", b"MS4A1", b"NKG7", b"M\xfcller", b"GNLY"];
    assert_refused(
        |p| hostile::replace_with_vlen(p, "var/_index", &ids, ASCII, Some("string-array")),
        r#"var/_index[3]: not valid UTF-8: b"M\xfcller""#,
    );
}

#[test]
fn truncated_utf8_in_a_category_label() {
    assert_refused(
        |p| hostile::replace_with_vlen(p, "obs/ct/categories", &[b"T", b"abc\xe2\x82"], UTF8, Some("string-array")),
        r#"obs/ct/categories[1]: not valid UTF-8: b"abc\xe2\x82""#,
    );
}

#[test]
fn truncated_utf8_in_an_encoding_type_attribute() {
    assert_refused(
        |p| hostile::set_attr_vlen(p, "obs/ct", "encoding-type", b"abc\xe2\x82", UTF8),
        r#"obs/ct@encoding-type: not valid UTF-8: b"abc\xe2\x82""#,
    );
}

#[test]
fn latin1_in_fixed_length_strings() {
    let ids: [&[u8]; 5] = [b"CD3E", b"MS4A1", b"NKG7", b"M\xfcller", b"GNLY"];
    assert_refused(
        |p| hostile::replace_with_fixed(p, "var/_index", 8, &ids, Some("string-array")),
        r#"var/_index[3]: not valid UTF-8: b"M\xfcller""#,
    );
    assert_refused(
        |p| hostile::set_attr_fixed(p, "obs", "column-order", 8, &[b"ct", b"b\xe4tch"]),
        r#"obs@column-order[1]: not valid UTF-8: b"b\xe4tch""#,
    );
}

#[test]
fn nul_inside_a_fixed_length_string() {
    let ids: [&[u8]; 5] = [b"CD3E", b"ab\0cd", b"NKG7", b"LYZ", b"GNLY"];
    assert_refused(
        |p| hostile::replace_with_fixed(p, "var/_index", 8, &ids, Some("string-array")),
        r#"var/_index[1]: fixed-length string has a NUL byte inside it: b"ab\x00cd" (the bytes after the NUL would be lost)"#,
    );
}

#[test]
fn a_corrupt_string_heap_is_one_line_that_says_it_once() {
    let _g = serial();
    let tmp = tempfile::tempdir().expect("tmp");
    let input = tmp.path().join("input.h5ad");
    hostile::write_valid(&input);
    assert!(hostile::corrupt_string_heaps(&input) > 0, "the file has variable-length strings");
    let out = tmp.path().join("out");
    let o = export(&input, &out);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "exactly one line on stderr: {err:?}");
    // The first string read is obs's `encoding-type` attribute (attributes' strings live
    // in the global heap too).
    let (_, cause) =
        err.split_once("HDF5 error at obs@encoding-type: ").unwrap_or_else(|| panic!("names the element: {err}"));
    let first_clause = cause.split(": ").next().expect("clause");
    assert_eq!(err.matches(first_clause).count(), 1, "the HDF5 error is said once: {err}");
    assert!(!out.exists(), "nothing may be created at out_dir");
}
