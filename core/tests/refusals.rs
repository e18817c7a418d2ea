//! Every refusal of `golden/errors.json` that the Rust API can express: the same
//! error class and field, the reference's message, and `out_dir` left exactly as it
//! was (only the lock file may appear beside it). The inputs are the reference's
//! `error_base()` (dumped by `scripts/dump_error_base.py`), modified as each case says.

mod support;

use cellucid_core::{export, Compressed, Coo, Dataset, DenseArray, ErrorClass, ExportOptions, Label, Matrix, ObsColumn, ObsData, ObsFrame, Values, VarFrame};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use support::built::{export_built, Exporter};
use support::tree::{listing, shared_dir};

const N: usize = 40;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/error_base")
}

fn raw(spec: &Value) -> Values {
    let bytes = fs::read(data_dir().join(spec["file"].as_str().expect("file"))).expect("raw file");
    match spec["dtype"].as_str().expect("dtype") {
        "float32" => Values::F32(bytes.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().expect("4"))).collect()),
        "float64" => Values::F64(bytes.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8"))).collect()),
        "int32" => Values::I32(bytes.chunks_exact(4).map(|c| i32::from_le_bytes(c.try_into().expect("4"))).collect()),
        "int64" => Values::I64(bytes.chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().expect("8"))).collect()),
        other => panic!("dtype {other}"),
    }
}

fn dense(spec: &Value) -> DenseArray {
    let shape: Vec<usize> = spec["shape"].as_array().expect("shape").iter().map(|x| x.as_u64().expect("dim") as usize).collect();
    DenseArray { shape, values: raw(spec) }
}

fn f64s(v: &Values) -> Vec<f64> {
    v.to_f64_vec()
}

/// The valid base input and options of every refusal case.
fn base() -> (Dataset, ExportOptions) {
    let index: Value = serde_json::from_slice(&fs::read(data_dir().join("index.json")).expect("index")).expect("json");
    let c = &index["connectivities"];
    let indptr: Vec<u64> = f64s(&raw(&c["indptr"])).into_iter().map(|x| x as u64).collect();
    let indices: Vec<u32> = f64s(&raw(&c["indices"])).into_iter().map(|x| x as u32).collect();
    let conn = Compressed { shape: (N, N), indptr, indices, data: raw(&c["data"]) };
    let codes: Vec<i32> = match raw(&index["obs"]["ct"]["codes"]) {
        Values::I32(v) => v,
        _ => panic!("codes"),
    };
    let cats = index["obs"]["ct"]["categories"].as_array().expect("cats").iter().map(|s| Label::Str(s.as_str().expect("str").into())).collect();
    let obs = ObsFrame {
        n_rows: N,
        columns: vec![
            ObsColumn { name: "ct".into(), data: ObsData::Categorical { categories: cats, codes } },
            ObsColumn { name: "val".into(), data: ObsData::Numeric(raw(&index["obs"]["val"])) },
        ],
    };
    let ds = Dataset {
        latent_space: Some(dense(&index["latent_space"]).into()),
        obs: Some(obs),
        var: Some(VarFrame::from_ids(index["var_index"].as_array().expect("var").iter().map(|s| s.as_str().expect("id").to_string()))),
        gene_expression: Some(dense(&index["gene_expression"]).into()),
        connectivities: Some(Matrix::Csr(conn)),
        x_umap_2d: Some(dense(&index["X_umap_2d"]).into()),
        ..Default::default()
    };
    let p = &index["params"];
    let mut o = ExportOptions::new(
        p["dataset_name"].as_str().expect("name"),
        p["dataset_id"].as_str().expect("id"),
        p["obs_categorical_dtype"].as_str().expect("dtype"),
    );
    o.created_at = Some(p["created_at"].as_str().expect("created_at").into());
    (ds, o)
}

fn set_f64(m: &mut Option<Matrix>, i: usize, v: f64) {
    match m {
        Some(Matrix::Dense(d)) => match &mut d.values {
            Values::F64(x) => x[i] = v,
            Values::F32(x) => x[i] = v as f32,
            _ => panic!("dtype"),
        },
        _ => panic!("dense expected"),
    }
}

fn as_f64_dense(m: &Option<Matrix>) -> DenseArray {
    match m {
        Some(Matrix::Dense(d)) => DenseArray { shape: d.shape.clone(), values: Values::F64(d.values.to_f64_vec()) },
        _ => panic!("dense expected"),
    }
}

fn obs_col(ds: &mut Dataset, name: &str, data: ObsData) {
    let frame = ds.obs.as_mut().expect("obs");
    match frame.columns.iter_mut().find(|c| c.name == name) {
        Some(c) => c.data = data,
        None => frame.columns.push(ObsColumn { name: name.into(), data }),
    }
}

fn rename_cats(ds: &mut Dataset, a: &str, b: &str) {
    for c in &mut ds.obs.as_mut().expect("obs").columns {
        if c.name == "ct" {
            if let ObsData::Categorical { categories, .. } = &mut c.data {
                *categories = vec![Label::Str(a.into()), Label::Str(b.into())];
            }
        }
    }
}

fn conn_csr(ds: &mut Dataset) -> &mut Compressed {
    match ds.connectivities.as_mut() {
        Some(Matrix::Csr(c)) => c,
        _ => panic!("csr"),
    }
}

fn conn_f64(c: &mut Compressed) -> &mut Vec<f64> {
    match &mut c.data {
        Values::F64(v) => v,
        _ => panic!("f64 weights"),
    }
}

/// What the out_dir held before the call.
#[derive(Clone, Copy, PartialEq)]
enum Before {
    Absent,
    Junk,
    File,
    OldExport,
}

type Modify = fn(&mut Dataset, &mut ExportOptions);

/// `(id, modification, expected field, state before)`.
fn cases() -> Vec<(&'static str, Modify, &'static str, Before)> {
    use Before::*;
    vec![
        ("compression_0", |_, o| o.compression = Some(0), "compression", Absent),
        ("compression_10", |_, o| o.compression = Some(10), "compression", Absent),
        ("var_quant_12", |_, o| o.var_quantization = Some(12), "var_quantization", Absent),
        ("cat_dtype_auto", |_, o| o.obs_categorical_dtype = "auto".into(), "obs_categorical_dtype", Absent),
        ("quantile_0.5", |_, o| o.centroid_outlier_quantile = Some(0.5), "centroid_outlier_quantile", Absent),
        ("quantile_1", |_, o| o.centroid_outlier_quantile = Some(1.0), "centroid_outlier_quantile", Absent),
        ("min_points_0", |_, o| o.centroid_min_points = 0, "centroid_min_points", Absent),
        ("dataset_id_space", |_, o| o.dataset_id = "my dataset".into(), "dataset_id", Absent),
        ("dataset_id_CON", |_, o| o.dataset_id = "con.v1".into(), "dataset_id", Absent),
        ("dataset_id_dot", |_, o| o.dataset_id = "abc.".into(), "dataset_id", Absent),
        ("dataset_name_padded", |_, o| o.dataset_name = " padded".into(), "dataset_name", Absent),
        ("dataset_name_zwsp", |_, o| o.dataset_name = "a\u{200b}b".into(), "dataset_name", Absent),
        ("description_ctrl", |_, o| o.dataset_description = Some("line1\nline2".into()), "dataset_description", Absent),
        ("created_at_feb30", |_, o| o.created_at = Some("2026-02-30T00:00:00Z".into()), "created_at", Absent),
        ("created_at_space", |_, o| o.created_at = Some("2026-01-01 00:00:00".into()), "created_at", Absent),
        ("created_at_60s", |_, o| o.created_at = Some("2026-01-01T00:00:60Z".into()), "created_at", Absent),
        ("source_url_without_name", |_, o| o.source_url = Some("https://x".into()), "source_name", Absent),
        ("source_name_empty", |_, o| o.source_name = Some(String::new()), "source_name", Absent),
        ("no_embedding", |d, _| d.x_umap_2d = None, "X_umap_2d", Absent),
        ("emb2d_3cols", |d, _| {
            let v: Vec<f64> = (0..N * 3).map(|i| (i % 3) as f64).collect();
            d.x_umap_2d = Some(DenseArray::new_2d(N, 3, v).into());
        }, "X_umap_2d", Absent),
        ("emb2d_1dim", |d, _| {
            let e = as_f64_dense(&d.x_umap_2d);
            let Values::F64(v) = e.values else { unreachable!() };
            d.x_umap_2d = Some(DenseArray::new_1d(v.iter().step_by(2).copied().collect::<Vec<f64>>()).into());
        }, "X_umap_2d", Absent),
        ("emb_nan", |d, _| set_f64(&mut d.x_umap_2d, 3 * 2 + 1, f64::NAN), "X_umap_2d", Absent),
        ("emb_constant", |d, _| d.x_umap_2d = Some(DenseArray::new_2d(N, 2, vec![1.5f64; N * 2]).into()), "X_umap_2d", Absent),
        ("emb_row_mismatch", |d, _| {
            d.x_umap_3d = Some(DenseArray::new_2d(N - 1, 3, (0..(N - 1) * 3).map(|i| i as f64).collect::<Vec<f64>>()).into())
        }, "X_umap_3d", Absent),
        ("emb_bool", |d, _| d.x_umap_2d = Some(DenseArray::new_2d(N, 2, vec![true; N * 2]).into()), "X_umap_2d", Absent),
        ("emb_float32_overflow", |d, _| {
            d.x_umap_2d = Some(as_f64_dense(&d.x_umap_2d).into());
            set_f64(&mut d.x_umap_2d, 0, 1e300);
        }, "X_umap_2d", Absent),
        ("latent_none", |d, _| d.latent_space = None, "latent_space", Absent),
        ("latent_inf", |d, _| set_f64(&mut d.latent_space, 0, f64::INFINITY), "latent_space", Absent),
        ("latent_rows", |d, _| {
            let l = as_f64_dense(&d.latent_space);
            let Values::F64(v) = l.values else { unreachable!() };
            d.latent_space = Some(DenseArray::new_2d(N - 1, 4, v[..(N - 1) * 4].to_vec()).into());
        }, "latent_space", Absent),
        ("latent_1d", |d, _| {
            let l = as_f64_dense(&d.latent_space);
            let Values::F64(v) = l.values else { unreachable!() };
            d.latent_space = Some(DenseArray::new_1d(v.iter().step_by(4).copied().collect::<Vec<f64>>()).into());
        }, "latent_space", Absent),
        ("obs_none", |d, _| d.obs = None, "obs", Absent),
        ("obs_rows", |d, _| {
            let f = d.obs.as_mut().expect("obs");
            f.n_rows = N - 1;
            for c in &mut f.columns {
                match &mut c.data {
                    ObsData::Categorical { codes, .. } => codes.truncate(N - 1),
                    ObsData::Numeric(Values::F64(v)) => v.truncate(N - 1),
                    _ => {}
                }
            }
        }, "obs", Absent),
        ("obs_keys_unknown", |_, o| o.obs_keys = Some(vec!["ct".into(), "nope".into()]), "obs_keys", Absent),
        ("obs_keys_dup", |_, o| o.obs_keys = Some(vec!["ct".into(), "val".into(), "ct".into()]), "obs_keys", Absent),
        ("obs_cont_nan", |d, _| {
            let ObsData::Numeric(Values::F64(mut v)) = d.obs.as_ref().expect("obs").columns[1].data.clone() else { panic!() };
            v[2] = f64::NAN;
            v[5] = f64::NAN;
            obs_col(d, "val", ObsData::Numeric(Values::F64(v)));
        }, "obs['val']", Absent),
        ("obs_cont_inf", |d, _| {
            let ObsData::Numeric(Values::F64(mut v)) = d.obs.as_ref().expect("obs").columns[1].data.clone() else { panic!() };
            v[1] = f64::NEG_INFINITY;
            obs_col(d, "val", ObsData::Numeric(Values::F64(v)));
        }, "obs['val']", Absent),
        ("obs_cont_overflow", |d, _| {
            let ObsData::Numeric(Values::F64(mut v)) = d.obs.as_ref().expect("obs").columns[1].data.clone() else { panic!() };
            v[0] = 1e40;
            obs_col(d, "val", ObsData::Numeric(Values::F64(v)));
        }, "obs['val']", Absent),
        ("obs_cont_underflow", |d, _| {
            let ObsData::Numeric(Values::F64(mut v)) = d.obs.as_ref().expect("obs").columns[1].data.clone() else { panic!() };
            v[0] = 1e-50;
            obs_col(d, "val", ObsData::Numeric(Values::F64(v)));
        }, "obs['val']", Absent),
        ("obs_nullable_int_na", |d, _| {
            let values = Values::I64((0..N as i64).map(|i| (i - 1).max(0)).collect());
            let mut missing = vec![false; N];
            missing[0] = true;
            obs_col(d, "val", ObsData::NullableNumeric { values, missing });
        }, "obs['val']", Absent),
        ("obs_datetime", |d, _| obs_col(d, "when", ObsData::Unsupported { dtype_repr: "dtype('<M8[ns]')".into() }), "obs['when']", Absent),
        ("obs_key_trailing_space", |d, _| d.obs.as_mut().expect("obs").columns[1].name = "val ".into(), "obs_keys", Absent),
        ("cat_label_trailing_space", |d, _| rename_cats(d, "A", "B "), "obs['ct']", Absent),
        ("cat_label_collapse", |d, _| rename_cats(d, "T cell", "T  cell"), "obs['ct']", Absent),
        ("cat_label_empty", |d, _| {
            obs_col(d, "s", ObsData::Strings((0..N).map(|i| Some(if i % 2 == 0 { "" } else { "x" }.to_string())).collect()))
        }, "obs['s']", Absent),
        ("cat_label_nan_float", |d, _| {
            obs_col(d, "f", ObsData::Categorical {
                categories: vec![Label::Float(1.0), Label::Float(f64::INFINITY)],
                codes: (0..N as i32).map(|i| i % 2).collect(),
            })
        }, "obs['f']", Absent),
        ("cat_256_uint8", |d, _| {
            obs_col(d, "c256", ObsData::Categorical {
                categories: (0..256).map(|i| Label::Str(format!("k{i}"))).collect(),
                codes: (0..N as i32).collect(),
            })
        }, "obs['c256']", Absent),
        ("outliers_all_missing_q8", |_, o| {
            o.centroid_min_points = 100;
            o.obs_continuous_quantization = Some(8);
        }, "obs_continuous_quantization", Absent),
        ("gene_nan", |d, _| set_f64(&mut d.gene_expression, 4 * 3 + 1, f64::NAN), "gene_expression", Absent),
        ("gene_bool", |d, _| {
            let Some(Matrix::Dense(x)) = &d.gene_expression else { panic!() };
            let b: Vec<bool> = x.values.to_f64_vec().into_iter().map(|v| v > 1.0).collect();
            d.gene_expression = Some(DenseArray::new_2d(N, 3, b).into());
        }, "gene_expression", Absent),
        ("var_none", |d, _| d.var = None, "var", Absent),
        ("var_len", |d, _| d.var = Some(VarFrame::from_ids(["g1", "g2"])), "var", Absent),
        ("genes_transposed", |d, _| {
            let Some(Matrix::Dense(x)) = &d.gene_expression else { panic!() };
            let v = x.values.to_f64_vec();
            let t: Vec<f32> = (0..3).flat_map(|g| (0..N).map(move |r| (g, r))).map(|(g, r)| v[r * 3 + g] as f32).collect();
            d.gene_expression = Some(DenseArray::new_2d(3, N, t).into());
        }, "gene_expression", Absent),
        ("var_dup_ids", |d, _| d.var = Some(VarFrame::from_ids(["g1", "g2", "g1"])), "var", Absent),
        ("var_int_index", |d, _| d.var = Some(VarFrame { index: (0..3).map(Label::Int).collect(), columns: vec![] }), "var", Absent),
        ("var_id_column_missing", |_, o| o.var_gene_id_column = Some("symbol".into()), "var_gene_id_column", Absent),
        ("var_id_column_index", |_, o| o.var_gene_id_column = Some("index".into()), "var_gene_id_column", Absent),
        ("gene_ids_missing", |_, o| o.gene_identifiers = Some(vec!["g1".into(), "nope".into()]), "gene_identifiers", Absent),
        ("gene_ids_dup", |_, o| o.gene_identifiers = Some(vec!["g1".into(), "g1".into()]), "gene_identifiers", Absent),
        ("gene_id_ctrl", |d, _| d.var = Some(VarFrame::from_ids(["g1", "g\t2", "g3"])), "gene_identifiers", Absent),
        ("conn_asymmetric", |d, _| {
            // Add (0, 5) = 0.123 without its mirror (the base has no (0, 5) edge).
            let c = conn_csr(d);
            let dense = cellucid_core::stage::dense::to_dense(&Matrix::Csr(c.clone()));
            let mut v = dense.values.to_f64_vec();
            assert_eq!(v[5], 0.0, "the base graph has no (0, 5) edge");
            v[5] = 0.123;
            *c = csr_from_dense(&v);
        }, "connectivities", Absent),
        ("conn_weight_asym", |d, _| {
            let w = conn_f64(conn_csr(d));
            w[0] *= 1.0 + 2f64.powi(-40);
        }, "connectivities", Absent),
        ("conn_negative", |d, _| conn_f64(conn_csr(d)).iter_mut().for_each(|w| *w = -*w), "connectivities", Absent),
        ("conn_stored_zero", |d, _| conn_f64(conn_csr(d))[0] = 0.0, "connectivities", Absent),
        ("conn_diagonal", |d, _| {
            let c = conn_csr(d);
            let dense = cellucid_core::stage::dense::to_dense(&Matrix::Csr(c.clone()));
            let mut v = dense.values.to_f64_vec();
            v[2 * N + 2] = 1.0;
            *c = csr_from_dense(&v);
        }, "connectivities", Absent),
        ("conn_shape", |d, _| {
            d.connectivities = Some(Matrix::Csr(Compressed { shape: (N + 1, N + 1), indptr: vec![0; N + 2], indices: vec![], data: Values::F64(vec![]) }))
        }, "connectivities", Absent),
        ("conn_duplicate_coo", |d, _| {
            d.connectivities = Some(Matrix::Coo(Coo { shape: (N, N), rows: vec![0, 0, 1, 1], cols: vec![1, 1, 0, 0], data: Values::F64(vec![1.0; 4]) }))
        }, "connectivities", Absent),
        ("conn_dense_nan", |d, _| {
            let c = conn_csr(d);
            let dense = cellucid_core::stage::dense::to_dense(&Matrix::Csr(c.clone()));
            let mut v = dense.values.to_f64_vec();
            v[1] = f64::NAN;
            v[N] = f64::NAN;
            d.connectivities = Some(DenseArray::new_2d(N, N, v).into());
        }, "connectivities", Absent),
        ("vf_bad_key", |d, _| d.vector_fields = Some(vec![("velocity_2d".into(), DenseArray::new_2d(N, 2, vec![0.0f64; N * 2]).into())]), "vector_fields", Absent),
        ("vf_no_embedding", |d, _| d.vector_fields = Some(vec![("velocity_umap_3d".into(), DenseArray::new_2d(N, 3, vec![0.0f64; N * 3]).into())]), "vector_fields", Absent),
        ("vf_two_no_default", |d, _| {
            d.vector_fields = Some(vec![
                ("a_umap_2d".into(), DenseArray::new_2d(N, 2, vec![0.0f64; N * 2]).into()),
                ("b_umap_2d".into(), DenseArray::new_2d(N, 2, vec![1.0f64; N * 2]).into()),
            ])
        }, "vector_field_default", Absent),
        ("vf_default_unknown", |d, o| {
            d.vector_fields = Some(vec![("a_umap_2d".into(), DenseArray::new_2d(N, 2, vec![0.0f64; N * 2]).into())]);
            o.vector_field_default = Some("nope_umap".into());
        }, "vector_field_default", Absent),
        ("vf_default_without_fields", |_, o| o.vector_field_default = Some("a_umap".into()), "vector_field_default", Absent),
        ("vf_nan", |d, _| {
            // np.where(np.eye(n, 2) > 0, nan, 0.0): NaN at [0, 0] and [1, 1].
            let mut v = vec![0.0f64; N * 2];
            v[0] = f64::NAN;
            v[3] = f64::NAN;
            d.vector_fields = Some(vec![("a_umap_2d".into(), DenseArray::new_2d(N, 2, v).into())]);
        }, "vector_fields", Absent),
        ("vf_wrong_cols", |d, _| d.vector_fields = Some(vec![("a_umap_2d".into(), DenseArray::new_2d(N, 3, vec![0.0f64; N * 3]).into())]), "vector_fields", Absent),
        ("outdir_nonempty_noforce", |_, _| {}, "out_dir", Junk),
        ("outdir_is_file", |_, _| {}, "out_dir", File),
        ("rollback_existing_generation", |d, o| {
            o.force = true;
            set_f64(&mut d.gene_expression, 0, f64::INFINITY);
        }, "gene_expression", OldExport),
    ]
}

fn csr_from_dense(v: &[f64]) -> Compressed {
    let mut indptr = vec![0u64];
    let mut indices = Vec::new();
    let mut data = Vec::new();
    for r in 0..N {
        for c in 0..N {
            if v[r * N + c] != 0.0 {
                indices.push(c as u32);
                data.push(v[r * N + c]);
            }
        }
        indptr.push(indices.len() as u64);
    }
    Compressed { shape: (N, N), indptr, indices, data: Values::F64(data) }
}

/// Cases that exist only in Python's type system, with the reason they do not apply.
const NOT_EXPRESSIBLE: &[(&str, &str)] = &[
    ("compression_float", "compression is an i64 in ExportOptions: 6.0 cannot be passed (the CLI refuses a JSON 6.0 with this message)"),
    ("obs_quant_true", "a Rust bool cannot be passed where an integer is expected"),
    ("cat_dtype_missing", "obs_categorical_dtype is a required argument of ExportOptions::new"),
    ("min_points_float", "centroid_min_points is an i64"),
    ("force_str", "force is a bool"),
    ("umap4d_kwarg", "Dataset has no X_umap_4d field: an unknown keyword cannot be expressed"),
    ("obs_dict", "obs is an ObsFrame; a dict cannot be passed"),
    ("obs_keys_string", "obs_keys is Option<Vec<String>>: a bare string cannot be passed"),
    ("obs_key_nonstring", "obs column names are Strings"),
    ("gene_ids_string", "gene_identifiers is Option<Vec<String>>"),
    ("gene_sparse_array", "scipy's sparse-array AttributeError is a bug of the reference, not a rule"),
    ("vf_list", "vector_fields is a list of (key, array) pairs by construction"),
    ("outdir_cwd", "tested in publish's unit tests without changing the process CWD (tests run in parallel threads)"),
];

fn expected_cases() -> BTreeMap<String, Value> {
    let path = shared_dir().join("golden/errors.json");
    let v: Vec<Value> = serde_json::from_slice(&fs::read(&path).expect("errors.json")).expect("json");
    v.into_iter().map(|e| (e["id"].as_str().expect("id").to_string(), e)).collect()
}

fn class_name(c: ErrorClass) -> String {
    format!("{c:?}")
}

#[test]
fn every_refusal_is_covered_or_explained() {
    let expected = expected_cases();
    let covered: Vec<&str> = cases().iter().map(|c| c.0).chain(NOT_EXPRESSIBLE.iter().map(|c| c.0)).collect();
    for id in expected.keys() {
        assert!(covered.contains(&id.as_str()), "errors.json case {id} is neither tested nor explained");
    }
    assert_eq!(covered.len(), expected.len(), "a case is listed twice or does not exist");
}

#[test]
fn refusals_match_the_reference_and_leave_out_dir_untouched() {
    check_refusals(export);
}

/// The same refusals, in the same order of precedence, when the gene matrix is built
/// beside the checks of the graph, embeddings and obs (the Python package's way in).
#[test]
fn refusals_are_the_same_with_the_matrix_built_beside_the_checks() {
    check_refusals(export_built);
}

fn check_refusals(exporter: Exporter) {
    let expected = expected_cases();
    let mut failures = Vec::new();
    for (id, modify, field, before) in cases() {
        let e = &expected[id];
        let tmp = tempfile::tempdir().expect("tempdir");
        let parent = tmp.path().join(id).join("parent");
        let out = parent.join("export");
        fs::create_dir_all(&parent).expect("parent");
        let (mut ds, mut o) = base();
        match before {
            Before::Absent => {}
            Before::Junk => {
                fs::create_dir(&out).expect("mkdir");
                fs::write(out.join("keep.txt"), "old").expect("write");
            }
            Before::File => fs::write(&out, "i am a file").expect("write"),
            Before::OldExport => {
                export(&ds, &o, &out).expect("the base input exports");
            }
        }
        let before_bytes = snapshot(&out);
        modify(&mut ds, &mut o);
        let err = match exporter(&ds, &o, &out) {
            Ok(_) => {
                failures.push(format!("{id}: exported, but the reference refuses it"));
                continue;
            }
            Err(err) => err,
        };
        let want_msg = e["message"].as_str().expect("message").replace("<TMP>", &tmp.path().to_string_lossy());
        let want_msg = if e["exception_type"] == "KeyError" { want_msg.trim_matches('"').replace("\\'", "'") } else { want_msg };
        let got_class = err.class().map(class_name).unwrap_or_else(|| "none".into());
        if got_class != e["exception_type"].as_str().expect("type") {
            failures.push(format!("{id}: class {got_class}, reference {}", e["exception_type"]));
        }
        if err.field() != Some(field) {
            failures.push(format!("{id}: field {:?}, expected {field:?}", err.field()));
        }
        if err.to_string() != want_msg {
            failures.push(format!("{id}: message\n   ours: {err}\n   ref:  {want_msg}"));
        }
        if snapshot(&out) != before_bytes {
            failures.push(format!("{id}: out_dir changed"));
        }
        let (files, dirs) = listing(&parent);
        let leftovers: Vec<&String> = files
            .iter()
            .chain(dirs.iter())
            .filter(|p| !p.starts_with("export") && p.as_str() != ".export.cellucid.lock")
            .collect();
        if !leftovers.is_empty() {
            failures.push(format!("{id}: left behind {leftovers:?}"));
        }
    }
    assert!(failures.is_empty(), "{} problem(s):\n{}", failures.len(), failures.join("\n"));
}

/// Every file below `p` (or the file itself) with its bytes.
fn snapshot(p: &Path) -> Vec<(String, Vec<u8>)> {
    if p.is_file() {
        return vec![(String::new(), fs::read(p).expect("read"))];
    }
    if !p.exists() {
        return Vec::new();
    }
    let (files, dirs) = listing(p);
    let mut v: Vec<(String, Vec<u8>)> = files.into_iter().map(|f| (f.clone(), fs::read(p.join(&f)).expect("read"))).collect();
    v.extend(dirs.into_iter().map(|d| (d, Vec::new())));
    v.sort();
    v
}
