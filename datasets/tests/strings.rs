//! Every string read from an `.h5ad` is decoded checked: real files holding bytes that
//! are not UTF-8 (Latin-1 in an ASCII string, a truncated sequence) in values, category
//! labels, attributes, fixed-length records and the names inside a stored type are
//! refused with one message naming the HDF5 path and showing the bytes; fixed-length
//! padding is dropped silently and a NUL inside a record is refused. Plus the check that
//! keeps unchecked decoding out of the source tree.

#[path = "support/hostile.rs"]
mod hostile;

use std::path::{Path, PathBuf};

use cellucid_core::{Label, ObsData};
use cellucid_datasets::h5ad::{self, H5adError, Mapping};
use hostile::{ASCII, UTF8};

/// HDF5 keeps a lock on open files; tests here open and write files one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

fn base(dir: &Path) -> PathBuf {
    let p = dir.join("input.h5ad");
    hostile::write_valid(&p);
    p
}

fn mapping() -> Mapping {
    Mapping {
        gene_expression: Some("X".into()),
        x_umap: [None, Some("obsm/X_umap_2d".into()), None],
        ..Mapping::default()
    }
}

fn refusal(path: &Path) -> H5adError {
    match h5ad::read(path, &mapping()) {
        Ok(_) => panic!("{} must be refused", path.display()),
        Err(e) => e,
    }
}

#[test]
fn the_valid_base_file_reads() {
    let _g = serial();
    let tmp = tempfile::tempdir().expect("tmp");
    let ds = h5ad::read(&base(tmp.path()), &mapping()).expect("the base file is valid");
    assert_eq!(ds.var.expect("var").index.len(), 5);
}

#[test]
fn latin1_in_an_ascii_var_index_is_refused() {
    let _g = serial();
    let tmp = tempfile::tempdir().expect("tmp");
    let p = base(tmp.path());
    let ids: [&[u8]; 5] = [b"CD3E", b"MS4A1", b"NKG7", b"M\xfcller", b"GNLY"];
    hostile::replace_with_vlen(&p, "var/_index", &ids, ASCII, Some("string-array"));
    let e = refusal(&p);
    assert_eq!(e.to_string(), r#"var/_index[3]: not valid UTF-8: b"M\xfcller""#);
    assert_eq!(e.h5_path(), Some("var/_index"));
}

#[test]
fn valid_utf8_in_an_ascii_string_is_read() {
    // Legacy writers also store UTF-8 under the ASCII character set; that is text.
    let _g = serial();
    let tmp = tempfile::tempdir().expect("tmp");
    let p = base(tmp.path());
    let ids: [&[u8]; 5] = [b"CD3E", b"MS4A1", b"NKG7", "Müller".as_bytes(), b"GNLY"];
    hostile::replace_with_vlen(&p, "var/_index", &ids, ASCII, Some("string-array"));
    let var = h5ad::read(&p, &mapping()).expect("read").var.expect("var");
    assert!(matches!(&var.index[3], Label::Str(s) if s == "Müller"));
}

#[test]
fn a_truncated_sequence_in_a_category_label_is_refused() {
    let _g = serial();
    let tmp = tempfile::tempdir().expect("tmp");
    let p = base(tmp.path());
    hostile::replace_with_vlen(&p, "obs/ct/categories", &[b"T", b"abc\xe2\x82"], UTF8, Some("string-array"));
    assert_eq!(refusal(&p).to_string(), r#"obs/ct/categories[1]: not valid UTF-8: b"abc\xe2\x82""#);
}

#[test]
fn a_truncated_sequence_in_an_obs_string_column_is_refused() {
    let _g = serial();
    let tmp = tempfile::tempdir().expect("tmp");
    let p = base(tmp.path());
    hostile::replace_with_vlen(&p, "obs/batch", &[b"b1", b"b2", b"\xe2\x82", b"b2"], UTF8, Some("string-array"));
    assert_eq!(refusal(&p).to_string(), r#"obs/batch[2]: not valid UTF-8: b"\xe2\x82""#);
}

#[test]
fn a_bad_encoding_type_attribute_is_refused() {
    let _g = serial();
    let tmp = tempfile::tempdir().expect("tmp");
    let p = base(tmp.path());
    hostile::set_attr_vlen(&p, "obs/ct", "encoding-type", b"abc\xe2\x82", UTF8);
    assert_eq!(refusal(&p).to_string(), r#"obs/ct@encoding-type: not valid UTF-8: b"abc\xe2\x82""#);
}

#[test]
fn bad_index_name_and_column_order_attributes_are_refused() {
    let _g = serial();
    let tmp = tempfile::tempdir().expect("tmp");
    let p = base(tmp.path());
    hostile::set_attr_vlen(&p, "var", "_index", b"_ind\xe9x", ASCII);
    assert_eq!(refusal(&p).to_string(), r#"var@_index: not valid UTF-8: b"_ind\xe9x""#);

    let p = base(tmp.path());
    hostile::set_attr_fixed(&p, "obs", "column-order", 8, &[b"ct", b"b\xe4tch"]);
    assert_eq!(refusal(&p).to_string(), r#"obs@column-order[1]: not valid UTF-8: b"b\xe4tch""#);
}

#[test]
fn fixed_length_strings_lose_their_padding_and_nothing_else() {
    let _g = serial();
    let tmp = tempfile::tempdir().expect("tmp");
    let p = base(tmp.path());
    // numpy `S8`: short values NUL-padded; a full-width value has no terminator at all.
    let ids: [&[u8]; 5] = [b"CD3E", b"MS4A1", b"NKG7", b"LYZLYZLY", b""];
    hostile::replace_with_fixed(&p, "var/_index", 8, &ids, Some("string-array"));
    hostile::set_attr_fixed(&p, "obs", "column-order", 6, &[b"ct", b"batch"]);
    let ds = h5ad::read(&p, &mapping()).expect("read");
    let index: Vec<_> = ds
        .var
        .expect("var")
        .index
        .into_iter()
        .map(|l| if let Label::Str(s) = l { s } else { panic!("{l:?}") })
        .collect();
    assert_eq!(index, ["CD3E", "MS4A1", "NKG7", "LYZLYZLY", ""]);
    let names: Vec<_> = ds.obs.expect("obs").columns.into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["ct", "batch"]);
}

#[test]
fn latin1_in_a_fixed_length_label_is_refused() {
    let _g = serial();
    let tmp = tempfile::tempdir().expect("tmp");
    let p = base(tmp.path());
    hostile::replace_with_fixed(&p, "obs/ct/categories", 8, &[b"T", b"M\xfcller"], Some("string-array"));
    assert_eq!(refusal(&p).to_string(), r#"obs/ct/categories[1]: not valid UTF-8: b"M\xfcller""#);
}

#[test]
fn a_nul_inside_a_fixed_length_string_is_refused_not_cut() {
    let _g = serial();
    let tmp = tempfile::tempdir().expect("tmp");
    let p = base(tmp.path());
    let ids: [&[u8]; 5] = [b"CD3E", b"ab\0cd", b"NKG7", b"LYZ", b"GNLY"];
    hostile::replace_with_fixed(&p, "var/_index", 8, &ids, Some("string-array"));
    let e = refusal(&p);
    assert_eq!(
        e.to_string(),
        r#"var/_index[1]: fixed-length string has a NUL byte inside it: b"ab\x00cd" (the bytes after the NUL would be lost)"#
    );
}

#[test]
fn a_non_utf8_name_inside_a_compound_type_is_refused() {
    // Pre-0.7 files store obs as a compound dataset; the `hdf5` crate would build the
    // field names with `from_utf8_unchecked`, so the reader checks them first.
    let _g = serial();
    let tmp = tempfile::tempdir().expect("tmp");
    let p = base(tmp.path());
    hostile::replace_obs_with_compound(&p, b"sc\xf6re");
    assert_eq!(refusal(&p).to_string(), r#"obs (names in its datatype)[1]: not valid UTF-8: b"sc\xf6re""#);

    let p = base(tmp.path());
    hostile::replace_obs_with_compound(&p, b"score");
    let obs = h5ad::read(&p, &mapping()).expect("a valid compound obs reads").obs.expect("obs");
    assert_eq!(obs.n_rows, 4);
    assert!(matches!(&obs.columns[0].data, ObsData::Numeric(_)), "{:?}", obs.columns[0].name);
}

// --------------------------------------------------------------------------------------
// Keeping it true: nothing in the source tree may turn bytes into text unchecked.

/// Calls that build a `str`/`String` from bytes without checking them, or that use the
/// `hdf5` crate's unchecked string conversions. `clippy.toml` lists the same methods
/// for `cargo clippy`; this test needs no clippy and fails the ordinary test run.
const FORBIDDEN: &[&str] = &[
    "from_utf8_unchecked",
    "string_from_cstr",
    "string_from_fixed_bytes",
    "from_ascii_unchecked",
    "from_str_unchecked",
    "FixedAscii<",
    "FixedUnicode<",
    "VarLenUnicode::as_str",
    "VarLenAscii::as_str",
];

/// Where the `hdf5` crate's variable-length string types may be read from a file: the
/// one function pair that only takes their bytes (`.as_bytes()`) and decodes them checked.
const VARLEN_READERS: &[&str] = &["datasets/src/h5ad/raw.rs"];

fn rust_sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = entry.path();
        let name = entry.file_name();
        if p.is_dir() && name != "target" && !name.to_string_lossy().starts_with('.') {
            rust_sources(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn no_unchecked_decoding_anywhere_in_the_source_tree() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("repo root");
    let mut files = Vec::new();
    for krate in ["core", "datasets", "harness", "reports", "benches"] {
        rust_sources(&repo.join(krate), &mut files);
    }
    assert!(files.len() > 50, "the walk found only {} files", files.len());
    let this_file = Path::new(file!()).file_name().expect("name");
    let mut found = Vec::new();
    for f in &files {
        if f.file_name() == Some(this_file) && f.parent().is_some_and(|d| d.ends_with("datasets/tests")) {
            continue; // the list above
        }
        let rel = f.strip_prefix(repo).expect("in repo").to_string_lossy().into_owned();
        let text = std::fs::read_to_string(f).expect("source is UTF-8");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for pat in FORBIDDEN {
                if code.contains(pat) {
                    found.push(format!("{rel}:{}: {pat}", n + 1));
                }
            }
            let reads_varlen = code.contains("<VarLenUnicode>") || code.contains("<VarLenAscii>");
            // Writing VarLen strings made from Rust strings is safe; reading them is not.
            let is_read = code.contains("read");
            if reads_varlen && is_read && !VARLEN_READERS.contains(&rel.as_str()) {
                found
                    .push(format!("{rel}:{}: reads the hdf5 crate's VarLen strings outside {VARLEN_READERS:?}", n + 1));
            }
            if code.contains(".as_str()") && VARLEN_READERS.contains(&rel.as_str()) {
                found.push(format!(
                    "{rel}:{}: .as_str() in a VarLen reader (use .as_bytes() and strings::decode)",
                    n + 1
                ));
            }
            if code.contains(".to_descriptor()") && !rel.ends_with("datasets/src/h5ad/dtype.rs") {
                found.push(format!(
                    "{rel}:{}: to_descriptor outside h5ad/dtype.rs (its names must be checked first)",
                    n + 1
                ));
            }
        }
    }
    assert!(found.is_empty(), "unchecked decoding of input bytes:\n{}", found.join("\n"));
}
