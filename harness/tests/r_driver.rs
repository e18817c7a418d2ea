//! The cellucid-r driver (`scripts/writers/cellucid-r.R`) against our own reader.
//!
//! cellucid-r is in no registry CI reaches, so the driver runs with its recording stand-in
//! (`CELLUCID_R_RECORD=FILE`): instead of calling `cellucid::cellucid_prepare()` it writes the
//! arguments it would pass as JSON. For every golden case (`input.h5ad` + `params.json`) those
//! arguments are compared, field by field, with the `Dataset` and `ExportOptions` that
//! `cellucid-bench export --params` builds from the same file (`cli::export::mapping`,
//! `h5ad::read_csr_as_csc`, `cli::export::options`): shapes, every value (exactly; float32
//! values reach R as the same double), sparse structure, categorical levels and codes, obs
//! column kinds, var ids, gene identifiers, quantization/compression/dtype/names. A second
//! pass runs four cases with `inputs`, `dataset_name`, `dataset_id` and
//! `obs_categorical_dtype` left out, under a file name that needs an id rewrite, to check the
//! default mapping and the derived values. A third test covers the column encodings the
//! golden files lack (string arrays, nullable integers/booleans/strings, numeric categories
//! with missing codes, anndata 0.7's `__categories`) on a file written for it. A fourth
//! runs the real (non-recording) path against a test double of the cellucid package
//! installed into a temporary library: output swallowed, errors as one line, the session
//! collation code-point order, the lock file removed.
//!
//! Needs `Rscript` with hdf5r, jsonlite and Matrix (`scripts/install-r.sh`). Without Rscript the
//! test prints why and passes, unless `CI` is set: in CI a missing R is a failure. The R
//! processes run in parallel threads (about 2 s of R start and reading each).

use cellucid_bench::cli::export::{self, ExportArgs};
use cellucid_bench::params::Params;
use cellucid_core::{
    Compressed, Dataset, DenseArray, ExportOptions, Label, Matrix, ObsColumn, ObsData, ObsFrame, Values, VarFrame,
};
use cellucid_datasets::h5ad::{self, Mapping};
use clap::Parser;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("repo root").to_path_buf()
}

fn shared() -> PathBuf {
    let p = std::env::var_os("CELLUCID_SHARED").map(PathBuf::from).unwrap_or_else(|| repo().join("../shared"));
    assert!(p.join("golden").is_dir(), "shared/ not found at {} (set CELLUCID_SHARED)", p.display());
    p
}

fn golden_cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(shared().join("golden"))
        .expect("golden dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("input.h5ad").is_file() && p.join("params.json").is_file())
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 12, "expected the 12 golden cases");
    cases
}

/// Whether the test can run; `None` with the reason printed when it may skip.
fn have_rscript() -> bool {
    let found = Command::new("Rscript").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "Rscript not found but CI is set: scripts/install-r.sh should have installed r-base-core"
        );
        eprintln!("r_driver: skipped: Rscript not found (install with `bash scripts/install-r.sh` as root)");
    }
    found
}

/// Runs the driver in recording mode and returns the recorded `args` object.
fn record(input: &Path, params: &Path, out_dir: &Path, record_to: &Path) -> serde_json::Map<String, Value> {
    let script = repo().join("scripts/writers/cellucid-r.R");
    let o = Command::new("Rscript")
        .arg(&script)
        .arg(input)
        .arg(out_dir)
        .arg("--params")
        .arg(params)
        .env("CELLUCID_R_RECORD", record_to)
        .env("LC_ALL", "C.UTF-8")
        .output()
        .expect("run Rscript");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{}: driver failed ({}): {stderr}", input.display(), o.status);
    assert!(o.stdout.is_empty() && stderr.trim().is_empty(), "{}: driver printed: {stderr}", input.display());
    assert!(!out_dir.exists(), "recording mode must not write {}", out_dir.display());
    let doc: Value = serde_json::from_slice(&std::fs::read(record_to).expect("recorded args")).expect("recorded JSON");
    assert_eq!(doc["function"], "cellucid::cellucid_prepare");
    doc["args"].as_object().expect("args object").clone()
}

#[derive(Parser)]
struct ExportCli {
    #[command(flatten)]
    args: ExportArgs,
}

/// What `cellucid-bench export INPUT OUT --params PARAMS [extra flags]` would export.
fn ours(input: &Path, params: &Path, extra: &[String]) -> (Dataset, ExportOptions) {
    let mut argv: Vec<String> = vec!["export".into(), input.display().to_string(), "out".into()];
    argv.extend(["--params".to_string(), params.display().to_string()]);
    argv.extend(extra.iter().cloned());
    let cli = ExportCli::try_parse_from(argv).expect("export argv");
    let p = Params::read(params).expect("params");
    let mapping = export::mapping(&cli.args, Some(&p)).expect("mapping");
    let dataset = h5ad::read_csr_as_csc(input, &mapping).expect("our reader");
    let options = export::options(&cli.args, Some(&p), &dataset).expect("options");
    (dataset, options)
}

// ---------------------------------------------------------------- decoding the record

/// A recorded number: JSON number, null (NA), or "NaN"/"Inf"/"-Inf".
fn num(v: &Value, what: &str) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().expect("number"),
        Value::Null => f64::NAN,
        Value::String(s) if s == "NaN" => f64::NAN,
        Value::String(s) if s == "Inf" => f64::INFINITY,
        Value::String(s) if s == "-Inf" => f64::NEG_INFINITY,
        other => panic!("{what}: {other} is not a recorded number"),
    }
}

fn arr<'a>(v: &'a Value, what: &str) -> &'a Vec<Value> {
    v.as_array().unwrap_or_else(|| panic!("{what}: expected an array, found {v}"))
}

fn nums(v: &Value, what: &str) -> Vec<f64> {
    arr(v, what).iter().map(|x| num(x, what)).collect()
}

fn ints(v: &Value, what: &str) -> Vec<u64> {
    arr(v, what).iter().map(|x| x.as_u64().unwrap_or_else(|| panic!("{what}: {x} is not an index"))).collect()
}

fn kind(v: &Value) -> &str {
    v["type"].as_str().unwrap_or("?")
}

fn same(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

/// Every recorded value equals ours exactly (float32 values reach R as the same double).
fn assert_values(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: {} values recorded, ours has {}", got.len(), want.len());
    if let Some(i) = (0..got.len()).find(|&i| !same(got[i], want[i])) {
        panic!("{what}: value {i} is {} in R, {} in ours", got[i], want[i]);
    }
}

// ---------------------------------------------------------------- matrices

/// CSR → CSC by counting (rows stay ascending within a column, as Matrix's t() gives).
fn csr_to_csc(c: &Compressed) -> (Vec<u64>, Vec<u64>, Vec<f64>) {
    let (rows, cols) = c.shape;
    let data = c.data.to_f64_vec();
    let mut p = vec![0u64; cols + 1];
    for &j in &c.indices {
        p[j as usize + 1] += 1;
    }
    for j in 0..cols {
        p[j + 1] += p[j];
    }
    let mut next = p[..cols].to_vec();
    let mut i = vec![0u64; data.len()];
    let mut x = vec![0f64; data.len()];
    for r in 0..rows {
        for k in c.indptr[r] as usize..c.indptr[r + 1] as usize {
            let j = c.indices[k] as usize;
            let dst = next[j] as usize;
            i[dst] = r as u64;
            x[dst] = data[k];
            next[j] += 1;
        }
    }
    (p, i, x)
}

fn assert_matrix(what: &str, got: &Value, want: &Matrix) {
    match want {
        Matrix::Dense(d) => {
            assert_eq!(kind(got), "matrix", "{what}: R has a {}, ours is dense", kind(got));
            assert_eq!(got["storage"], "double", "{what}: storage");
            let (r, c) = match d.shape[..] {
                [r, c] => (r, c),
                [r] => (r, 1),
                ref s => panic!("{what}: our shape {s:?}"),
            };
            assert_eq!(ints(&got["dim"], what), vec![r as u64, c as u64], "{what}: dim");
            let col_major = nums(&got["values"], what);
            let ours = d.values.to_f64_vec();
            let row_major: Vec<f64> = (0..r * c).map(|k| col_major[(k % c) * r + k / c]).collect();
            assert_values(what, &row_major, &ours);
        }
        Matrix::Csc(m) | Matrix::Csr(m) => {
            assert_eq!(kind(got), "dgCMatrix", "{what}: R has a {}, ours is sparse", kind(got));
            assert_eq!(ints(&got["dim"], what), vec![m.shape.0 as u64, m.shape.1 as u64], "{what}: dim");
            let (p, i, x) = match want {
                Matrix::Csc(m) => {
                    (m.indptr.clone(), m.indices.iter().map(|&i| i as u64).collect(), m.data.to_f64_vec())
                }
                _ => csr_to_csc(m),
            };
            assert_eq!(ints(&got["p"], what), p, "{what}: column pointers");
            assert_eq!(ints(&got["i"], what), i, "{what}: row indices");
            assert_values(what, &nums(&got["x"], what), &x);
        }
        Matrix::Coo(_) => panic!("{what}: our reader never yields COO"),
    }
}

fn assert_arrays(args: &serde_json::Map<String, Value>, ds: &Dataset) {
    let pairs: [(&str, Option<&Matrix>); 6] = [
        ("latent_space", ds.latent_space.as_ref()),
        ("gene_expression", ds.gene_expression.as_ref()),
        ("connectivities", ds.connectivities.as_ref()),
        ("X_umap_1d", ds.x_umap_1d.as_ref()),
        ("X_umap_2d", ds.x_umap_2d.as_ref()),
        ("X_umap_3d", ds.x_umap_3d.as_ref()),
    ];
    for (name, want) in pairs {
        match (args.get(name), want) {
            (Some(got), Some(want)) => assert_matrix(name, got, want),
            (None, None) => {}
            (got, _) => panic!("{name}: recorded {}, ours {}", got.is_some(), want.is_some()),
        }
    }
    match (args.get("vector_fields"), &ds.vector_fields) {
        (None, None) => {}
        (Some(got), Some(want)) => {
            assert_eq!(kind(got), "list");
            let names: Vec<&str> = arr(&got["names"], "vector_fields").iter().filter_map(Value::as_str).collect();
            let ours: Vec<&str> = want.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(names, ours, "vector field keys and order");
            for ((k, m), v) in want.iter().zip(arr(&got["values"], "vector_fields")) {
                assert_matrix(&format!("vector_fields.{k}"), v, m);
            }
        }
        (got, want) => panic!("vector_fields: recorded {}, ours {}", got.is_some(), want.is_some()),
    }
}

// ---------------------------------------------------------------- frames

/// A category label as R holds it: text, or numbers as their shortest round-trip text.
fn assert_label(what: &str, got: &str, want: &Label) {
    let ok = match want {
        Label::Str(s) => got == s,
        Label::Int(i) => got.parse::<f64>().is_ok_and(|g| g == *i as f64),
        Label::Float(f) => got.parse::<f64>().is_ok_and(|g| same(g, *f)),
        Label::Bool(b) => got == if *b { "TRUE" } else { "FALSE" },
    };
    assert!(ok, "{what}: level {got:?} in R, {want:?} in ours");
}

fn strs(v: &Value, what: &str) -> Vec<Option<String>> {
    arr(v, what).iter().map(|x| x.as_str().map(String::from)).collect()
}

fn bools(v: &Value, what: &str) -> Vec<Option<bool>> {
    arr(v, what).iter().map(Value::as_bool).collect()
}

fn assert_obs_column(what: &str, class: &str, got: &Value, want: &ObsData) {
    match want {
        ObsData::Numeric(v) | ObsData::NullableNumeric { values: v, .. } => {
            assert!(matches!(class, "numeric" | "integer"), "{what}: a numeric column arrives as {class}");
            let mut ours = v.to_f64_vec();
            if let ObsData::NullableNumeric { missing, .. } = want {
                ours.iter_mut().zip(missing).filter(|(_, &m)| m).for_each(|(x, _)| *x = f64::NAN);
            }
            assert_values(what, &nums(&got["values"], what), &ours);
        }
        ObsData::Categorical { categories, codes } if categories.iter().all(|c| matches!(c, Label::Bool(_))) => {
            assert_eq!(class, "logical", "{what}: boolean categories arrive as a logical column");
            let ours: Vec<Option<bool>> =
                codes.iter().map(|&c| (c >= 0).then(|| matches!(categories[c as usize], Label::Bool(true)))).collect();
            assert_eq!(bools(&got["values"], what), ours, "{what}: values");
        }
        ObsData::Categorical { categories, codes } => {
            assert_eq!(class, "factor", "{what}: a categorical column arrives as {class}");
            let levels = strs(&got["levels"], what);
            assert_eq!(levels.len(), categories.len(), "{what}: level count");
            for (l, c) in levels.iter().zip(categories) {
                assert_label(what, l.as_deref().expect("level text"), c);
            }
            let recorded: Vec<i64> = arr(&got["codes"], what).iter().map(|c| c.as_i64().unwrap_or(0)).collect();
            let ours: Vec<i64> = codes.iter().map(|&c| i64::from(c) + 1).collect();
            assert_eq!(recorded, ours, "{what}: codes (R's 1-based, NA as 0 here)");
        }
        ObsData::Strings(s) => {
            assert_eq!(class, "character", "{what}: a string column arrives as {class}");
            assert_eq!(&strs(&got["values"], what), s, "{what}: values");
        }
        ObsData::Bool(b) => {
            assert_eq!(class, "logical", "{what}: a bool column arrives as {class}");
            assert_eq!(bools(&got["values"], what), b.iter().map(|&x| Some(x)).collect::<Vec<_>>(), "{what}");
        }
        ObsData::NullableBool(b) => {
            assert_eq!(class, "logical", "{what}: a nullable bool column arrives as {class}");
            assert_eq!(&bools(&got["values"], what), b, "{what}: values");
        }
        ObsData::Unsupported { dtype_repr } => panic!("{what}: our reader found an unsupported {dtype_repr}"),
    }
}

fn frame_columns<'a>(got: &'a Value, what: &str) -> &'a Vec<Value> {
    assert_eq!(kind(got), "data.frame", "{what}: not a data.frame");
    arr(&got["columns"], what)
}

fn assert_obs(args: &serde_json::Map<String, Value>, ds: &Dataset) {
    let want = ds.obs.as_ref().expect("our reader always reads obs");
    let got = args.get("obs").expect("obs recorded");
    assert_eq!(got["nrow"].as_u64(), Some(want.n_rows as u64), "obs rows");
    let cols = frame_columns(got, "obs");
    let names: Vec<&str> = cols.iter().filter_map(|c| c["name"].as_str()).collect();
    let ours: Vec<&str> = want.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ours, "obs column names and order");
    for (c, w) in cols.iter().zip(&want.columns) {
        let what = format!("obs[{:?}]", w.name);
        assert_obs_column(&what, c["class"].as_str().unwrap_or("?"), &c["value"], &w.data);
    }
}

/// One var value as R holds it, against our label (missing is `Float(NaN)` in ours).
fn assert_var_value(what: &str, col: &Value, i: usize, want: &Label) {
    let v = &col["value"];
    let missing = matches!(want, Label::Float(f) if f.is_nan());
    match kind(v) {
        "factor" => {
            let code = v["codes"][i].as_i64();
            match code {
                None => assert!(missing, "{what}[{i}]: NA in R, {want:?} in ours"),
                Some(c) => {
                    assert_label(&format!("{what}[{i}]"), v["levels"][(c - 1) as usize].as_str().unwrap_or(""), want)
                }
            }
        }
        "character" => match v["values"][i].as_str() {
            None => assert!(missing, "{what}[{i}]: NA in R, {want:?} in ours"),
            Some(s) => assert_eq!(&Label::Str(s.to_string()), want, "{what}[{i}]"),
        },
        "logical" => match v["values"][i].as_bool() {
            None => assert!(missing, "{what}[{i}]: NA in R, {want:?} in ours"),
            Some(b) => assert_eq!(&Label::Bool(b), want, "{what}[{i}]"),
        },
        _ => {
            let g = num(&v["values"][i], what);
            let w = match want {
                Label::Int(x) => *x as f64,
                Label::Float(x) => *x,
                other => panic!("{what}[{i}]: number in R, {other:?} in ours"),
            };
            assert!(same(g, w), "{what}[{i}]: {g} in R, {w} in ours");
        }
    }
}

fn assert_var(args: &serde_json::Map<String, Value>, ds: &Dataset) {
    let Some(want) = &ds.var else {
        assert!(args.get("var").is_none(), "var recorded without gene_expression");
        return;
    };
    let got = args.get("var").expect("var recorded with gene_expression");
    assert_eq!(got["nrow"].as_u64(), Some(want.len() as u64), "var rows");
    let ids: Vec<Label> =
        strs(&got["row_names"], "var row names").into_iter().map(|s| Label::Str(s.expect("row name"))).collect();
    let ours: Vec<Label> = want
        .index
        .iter()
        .map(|l| if let Label::Str(_) = l { l.clone() } else { panic!("non-text var index {l:?}") })
        .collect();
    assert_eq!(ids, ours, "var ids (row names)");
    let cols = frame_columns(got, "var");
    let names: Vec<&str> = cols.iter().filter_map(|c| c["name"].as_str()).collect();
    let our_names: Vec<&str> = want.columns.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, our_names, "var column names");
    for (c, (name, values)) in cols.iter().zip(&want.columns) {
        for (i, w) in values.iter().enumerate() {
            assert_var_value(&format!("var[{name:?}]"), c, i, w);
        }
    }
}

// ---------------------------------------------------------------- options

fn opt_str(args: &serde_json::Map<String, Value>, name: &str) -> Option<String> {
    match args.get(name) {
        None => None,
        Some(v) if kind(v) == "NULL" => None,
        Some(v) => {
            assert_eq!(kind(v), "character", "{name}: recorded as {}", kind(v));
            let s = strs(&v["values"], name);
            assert_eq!(s.len(), 1, "{name}: one string");
            s[0].clone()
        }
    }
}

fn opt_strs(args: &serde_json::Map<String, Value>, name: &str) -> Option<Vec<String>> {
    match args.get(name) {
        None => None,
        Some(v) if kind(v) == "NULL" => None,
        Some(v) => {
            assert_eq!(kind(v), "character", "{name}: recorded as {}", kind(v));
            Some(strs(&v["values"], name).into_iter().map(|s| s.expect("no NA")).collect())
        }
    }
}

/// A recorded number; absent means cellucid_prepare()'s default (`default`).
fn opt_num(args: &serde_json::Map<String, Value>, name: &str, default: Option<f64>) -> Option<f64> {
    match args.get(name) {
        None => default,
        Some(v) if kind(v) == "NULL" => None,
        Some(v) => {
            assert!(matches!(kind(v), "integer" | "double"), "{name}: recorded as {}", kind(v));
            let x = nums(&v["values"], name);
            assert_eq!(x.len(), 1, "{name}: one number");
            Some(x[0])
        }
    }
}

const PREPARE_ARGS: &[&str] = &[
    "latent_space",
    "obs",
    "var",
    "gene_expression",
    "var_gene_id_column",
    "gene_identifiers",
    "connectivities",
    "out_dir",
    "obs_keys",
    "centroid_outlier_quantile",
    "centroid_min_points",
    "force",
    "var_quantization",
    "obs_continuous_quantization",
    "obs_categorical_dtype",
    "compression",
    "dataset_name",
    "dataset_id",
    "dataset_description",
    "source_name",
    "source_url",
    "source_citation",
    "X_umap_1d",
    "X_umap_2d",
    "X_umap_3d",
    "vector_fields",
    "vector_field_default",
    "created_at",
];

fn assert_options(args: &serde_json::Map<String, Value>, o: &ExportOptions, out_dir: &Path) {
    if let Some(k) = args.keys().find(|k| !PREPARE_ARGS.contains(&k.as_str())) {
        panic!("{k}: cellucid_prepare() has no such argument");
    }
    let f = |x: Option<i64>| x.map(|v| v as f64);
    assert_eq!(opt_num(args, "var_quantization", None), f(o.var_quantization), "var_quantization");
    assert_eq!(
        opt_num(args, "obs_continuous_quantization", None),
        f(o.obs_continuous_quantization),
        "obs_continuous_quantization"
    );
    assert_eq!(opt_num(args, "compression", None), f(o.compression), "compression");
    assert_eq!(
        opt_num(args, "centroid_outlier_quantile", Some(0.95)),
        o.centroid_outlier_quantile,
        "centroid_outlier_quantile"
    );
    assert_eq!(
        opt_num(args, "centroid_min_points", Some(10.0)),
        Some(o.centroid_min_points as f64),
        "centroid_min_points"
    );
    assert_eq!(
        opt_str(args, "obs_categorical_dtype").as_deref(),
        Some(o.obs_categorical_dtype.as_str()),
        "obs_categorical_dtype"
    );
    assert_eq!(opt_str(args, "dataset_name").as_deref(), Some(o.dataset_name.as_str()), "dataset_name");
    assert_eq!(opt_str(args, "dataset_id").as_deref(), Some(o.dataset_id.as_str()), "dataset_id");
    assert_eq!(opt_strs(args, "obs_keys"), o.obs_keys, "obs_keys");
    assert_eq!(opt_strs(args, "gene_identifiers"), o.gene_identifiers, "gene_identifiers");
    let strings = [
        ("var_gene_id_column", &o.var_gene_id_column),
        ("dataset_description", &o.dataset_description),
        ("created_at", &o.created_at),
        ("source_name", &o.source_name),
        ("source_url", &o.source_url),
        ("source_citation", &o.source_citation),
        ("vector_field_default", &o.vector_field_default),
    ];
    for (name, want) in strings {
        assert_eq!(&opt_str(args, name), want, "{name}");
    }
    let force = args.get("force").map(|v| bools(&v["values"], "force")[0].expect("force"));
    assert_eq!(force.unwrap_or(false), o.force, "force");
    assert_eq!(opt_str(args, "out_dir").as_deref(), Some(out_dir.to_str().expect("utf-8 path")), "out_dir");
}

/// One driver run against ours: arrays, obs, var, options.
fn check(label: &str, input: &Path, params: &Path, extra: &[String], tmp: &Path) {
    let out_dir = tmp.join("export");
    let args = record(input, params, &out_dir, &tmp.join("args.json"));
    let (dataset, options) = ours(input, params, extra);
    let run = || {
        assert_arrays(&args, &dataset);
        assert_obs(&args, &dataset);
        assert_var(&args, &dataset);
        assert_options(&args, &options, &out_dir);
    };
    if let Err(e) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        let msg = e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()));
        panic!("{label}: {}", msg.unwrap_or_default());
    }
}

/// The peer's default mapping, stated as `export` flags: latent obsm/X_latent and each
/// obsm/X_umap_<d>d the file has; X and obsp/connectivities come from `export`'s own defaults.
fn peer_default_flags(input: &Path) -> Vec<String> {
    let mut flags = vec!["--latent".to_string(), "obsm/X_latent".to_string()];
    for d in 1..=3 {
        let mut probe = Mapping::default();
        probe.x_umap[d - 1] = Some(format!("obsm/X_umap_{d}d"));
        if h5ad::read(input, &probe).is_ok() {
            flags.extend(["--embedding".to_string(), format!("{d}d=obsm/X_umap_{d}d")]);
        }
    }
    flags
}

/// A case's params without `inputs` and the values the driver must derive, and its input
/// under a file name whose stem needs rewriting into a dataset id.
fn defaults_variant(case: &Path, tmp: &Path) -> (PathBuf, PathBuf) {
    let text = std::fs::read_to_string(case.join("params.json")).expect("params");
    let mut params: serde_json::Map<String, Value> = serde_json::from_str(&text).expect("params JSON");
    for k in ["inputs", "dataset_name", "dataset_id", "obs_categorical_dtype", "vector_field_default"] {
        params.remove(k);
    }
    let p = tmp.join("params-defaults.json");
    std::fs::write(&p, serde_json::to_vec(&params).expect("json")).expect("write params");
    let input = tmp.join(".my data (v2).h5ad");
    std::os::unix::fs::symlink(case.join("input.h5ad"), &input).expect("symlink input");
    (input, p)
}

#[test]
fn r_driver_passes_what_our_reader_takes() {
    if !have_rscript() {
        return;
    }
    let started = std::time::Instant::now();
    let cases = golden_cases();
    let with_defaults =
        ["case02_csr_q8_gz6_graph", "case05_cats255_uint8_bool_int", "case06_cats300_uint16", "case09_dense_graph_f64"];
    // Two workers at a time: each R process is single-threaded and CI has 2 cores.
    let mut jobs: Vec<(PathBuf, bool)> = cases.iter().map(|c| (c.clone(), false)).collect();
    jobs.extend(cases.iter().filter(|c| with_defaults.iter().any(|n| c.ends_with(n))).map(|c| (c.clone(), true)));
    let queue = std::sync::Mutex::new(jobs);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let Some((case, defaults)) = queue.lock().expect("queue").pop() else { break };
                let name = case.file_name().expect("name").to_string_lossy().into_owned();
                let tmp = tempfile::tempdir().expect("tempdir");
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    if defaults {
                        let (input, params) = defaults_variant(&case, tmp.path());
                        check(&format!("{name} (defaults)"), &input, &params, &peer_default_flags(&input), tmp.path());
                    } else {
                        check(&name, &case.join("input.h5ad"), &case.join("params.json"), &[], tmp.path());
                    }
                }));
                if let Err(e) = result {
                    let msg = e.downcast_ref::<String>().cloned().unwrap_or_else(|| format!("{name}: panicked"));
                    failures.lock().expect("failures").push(msg);
                }
            });
        }
    });
    let failures = failures.into_inner().expect("failures");
    eprintln!("r_driver: 16 driver runs in {:.1} s", started.elapsed().as_secs_f64());
    assert!(failures.is_empty(), "{} of 16 runs differ:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn r_driver_refuses_with_one_line() {
    if !have_rscript() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let case = shared().join("golden/case01_dense_f32_plain");
    let bad = tmp.path().join("bad.json");
    std::fs::write(&bad, r#"{"compression": 6, "compresion": 6}"#).expect("write");
    let run = |args: &[&std::ffi::OsStr]| {
        Command::new("Rscript")
            .arg(repo().join("scripts/writers/cellucid-r.R"))
            .args(args)
            .env("CELLUCID_R_RECORD", tmp.path().join("a.json"))
            .output()
            .expect("Rscript")
    };
    let input = case.join("input.h5ad");
    let out = tmp.path().join("out");
    let o = run(&[input.as_os_str(), out.as_os_str(), "--params".as_ref(), bad.as_os_str()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: PARAMS.json: unknown parameter(s) 'compresion'"), "{err}");
    let o = run(&[input.as_os_str(), out.as_os_str()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.starts_with("error: usage: cellucid-r.R") && err.lines().count() == 1, "{err}");
}

/// Rewrites `obs/<column>` of `path` into anndata 0.7's layout (codes as a plain dataset,
/// categories in `obs/__categories/<column>`), with hdf5r: our writer only writes ≥ 0.8.
fn to_legacy_categorical(path: &Path, column: &str) {
    let script = format!(
        r#"suppressPackageStartupMessages(library(hdf5r))
f <- H5File$new("{file}", mode = "r+")
codes <- f[["obs/{c}/codes"]]$read(); cats <- f[["obs/{c}/categories"]]$read()
f$link_delete("obs/{c}")
f$create_group("obs/__categories")
f[["obs/{c}"]] <- as.integer(codes)
f[["obs/__categories/{c}"]] <- cats
f$close_all()"#,
        file = path.display(),
        c = column
    );
    let o = Command::new("Rscript").arg("-e").arg(script).output().expect("Rscript");
    assert!(o.status.success(), "legacy rewrite: {}", String::from_utf8_lossy(&o.stderr));
}

fn col(name: &str, data: ObsData) -> ObsColumn {
    ObsColumn { name: name.to_string(), data }
}

/// Six cells, four genes, every obs column kind the golden files lack.
fn encodings_fixture() -> Dataset {
    let s = |x: &str| Some(x.to_string());
    let obs = ObsFrame {
        n_rows: 6,
        columns: vec![
            col("kind", ObsData::Strings(vec![s("β"), s("a"), s("B"), s("a"), s("ä"), s("B")])),
            col("maybe", ObsData::Strings(vec![s("x"), None, s("y"), s("x"), None, s("z")])),
            col(
                "count",
                ObsData::NullableNumeric {
                    values: Values::I64(vec![1, 0, 3, -4, 5, 0]),
                    missing: vec![false, true, false, false, false, true],
                },
            ),
            col("flag", ObsData::NullableBool(vec![Some(true), None, Some(false), Some(true), None, Some(false)])),
            col(
                "num_cat",
                ObsData::Categorical {
                    categories: vec![Label::Int(10), Label::Int(2)],
                    codes: vec![0, 1, -1, 1, 0, 0],
                },
            ),
            col(
                "float_cat",
                ObsData::Categorical {
                    categories: vec![Label::Float(0.1), Label::Float(2.5)],
                    codes: vec![1, 1, 0, -1, 0, 1],
                },
            ),
            col(
                "legacy",
                ObsData::Categorical {
                    categories: vec![Label::Str("z".into()), Label::Str("y".into()), Label::Str("unused".into())],
                    codes: vec![0, 1, 1, 0, -1, 0],
                },
            ),
            col("ratio", ObsData::Numeric(Values::F32(vec![0.1, -2.5, 3.25, 1e-7, 7.0, 0.3]))),
            col("small", ObsData::Numeric(Values::I32(vec![1, 2, 3, 4, 5, 6]))),
            col("ok", ObsData::Bool(vec![true, false, true, true, false, false])),
        ],
    };
    let var = VarFrame {
        index: ["g1", "g2", "g3", "g4"].iter().map(|g| Label::Str(g.to_string())).collect(),
        columns: vec![(
            "symbol".to_string(),
            ["CD3E", "NKG7", "ACTB", "HBB"].iter().map(|g| Label::Str(g.to_string())).collect(),
        )],
    };
    let x = Compressed {
        shape: (6, 4),
        indptr: vec![0, 2, 2, 5, 7],
        indices: vec![0, 5, 1, 2, 4, 0, 3],
        data: Values::F32(vec![1.5, 0.1, 3.0, 2.0, 0.7, 9.25, 1e-3]),
    };
    // A symmetric graph, CSR: 0-1, 1-2, 3-5.
    let graph = Compressed {
        shape: (6, 6),
        indptr: vec![0, 1, 3, 4, 5, 5, 6],
        indices: vec![1, 0, 2, 1, 5, 3],
        data: Values::F64(vec![0.5, 0.5, 0.25, 0.25, 1.0, 1.0]),
    };
    Dataset {
        latent_space: Some(Matrix::Dense(DenseArray::new_2d(
            6,
            2,
            (0..12).map(|i| i as f64 / 3.0).collect::<Vec<f64>>(),
        ))),
        x_umap_2d: Some(Matrix::Dense(DenseArray::new_2d(6, 2, (0..12).map(|i| i as f32 * 0.1).collect::<Vec<f32>>()))),
        obs: Some(obs),
        var: Some(var),
        gene_expression: Some(Matrix::Csc(x)),
        connectivities: Some(Matrix::Csr(graph)),
        ..Dataset::default()
    }
}

#[test]
fn r_driver_reads_other_column_encodings() {
    if !have_rscript() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let input = tmp.path().join("encodings.h5ad");
    let dataset = encodings_fixture();
    h5ad::write(&dataset, &input).expect("write fixture");
    to_legacy_categorical(&input, "legacy");
    let m = Mapping::written(&dataset);
    let params = serde_json::json!({
        "var_gene_id_column": "symbol",
        "gene_identifiers": ["HBB", "CD3E"],
        "centroid_outlier_quantile": 0.75,
        "compression": 3,
        "inputs": {
            "latent_space": m.latent_space, "gene_expression": m.gene_expression,
            "X_umap_2d": m.x_umap[1], "connectivities": m.connectivities,
        },
    });
    let params_path = tmp.path().join("params.json");
    std::fs::write(&params_path, params.to_string()).expect("write params");
    check("encodings fixture", &input, &params_path, &[], tmp.path());
    // The reader saw the 0.7 layout (not the categorical group the writer made).
    let ours = h5ad::read(&input, &m).expect("read");
    let legacy = ours.obs.expect("obs").columns.into_iter().find(|c| c.name == "legacy").expect("legacy column");
    assert!(matches!(legacy.data, ObsData::Categorical { ref categories, .. } if categories.len() == 3));
}

/// A test double of the cellucid package: `cellucid_prepare()` prints and warns (the driver
/// must swallow that), refuses `dataset_name = "boom"` with a two-line error, and otherwise
/// writes the names of its arguments into `out_dir`, sorted by the session's collation (the
/// driver must have made it code-point order: `X_umap_3d` before `compression`, as Python's
/// sorted()), and leaves a lock file beside it, as 0.9.2 does (the driver must remove it).
const FAKE_PREPARE: &str = r#"cellucid_prepare <- function(..., out_dir) {
  args <- list(...)
  cat("progress on stdout\n"); message("progress on stderr"); warning("a warning")
  if (identical(args$dataset_name, "boom")) stop("refused:\nsecond line")
  dir.create(out_dir)
  file.create(file.path(dirname(out_dir), paste0(".", basename(out_dir), ".cellucid.lock")))
  writeLines(sort(names(args)), file.path(out_dir, "args.txt"))
  invisible(NULL)
}
"#;

fn install_fake_cellucid(tmp: &Path) -> PathBuf {
    let src = tmp.join("src/cellucid");
    std::fs::create_dir_all(src.join("R")).expect("mkdir");
    std::fs::write(
        src.join("DESCRIPTION"),
        "Package: cellucid\nVersion: 0.0.0.9000\nTitle: Test Double\nDescription: cellucid_prepare() for a driver test.\n\
         License: MIT\nAuthor: test\nMaintainer: test <test@example.org>\n",
    )
    .expect("DESCRIPTION");
    std::fs::write(src.join("NAMESPACE"), "export(cellucid_prepare)\n").expect("NAMESPACE");
    std::fs::write(src.join("R/prepare.R"), FAKE_PREPARE).expect("prepare.R");
    let lib = tmp.join("lib");
    std::fs::create_dir_all(&lib).expect("mkdir lib");
    let o = Command::new("R").args(["CMD", "INSTALL", "-l"]).arg(&lib).arg(&src).output().expect("R CMD INSTALL");
    assert!(o.status.success(), "installing the test double: {}", String::from_utf8_lossy(&o.stderr));
    lib
}

#[test]
fn r_driver_calls_cellucid_prepare_quietly() {
    if !have_rscript() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let lib = install_fake_cellucid(tmp.path());
    let case = shared().join("golden/case02_csr_q8_gz6_graph");
    let driver = |params: &Path, out: &Path| {
        Command::new("Rscript")
            .arg(repo().join("scripts/writers/cellucid-r.R"))
            .args([
                "export".as_ref(),
                case.join("input.h5ad").as_os_str(),
                out.as_os_str(),
                "--params".as_ref(),
                params.as_os_str(),
            ])
            .env("R_LIBS", &lib)
            .env_remove("CELLUCID_R_RECORD")
            .output()
            .expect("Rscript")
    };
    let out = tmp.path().join("export");
    let o = driver(&case.join("params.json"), &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stdout.is_empty() && o.stderr.is_empty(), "cellucid_prepare()'s output must be swallowed");
    let names = std::fs::read_to_string(out.join("args.txt")).expect("the double ran");
    let mut want = vec![
        "X_umap_3d",
        "compression",
        "connectivities",
        "created_at",
        "dataset_id",
        "dataset_name",
        "force",
        "gene_expression",
        "latent_space",
        "obs",
        "obs_categorical_dtype",
        "obs_continuous_quantization",
        "obs_keys",
        "var",
        "var_quantization",
    ];
    want.sort_unstable();
    assert_eq!(names.lines().collect::<Vec<_>>(), want, "arguments passed (out_dir aside), in code-point order");
    assert!(!tmp.path().join(".export.cellucid.lock").exists(), "the lock file this run created is removed");

    let boom = tmp.path().join("boom.json");
    std::fs::write(&boom, r#"{"dataset_name": "boom"}"#).expect("write");
    let o = driver(&boom, &tmp.path().join("refused"));
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&o.stderr), "error: refused: | second line\n");
}
