//! h5ad reader/writer tests: the 12 golden cases against their raw inputs, scanpy's
//! pre-0.7 `pbmc68k_reduced.h5ad`, write → read round trips (ours and anndata's), and
//! malformed files.

use std::path::{Path, PathBuf};
use std::process::Command;

use cellucid_core::{Compressed, Coo, DType, Dataset, DenseArray, Label, Matrix, ObsColumn, ObsData, ObsFrame, Values, VarFrame};
use cellucid_datasets::golden;
use cellucid_datasets::h5ad::{self, H5adError, Mapping};
use serde_json::{json, Value};

/// HDF5 keeps a `flock` on every open file and opens it without `O_CLOEXEC`, so a child
/// process spawned while another test has a file open inherits that lock and the test's
/// next open fails with EAGAIN. Tests that open files or spawn Python take this guard.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

// ------------------------------------------------------------------ comparison helpers

/// Values as (dtype, exact bit patterns), so NaN == NaN and -0.0 != 0.0.
fn bits(v: &Values) -> (DType, Vec<u64>) {
    let b = match v {
        Values::F32(x) => x.iter().map(|f| f.to_bits() as u64).collect(),
        Values::F64(x) => x.iter().map(|f| f.to_bits()).collect(),
        Values::Bool(x) => x.iter().map(|&b| b as u64).collect(),
        Values::I8(x) => x.iter().map(|&i| i as i64 as u64).collect(),
        Values::I16(x) => x.iter().map(|&i| i as i64 as u64).collect(),
        Values::I32(x) => x.iter().map(|&i| i as i64 as u64).collect(),
        Values::I64(x) => x.iter().map(|&i| i as u64).collect(),
        Values::U8(x) => x.iter().map(|&i| i as u64).collect(),
        Values::U16(x) => x.iter().map(|&i| i as u64).collect(),
        Values::U32(x) => x.iter().map(|&i| i as u64).collect(),
        Values::U64(x) => x.clone(),
    };
    (v.dtype(), b)
}

fn assert_values_eq(what: &str, got: &Values, want: &Values) {
    let (gd, gb) = bits(got);
    let (wd, wb) = bits(want);
    assert_eq!(gd, wd, "{what}: dtype");
    assert_eq!(gb.len(), wb.len(), "{what}: length");
    if let Some(i) = gb.iter().zip(&wb).position(|(a, b)| a != b) {
        panic!("{what}: element {i} differs: {} vs {}", got.get_f64(i), want.get_f64(i));
    }
}

/// `want_1d_as_column`: the raw input is `(n,)` and the h5ad (obsm) holds `(n, 1)`.
fn assert_matrix_eq(what: &str, got: &Matrix, want: &Matrix) {
    match (got, want) {
        (Matrix::Dense(g), Matrix::Dense(w)) => {
            if w.shape.len() == 1 {
                assert_eq!(g.shape, vec![w.shape[0], 1], "{what}: shape ((n,) stored as (n,1))");
            } else {
                assert_eq!(g.shape, w.shape, "{what}: shape");
            }
            assert_values_eq(what, &g.values, &w.values);
        }
        (Matrix::Csr(g), Matrix::Csr(w)) | (Matrix::Csc(g), Matrix::Csc(w)) => {
            assert_eq!(g.shape, w.shape, "{what}: shape");
            assert_eq!(g.indptr, w.indptr, "{what}: indptr");
            assert_eq!(g.indices, w.indices, "{what}: indices");
            assert_values_eq(what, &g.data, &w.data);
        }
        _ => panic!("{what}: format differs: got {:?}-like, want {:?}-like", got.shape(), want.shape()),
    }
}

fn label_eq(a: &Label, b: &Label) -> bool {
    match (a, b) {
        (Label::Float(x), Label::Float(y)) => x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
        _ => a == b,
    }
}

fn assert_labels_eq(what: &str, got: &[Label], want: &[Label]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(label_eq(g, w), "{what}[{i}]: {g:?} vs {w:?}");
    }
}

fn decode_categorical(categories: &[Label], codes: &[i32]) -> Vec<Option<String>> {
    codes
        .iter()
        .map(|&c| {
            (c >= 0).then(|| match &categories[c as usize] {
                Label::Str(s) => s.clone(),
                other => panic!("non-string category {other:?}"),
            })
        })
        .collect()
}

fn assert_obs_eq(what: &str, got: &ObsFrame, want: &ObsFrame, h5ad_strings_are_categorical: bool) {
    assert_eq!(got.n_rows, want.n_rows, "{what}: n_rows");
    let names = |f: &ObsFrame| f.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(got), names(want), "{what}: column order");
    for (g, w) in got.columns.iter().zip(&want.columns) {
        let what = format!("{what}.{}", g.name);
        match (&g.data, &w.data) {
            (ObsData::Categorical { categories, codes }, ObsData::Strings(want_values)) if h5ad_strings_are_categorical => {
                // The golden h5ad stores object strings as categoricals in code-point order.
                let cats: Vec<&str> = categories.iter().map(|l| if let Label::Str(s) = l { s.as_str() } else { "" }).collect();
                let mut sorted = cats.clone();
                sorted.sort();
                assert_eq!(cats, sorted, "{what}: categories in code-point order");
                assert_eq!(&decode_categorical(categories, codes), want_values, "{what}: values");
            }
            (ObsData::Categorical { categories: gc, codes: gk }, ObsData::Categorical { categories: wc, codes: wk }) => {
                assert_labels_eq(&format!("{what} categories"), gc, wc);
                assert_eq!(gk, wk, "{what}: codes");
            }
            (ObsData::Numeric(gv), ObsData::Numeric(wv)) => assert_values_eq(&what, gv, wv),
            (
                ObsData::NullableNumeric { values: gv, missing: gm },
                ObsData::NullableNumeric { values: wv, missing: wm },
            ) => {
                assert_eq!(gm, wm, "{what}: mask");
                let keep = |v: &Values, m: &[bool]| {
                    let (d, b) = bits(v);
                    (d, b.into_iter().zip(m).filter(|(_, &m)| !m).map(|(x, _)| x).collect::<Vec<_>>())
                };
                assert_eq!(keep(gv, gm), keep(wv, wm), "{what}: unmasked values");
            }
            (g, w) => assert_eq!(g, w, "{what}"),
        }
    }
}

fn assert_var_eq(what: &str, got: &Option<VarFrame>, want: &Option<VarFrame>) {
    match (got, want) {
        (None, None) => {}
        (Some(g), Some(w)) => {
            assert_labels_eq(&format!("{what}.index"), &g.index, &w.index);
            assert_eq!(g.columns.len(), w.columns.len(), "{what}: column count");
            for ((gn, gv), (wn, wv)) in g.columns.iter().zip(&w.columns) {
                assert_eq!(gn, wn, "{what}: column name");
                assert_labels_eq(&format!("{what}.{gn}"), gv, wv);
            }
        }
        _ => panic!("{what}: presence differs: got {}, want {}", got.is_some(), want.is_some()),
    }
}

fn assert_opt_matrix(what: &str, got: Option<&Matrix>, want: Option<&Matrix>) {
    match (got, want) {
        (None, None) => {}
        (Some(g), Some(w)) => assert_matrix_eq(what, g, w),
        _ => panic!("{what}: presence differs: got {}, want {}", got.is_some(), want.is_some()),
    }
}

fn assert_dataset_eq(what: &str, got: &Dataset, want: &Dataset, golden_h5ad: bool) {
    assert_opt_matrix(&format!("{what}.latent_space"), got.latent_space.as_ref(), want.latent_space.as_ref());
    assert_opt_matrix(&format!("{what}.gene_expression"), got.gene_expression.as_ref(), want.gene_expression.as_ref());
    assert_opt_matrix(&format!("{what}.connectivities"), got.connectivities.as_ref(), want.connectivities.as_ref());
    for d in 1..=3 {
        assert_opt_matrix(&format!("{what}.X_umap_{d}d"), got.embedding(d), want.embedding(d));
    }
    match (&got.vector_fields, &want.vector_fields) {
        (None, None) => {}
        (Some(g), Some(w)) => {
            let keys = |v: &Vec<(String, Matrix)>| v.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
            assert_eq!(keys(g), keys(w), "{what}: vector field order");
            for ((k, gm), (_, wm)) in g.iter().zip(w) {
                assert_matrix_eq(&format!("{what}.vector_fields[{k}]"), gm, wm);
            }
        }
        _ => panic!("{what}: vector_fields presence differs"),
    }
    let (Some(go), Some(wo)) = (&got.obs, &want.obs) else { panic!("{what}: obs missing") };
    assert_obs_eq(&format!("{what}.obs"), go, wo, golden_h5ad);
    assert_var_eq(&format!("{what}.var"), &got.var, &want.var);
}

// ------------------------------------------------------------------ golden cases

#[test]
fn golden_h5ad_matches_raw_inputs() {
    let _serial = serial();
    let dirs = golden::case_dirs(&golden::golden_root()).expect("golden root readable");
    assert_eq!(dirs.len(), 12, "expected the 12 golden cases under {}", golden::golden_root().display());
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let mapping = Mapping::from_params_text(&golden::params_text(&dir).unwrap()).unwrap();
        let got = h5ad::read(&dir.join("input.h5ad"), &mapping).unwrap_or_else(|e| panic!("{name}: {e}"));
        let want = golden::load_dataset(&dir).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_dataset_eq(&name, &got, &want, true);
    }
}

#[test]
fn golden_loader_builds_reference_inputs() {
    let _serial = serial();
    let root = golden::golden_root();
    let case04 = golden::load_dataset(&root.join("case04_embed1d_only")).unwrap();
    let Some(Matrix::Dense(d)) = &case04.x_umap_1d else { panic!("case04 X_umap_1d") };
    assert_eq!(d.shape, vec![400], "a (n,) X_umap_1d stays 1-D");
    assert_eq!(d.values.dtype(), DType::F64);

    let case05 = golden::load_dataset(&root.join("case05_cats255_uint8_bool_int")).unwrap();
    let obs = case05.obs.as_ref().unwrap();
    let ObsData::Categorical { categories, .. } = &obs.column("grade").unwrap().data else { panic!("grade") };
    assert_eq!(categories, &vec![Label::Float(0.5), Label::Float(1.0), Label::Float(2.5)]);
    let ObsData::Categorical { categories, .. } = &obs.column("leiden_int").unwrap().data else { panic!("leiden_int") };
    assert_eq!(categories[..3], [Label::Int(0), Label::Int(1), Label::Int(2)]);
    assert!(matches!(obs.column("donor_flag").unwrap().data, ObsData::NullableBool(ref v) if v.contains(&None)));
    assert!(case05.var.is_none() && case05.gene_expression.is_none());

    let case01 = golden::load_dataset(&root.join("case01_dense_f32_plain")).unwrap();
    let ObsData::Strings(batch) = &case01.obs.as_ref().unwrap().column("batch").unwrap().data else { panic!("batch") };
    assert!(batch.iter().flatten().all(|s| ["b1", "b10", "b2"].contains(&s.as_str())));

    let case08 = golden::load_dataset(&root.join("case08_vector_fields")).unwrap();
    let keys: Vec<_> = case08.vector_fields.as_ref().unwrap().iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["velocity_umap_3d", "velocity_umap_2d", "T_fwd_umap_2d"]);

    let o3 = golden::export_options(&root.join("case03_csc_q16_gz1_panel")).unwrap();
    assert_eq!(o3.var_gene_id_column.as_deref(), Some("symbol"));
    assert_eq!(o3.gene_identifiers.as_ref().unwrap()[..2], ["NKG7".to_string(), "CD3E".to_string()]);
    assert_eq!((o3.var_quantization, o3.obs_continuous_quantization, o3.compression), (Some(16), Some(16), Some(1)));
    assert_eq!(o3.source_citation.as_deref(), Some("Golden et al. (2026)"));
    assert_eq!(o3.created_at.as_deref(), Some("2026-01-02T03:04:05Z"));
    let o7 = golden::export_options(&root.join("case07_constant_unicode_gz9_noq")).unwrap();
    assert_eq!(o7.centroid_outlier_quantile, None);
    assert_eq!(o7.dataset_name, "Golden ünicode — case07");
    let o6 = golden::export_options(&root.join("case06_cats300_uint16")).unwrap();
    assert_eq!((o6.centroid_min_points, o6.obs_categorical_dtype.as_str()), (2, "uint16"));
    let o2 = golden::export_options(&root.join("case02_csr_q8_gz6_graph")).unwrap();
    assert_eq!(o2.obs_keys.as_ref().unwrap(), &["score", "cluster", "sample"]);
}

#[test]
fn mapping_from_inputs_json_checks_locations() {
    let _serial = serial();
    let m = Mapping::from_inputs_json(&json!({
        "gene_expression": "layers/counts", "latent_space": "obsm/X_pca", "X_umap_3d": "obsm/X_umap",
        "connectivities": "uns/neighbors/connectivities", "vector_fields": {"velocity_umap_2d": "obsm/velocity_umap"}
    }))
    .unwrap();
    assert_eq!(m.gene_expression.as_deref(), Some("layers/counts"));
    assert_eq!(m.x_umap, [None, None, Some("obsm/X_umap".to_string())]);
    assert_eq!(m.vector_fields, vec![("velocity_umap_2d".to_string(), "obsm/velocity_umap".to_string())]);
    assert!(matches!(Mapping::from_inputs_json(&json!({"latent_space": "X"})), Err(H5adError::Mapping(_))));
    assert!(matches!(Mapping::from_inputs_json(&json!({"latnt_space": "obsm/X"})), Err(H5adError::Mapping(_))));
}

// ------------------------------------------------------------------ pbmc68k (pre-0.7 layout)

#[test]
fn pbmc68k_reduced_reads_with_scanpy_defaults() {
    let _serial = serial();
    let path = &cellucid_datasets::golden::golden_root().join("../data/pbmc68k_reduced.h5ad");
    let mapping = Mapping::scanpy_defaults(path).unwrap();
    assert_eq!(mapping.gene_expression.as_deref(), Some("X"));
    assert_eq!(mapping.latent_space.as_deref(), Some("obsm/X_pca"));
    assert_eq!(mapping.x_umap, [None, Some("obsm/X_umap".to_string()), None]);
    assert_eq!(mapping.connectivities.as_deref(), Some("uns/neighbors/connectivities"));

    let ds = h5ad::read(path, &mapping).unwrap();
    let Some(Matrix::Dense(x)) = &ds.gene_expression else { panic!("X is dense") };
    assert_eq!((x.shape.clone(), x.values.dtype()), (vec![700, 765], DType::F32));
    assert_eq!(x.values.to_f32_vec()[..4], [-0.326f32, -0.191, -0.728, -0.301]);
    let Some(Matrix::Dense(pca)) = &ds.latent_space else { panic!("X_pca") };
    assert_eq!((pca.shape.clone(), pca.values.dtype()), (vec![700, 50], DType::F32));
    assert_eq!(pca.values.to_f32_vec()[..3], [-7.939618f32, 5.024914, 2.9037306]);
    let Some(Matrix::Dense(umap)) = &ds.x_umap_2d else { panic!("X_umap") };
    assert_eq!((umap.shape.clone(), umap.values.dtype()), (vec![700, 2], DType::F64));
    let Some(Matrix::Csr(conn)) = &ds.connectivities else { panic!("connectivities is CSR") };
    assert_eq!((conn.shape, conn.nnz(), conn.data.dtype()), ((700, 700), 9992, DType::F64));

    let obs = ds.obs.as_ref().unwrap();
    assert_eq!(obs.n_rows, 700);
    let names: Vec<_> = obs.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["bulk_labels", "n_genes", "percent_mito", "n_counts", "S_score", "G2M_score", "phase", "louvain"]);
    let ObsData::Categorical { categories, codes } = &obs.column("bulk_labels").unwrap().data else { panic!("bulk_labels") };
    // Stored order, not sorted: "CD14+ Monocyte" comes after "CD8+…".
    let want = ["CD4+/CD25 T Reg", "CD4+/CD45RA+/CD25- Naive T", "CD4+/CD45RO+ Memory", "CD8+ Cytotoxic T",
        "CD8+/CD45RA+ Naive Cytotoxic", "CD14+ Monocyte", "CD19+ B", "CD34+", "CD56+ NK", "Dendritic"];
    assert_eq!(categories, &want.iter().map(|s| Label::Str(s.to_string())).collect::<Vec<_>>());
    assert_eq!(codes[..5], [5, 9, 8, 0, 9]);
    let ObsData::Categorical { categories, codes } = &obs.column("louvain").unwrap().data else { panic!("louvain") };
    assert_eq!(categories, &(0..11).map(|i| Label::Str(i.to_string())).collect::<Vec<_>>());
    assert_eq!(codes[..5], [1, 1, 3, 9, 2]);
    let ObsData::Numeric(n_genes) = &obs.column("n_genes").unwrap().data else { panic!("n_genes") };
    assert_eq!(n_genes.dtype(), DType::I64);
    assert_eq!(n_genes.to_f64_vec()[..3], [1003.0, 1080.0, 1228.0]);

    let var = ds.var.as_ref().unwrap();
    assert_eq!(var.len(), 765);
    assert_eq!(var.index[..2], [Label::Str("HES4".into()), Label::Str("TNFRSF4".into())]);
    let hv = &var.columns.iter().find(|(n, _)| n == "highly_variable").unwrap().1;
    assert_eq!(hv[..3], [Label::Bool(true), Label::Bool(true), Label::Bool(false)]);
}

// ------------------------------------------------------------------ round trips

/// A small dataset exercising every obs kind and every matrix format.
fn hand_built() -> Dataset {
    let n = 6;
    let s = |x: &str| Label::Str(x.to_string());
    let obs = ObsFrame {
        n_rows: n,
        columns: vec![
            ObsColumn { name: "cell type".into(), data: ObsData::Categorical { categories: vec![s("T"), s("B"), s("unused")], codes: vec![0, 1, -1, 0, 1, 1] } },
            ObsColumn { name: "score".into(), data: ObsData::Numeric(Values::F32(vec![0.5, -1.25, f32::NAN, 3.0, 1e-8, 7.0])) },
            ObsColumn { name: "n_genes".into(), data: ObsData::Numeric(Values::I64(vec![1, 2, 3, 1 << 40, -5, 0])) },
            ObsColumn { name: "leiden".into(), data: ObsData::Categorical { categories: vec![Label::Int(3), Label::Int(1)], codes: vec![0, 0, 1, 1, 0, 1] } },
            ObsColumn { name: "grade".into(), data: ObsData::Categorical { categories: vec![Label::Float(0.5), Label::Float(2.5)], codes: vec![1, 0, 1, 0, -1, 0] } },
            ObsColumn { name: "batch".into(), data: ObsData::Strings(vec![Some("b1".into()), Some("b10".into()), Some("b2".into()), Some("é 細胞".into()), Some("b1".into()), Some("".into())]) },
            ObsColumn { name: "sample/with slash".into(), data: ObsData::Strings(vec![Some("x".into()), None, Some("y".into()), None, Some("x".into()), Some("z".into())]) },
            ObsColumn { name: "doublet".into(), data: ObsData::Bool(vec![true, false, false, true, false, false]) },
            ObsColumn { name: "flag".into(), data: ObsData::NullableBool(vec![Some(true), None, Some(false), None, Some(true), Some(true)]) },
            ObsColumn { name: "count".into(), data: ObsData::NullableNumeric { values: Values::I32(vec![4, 0, -2, 0, 9, 1]), missing: vec![false, true, false, true, false, false] } },
        ],
    };
    let var = VarFrame {
        index: ["CD3E", "MS4A1", "NKG7", "LYZ"].iter().map(|x| s(x)).collect(),
        columns: vec![
            ("symbol".into(), vec![s("a"), s("b"), s("c"), s("d")]),
            ("n_cells".into(), vec![Label::Int(1), Label::Int(5), Label::Int(0), Label::Int(2)]),
        ],
    };
    // CSR 6×4 with an unsorted row and a duplicate entry (kept as stored).
    let x = Compressed {
        shape: (n, 4),
        indptr: vec![0, 2, 2, 5, 6, 8, 9],
        indices: vec![3, 0, 2, 1, 2, 0, 1, 3, 2],
        data: Values::F32(vec![1.0, 2.0, 3.0, 4.0, 5.5, 6.0, 7.0, 8.0, 9.0]),
    };
    let conn = Compressed {
        shape: (n, n),
        indptr: vec![0, 1, 2, 3, 3, 4, 5],
        indices: vec![1, 0, 4, 2, 5],
        data: Values::F64(vec![0.5, 0.5, 1.0 + 2f64.powi(-40), 0.25, 0.75]),
    };
    let col = |k: usize, base: f64| (0..n * k).map(|i| base + i as f64 * 0.5).collect::<Vec<f64>>();
    Dataset {
        latent_space: Some(DenseArray::new_2d(n, 3, col(3, -1.0)).into()),
        obs: Some(obs),
        var: Some(var),
        gene_expression: Some(Matrix::Csr(x)),
        connectivities: Some(Matrix::Csc(conn)),
        x_umap_1d: Some(DenseArray::new_1d(col(1, 0.0).into_iter().map(|v| v as f32).collect::<Vec<_>>()).into()),
        x_umap_2d: Some(DenseArray::new_2d(n, 2, col(2, 2.0).into_iter().map(|v| v as f32).collect::<Vec<_>>()).into()),
        x_umap_3d: None,
        vector_fields: Some(vec![
            ("velocity_umap_2d".into(), DenseArray::new_2d(n, 2, col(2, 9.0)).into()),
            ("T_fwd_umap_1d".into(), DenseArray::new_2d(n, 1, col(1, -3.0)).into()),
        ]),
    }
}

#[test]
fn write_then_read_round_trips() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rt.h5ad");
    let ds = hand_built();
    h5ad::write(&ds, &path).unwrap();
    let back = h5ad::read(&path, &Mapping::written(&ds)).unwrap();
    assert_dataset_eq("round trip", &back, &ds, false);
}

#[test]
fn csr_x_read_for_export_becomes_csc_in_storage_order() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("csc.h5ad");
    let ds = hand_built();
    h5ad::write(&ds, &path).unwrap();
    let back = h5ad::read_csr_as_csc(&path, &Mapping::written(&ds)).unwrap();
    let Some(Matrix::Csr(csr)) = &ds.gene_expression else { unreachable!() };
    // Expected CSC: per column, entries in row order, duplicates kept (scipy's tocsc).
    let mut cols: Vec<Vec<(u32, f32)>> = vec![Vec::new(); csr.shape.1];
    let data = csr.data.to_f32_vec();
    for r in 0..csr.shape.0 {
        for k in csr.indptr[r] as usize..csr.indptr[r + 1] as usize {
            cols[csr.indices[k] as usize].push((r as u32, data[k]));
        }
    }
    let mut want = Compressed { shape: csr.shape, indptr: vec![0], indices: vec![], data: Values::F32(vec![]) };
    let mut wd = Vec::new();
    for c in &cols {
        for &(r, v) in c {
            want.indices.push(r);
            wd.push(v);
        }
        want.indptr.push(want.indices.len() as u64);
    }
    want.data = Values::F32(wd);
    assert_matrix_eq("X as CSC", back.gene_expression.as_ref().unwrap(), &Matrix::Csc(want));
    // Only X is converted.
    assert!(matches!(back.connectivities, Some(Matrix::Csc(_))));
}

#[test]
fn coo_is_written_as_csr_keeping_duplicates() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("coo.h5ad");
    let mut ds = hand_built();
    ds.gene_expression = None;
    ds.var = None;
    ds.connectivities = Some(Matrix::Coo(Coo {
        shape: (6, 6),
        rows: vec![3, 0, 3, 5],
        cols: vec![1, 2, 1, 0],
        data: Values::F32(vec![1.0, 2.0, 3.0, 4.0]),
    }));
    h5ad::write(&ds, &path).unwrap();
    let back = h5ad::read(&path, &Mapping::written(&ds)).unwrap();
    let want = Compressed {
        shape: (6, 6),
        indptr: vec![0, 1, 1, 1, 3, 3, 4],
        indices: vec![2, 1, 1, 0],
        data: Values::F32(vec![2.0, 1.0, 3.0, 4.0]),
    };
    assert_matrix_eq("obsp from COO", back.connectivities.as_ref().unwrap(), &Matrix::Csr(want));
}

// ------------------------------------------------------------------ anndata reads our file

fn peer_python() -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
    let candidates: Vec<PathBuf> = match std::env::var_os("CELLUCID_PEER_VENV") {
        Some(v) => vec![PathBuf::from(v)],
        None => vec![repo.join(".venv-peer"), PathBuf::from("/work/.venv-peer")],
    };
    for venv in &candidates {
        let py = venv.join("bin").join("python");
        if py.exists() {
            return py;
        }
    }
    panic!(
        "no peer Python venv found (tried {candidates:?}); run `bash ../shared/peer/setup.sh .venv-peer` in the repository \
         to create it, or point CELLUCID_PEER_VENV at one with anndata installed"
    );
}

fn json_values(v: &Values) -> Value {
    // NaN has no JSON form; encode it as null and let Python compare with NaN-aware equality.
    Value::Array(
        (0..v.len())
            .map(|i| {
                let x = v.get_f64(i);
                if x.is_nan() {
                    Value::Null
                } else if let Values::I64(a) = v {
                    json!(a[i])
                } else {
                    json!(x)
                }
            })
            .collect(),
    )
}

fn json_label(l: &Label) -> Value {
    match l {
        Label::Str(s) => json!(s),
        Label::Int(i) => json!(i),
        Label::Float(f) => json!(f),
        Label::Bool(b) => json!(b),
    }
}

/// A matrix as a JSON list of rows (sparse duplicates summed, as scipy's `toarray`).
fn dense_rows(m: &Matrix) -> Value {
    let (rows, cols, dense) = match m {
        Matrix::Dense(d) => {
            let cols = d.shape.get(1).copied().unwrap_or(1);
            (d.shape[0], cols, d.values.to_f64_vec())
        }
        Matrix::Csr(c) | Matrix::Csc(c) => {
            let csr = matches!(m, Matrix::Csr(_));
            let mut dense = vec![0.0; c.shape.0 * c.shape.1];
            let major = if csr { c.shape.0 } else { c.shape.1 };
            for a in 0..major {
                for k in c.indptr[a] as usize..c.indptr[a + 1] as usize {
                    let (r, col) = if csr { (a, c.indices[k] as usize) } else { (c.indices[k] as usize, a) };
                    dense[r * c.shape.1 + col] += c.data.get_f64(k);
                }
            }
            (c.shape.0, c.shape.1, dense)
        }
        Matrix::Coo(_) => unreachable!("not used here"),
    };
    json!((0..rows).map(|r| dense[r * cols..(r + 1) * cols].to_vec()).collect::<Vec<_>>())
}

fn expectations(ds: &Dataset) -> Value {
    let mut obs = Vec::new();
    for c in &ds.obs.as_ref().unwrap().columns {
        let e = match &c.data {
            ObsData::Numeric(v) => json!({"kind": "numeric", "dtype": v.dtype().name(), "values": json_values(v)}),
            ObsData::Bool(b) => json!({"kind": "bool", "values": b}),
            ObsData::Categorical { categories, codes } => json!({"kind": "categorical",
                "categories": categories.iter().map(json_label).collect::<Vec<_>>(), "codes": codes}),
            ObsData::Strings(s) => json!({"kind": "strings", "values": s}),
            ObsData::NullableBool(b) => json!({"kind": "nullable", "values": b}),
            ObsData::NullableNumeric { values, missing } => json!({"kind": "nullable", "values":
                (0..values.len()).map(|i| if missing[i] { Value::Null } else { json!(values.get_f64(i) as i64) }).collect::<Vec<_>>()}),
            ObsData::Unsupported { .. } => unreachable!(),
        };
        obs.push(json!({"name": c.name, "expect": e}));
    }
    let var = ds.var.as_ref().unwrap();
    let mut obsm = serde_json::Map::new();
    obsm.insert("X_latent".into(), dense_rows(ds.latent_space.as_ref().unwrap()));
    for d in 1..=3 {
        if let Some(m) = ds.embedding(d) {
            obsm.insert(format!("X_umap_{d}d"), dense_rows(m));
        }
    }
    for (k, m) in ds.vector_fields.iter().flatten() {
        obsm.insert(k.clone(), dense_rows(m));
    }
    json!({
        "n_obs": ds.obs.as_ref().unwrap().n_rows,
        "obs": obs,
        "var_index": var.index.iter().map(json_label).collect::<Vec<_>>(),
        "var_columns": var.columns.iter().map(|(n, v)| json!([n, v.iter().map(json_label).collect::<Vec<_>>()])).collect::<Vec<_>>(),
        "X": dense_rows(ds.gene_expression.as_ref().unwrap()),
        "X_format": match ds.gene_expression.as_ref().unwrap() { Matrix::Csr(_) => "csr", Matrix::Csc(_) => "csc", _ => "dense" },
        "obsm": obsm,
        "connectivities": dense_rows(ds.connectivities.as_ref().unwrap()),
    })
}

const CHECK_PY: &str = r#"
import json, sys, math
import numpy as np, pandas as pd, anndata as ad, scipy.sparse as sp
a = ad.read_h5ad(sys.argv[1])
e = json.load(open(sys.argv[2]))
errors = []
def same(x, y):
    if y is None:
        return x is None or (isinstance(x, float) and math.isnan(x)) or pd.isna(x)
    if isinstance(y, float) and isinstance(x, (float, np.floating)):
        return float(x) == y
    return x == y
def cmp(what, got, want):
    if len(got) != len(want) or not all(same(g, w) for g, w in zip(got, want)):
        errors.append(f"{what}: {list(got)[:8]} != {list(want)[:8]}")
if a.n_obs != e["n_obs"]: errors.append(f"n_obs {a.n_obs}")
if list(a.obs.columns) != [c["name"] for c in e["obs"]]: errors.append(f"obs columns {list(a.obs.columns)}")
if list(a.obs_names) != [f"cell{i}" for i in range(a.n_obs)]: errors.append("obs index")
for c in e["obs"]:
    col, x = a.obs[c["name"]], c["expect"]
    if x["kind"] == "categorical":
        if not isinstance(col.dtype, pd.CategoricalDtype): errors.append(f"{c['name']}: dtype {col.dtype}"); continue
        cmp(c["name"] + " categories", [v.item() if hasattr(v, "item") else v for v in col.cat.categories], x["categories"])
        cmp(c["name"] + " codes", col.cat.codes.tolist(), x["codes"])
    elif x["kind"] == "numeric":
        if str(col.dtype) != x["dtype"]: errors.append(f"{c['name']}: dtype {col.dtype} != {x['dtype']}")
        cmp(c["name"], [None if (isinstance(v, float) and math.isnan(v)) else v for v in col.tolist()], x["values"])
    elif x["kind"] == "bool":
        if str(col.dtype) != "bool": errors.append(f"{c['name']}: dtype {col.dtype}")
        cmp(c["name"], col.tolist(), x["values"])
    else:
        cmp(c["name"], [None if pd.isna(v) else v for v in col.tolist()], x["values"])
cmp("var index", list(a.var_names), e["var_index"])
for name, vals in e["var_columns"]:
    cmp("var " + name, a.var[name].tolist(), vals)
X = a.X
fmt = "csr" if sp.isspmatrix_csr(X) or isinstance(X, sp.csr_array) else "csc" if sp.issparse(X) else "dense"
if fmt != e["X_format"]: errors.append(f"X format {fmt}")
Xd = X.toarray() if sp.issparse(X) else np.asarray(X)
if not np.array_equal(Xd, np.array(e["X"])): errors.append("X values")
for k, v in e["obsm"].items():
    if k not in a.obsm: errors.append(f"obsm {k} missing"); continue
    if not np.array_equal(np.asarray(a.obsm[k], dtype=np.float64), np.array(v)): errors.append(f"obsm {k} values")
C = a.obsp["connectivities"]
if not np.array_equal(C.toarray() if sp.issparse(C) else C, np.array(e["connectivities"])): errors.append("obsp values")
if errors:
    print("\n".join(errors)); sys.exit(1)
print("anndata check ok")
"#;

#[test]
fn anndata_reads_what_we_write() {
    let _serial = serial();
    let python = peer_python();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("peer.h5ad");
    let ds = hand_built();
    h5ad::write(&ds, &path).unwrap();
    let exp_path = dir.path().join("expect.json");
    std::fs::write(&exp_path, serde_json::to_vec(&expectations(&ds)).unwrap()).unwrap();
    let script = dir.path().join("check.py");
    std::fs::write(&script, CHECK_PY).unwrap();
    let out = Command::new(&python).arg(&script).arg(&path).arg(&exp_path).output().unwrap();
    assert!(
        out.status.success(),
        "anndata disagrees with what we wrote:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

// ------------------------------------------------------------------ malformed files

fn golden_copy(case: &str, dir: &Path) -> PathBuf {
    let src = golden::golden_root().join(case).join("input.h5ad");
    let dst = dir.join(format!("{case}.h5ad"));
    std::fs::copy(&src, &dst).unwrap();
    dst
}

fn mapping_of(case: &str) -> Mapping {
    let params = golden::params_json(&golden::golden_root().join(case)).unwrap();
    Mapping::from_inputs_json(&params["inputs"]).unwrap()
}

#[test]
fn params_text_keeps_vector_field_order() {
    let _serial = serial();
    let dir = golden::golden_root().join("case08_vector_fields");
    let m = Mapping::from_params_text(&golden::params_text(&dir).unwrap()).unwrap();
    let keys: Vec<_> = m.vector_fields.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["velocity_umap_3d", "velocity_umap_2d", "T_fwd_umap_2d"]);
    assert_eq!(m.vector_fields[2].1, "obsm/T_fwd_umap_2d");
}

#[test]
fn truncated_file_is_a_clear_error() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = golden_copy("case01_dense_f32_plain", dir.path());
    let len = std::fs::metadata(&path).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(len / 2).unwrap();
    let err = h5ad::read(&path, &mapping_of("case01_dense_f32_plain")).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, H5adError::Open { .. }), "expected an open error, got {msg}");
    assert!(msg.contains("case01_dense_f32_plain.h5ad"), "message names the file: {msg}");
}

#[test]
fn missing_obsm_key_names_it() {
    let _serial = serial();
    let path = golden::golden_root().join("case01_dense_f32_plain").join("input.h5ad");
    let mut mapping = mapping_of("case01_dense_f32_plain");
    mapping.latent_space = Some("obsm/X_nope".into());
    let err = h5ad::read(&path, &mapping).unwrap_err();
    assert!(matches!(err, H5adError::Missing { .. }), "{err}");
    assert_eq!(err.h5_path(), Some("obsm/X_nope"));
    assert!(err.to_string().contains("obsm/X_nope"), "{err}");
}

#[test]
fn wrong_sparse_shape_attribute_is_refused() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let case = "case03_csc_q16_gz1_panel"; // X is CSC 100 × 15
    let path = golden_copy(case, dir.path());
    {
        let f = hdf5::File::open_rw(&path).unwrap();
        let x = f.group("X").unwrap();
        x.delete_attr("shape").unwrap();
        h5ad::encoding::set_ints(&x, "shape", &[100, 14], "X").unwrap();
    }
    let err = h5ad::read(&path, &mapping_of(case)).unwrap_err();
    assert!(matches!(err, H5adError::Malformed { .. }), "{err}");
    assert_eq!(err.h5_path(), Some("X/indptr"), "{err}");

    // Rows too few for the stored row indices: caught by the index bounds check.
    let sub = dir.path().join("second");
    std::fs::create_dir(&sub).unwrap();
    let path2 = golden_copy(case, &sub);
    {
        let f = hdf5::File::open_rw(&path2).unwrap();
        let x = f.group("X").unwrap();
        x.delete_attr("shape").unwrap();
        h5ad::encoding::set_ints(&x, "shape", &[50, 15], "X").unwrap();
    }
    let err = h5ad::read(&path2, &mapping_of(case)).unwrap_err();
    assert!(err.to_string().contains("X/indices"), "{err}");
}

#[test]
fn unsupported_encoding_names_path_and_encoding() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let case = "case01_dense_f32_plain";
    let path = golden_copy(case, dir.path());
    {
        let f = hdf5::File::open_rw(&path).unwrap();
        let g = f.group("obsm").unwrap();
        let sub = g.create_group("weird").unwrap();
        h5ad::encoding::set_string(&sub, "encoding-type", "awkward-array", "obsm/weird").unwrap();
    }
    let mut mapping = mapping_of(case);
    mapping.latent_space = Some("obsm/weird".into());
    let err = h5ad::read(&path, &mapping).unwrap_err();
    let H5adError::Unsupported { path: p, encoding, .. } = &err else { panic!("{err}") };
    assert_eq!((p.as_str(), encoding.as_str()), ("obsm/weird", "awkward-array"));
}

// ------------------------------------------------------------------ write speed

/// `cargo test --release -p cellucid-datasets --test h5ad -- --ignored --nocapture write_throughput`
#[test]
#[ignore = "measurement: writes ~400 MB"]
fn write_throughput_50m_nnz_csr() {
    let _serial = serial();
    let n_rows = 1_000_000usize;
    let n_cols = 20_000usize;
    let nnz = 50_000_000usize;
    let per_row = nnz / n_rows;
    let indptr: Vec<u64> = (0..=n_rows).map(|r| (r * per_row) as u64).collect();
    let indices: Vec<u32> = (0..nnz).map(|k| ((k * 7919) % n_cols) as u32).collect();
    let data: Vec<f32> = (0..nnz).map(|k| (k % 97) as f32).collect();
    let x = Compressed { shape: (n_rows, n_cols), indptr, indices, data: Values::F32(data) };
    let bytes = x.data.nbytes() + x.indices.len() * 4 + x.indptr.len() * 8;
    let ds = Dataset {
        obs: Some(ObsFrame { n_rows, columns: vec![] }),
        var: Some(VarFrame::from_ids((0..n_cols).map(|i| format!("g{i}")))),
        gene_expression: Some(Matrix::Csr(x)),
        ..Dataset::default()
    };
    let dir = std::env::var_os("CELLUCID_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let path = dir.join("h5ad-write-throughput.h5ad");
    for run in 0..3 {
        let t = std::time::Instant::now();
        h5ad::write(&ds, &path).unwrap();
        let secs = t.elapsed().as_secs_f64();
        let size = std::fs::metadata(&path).unwrap().len();
        if run < 2 {
            std::fs::remove_file(&path).unwrap();
        }
        println!(
            "h5ad write run {run}: {nnz} nnz CSR f32, matrix {:.1} MB, file {:.1} MB, {secs:.3} s (incl. 1M obs names), {:.0} MB/s of file",
            bytes as f64 / 1e6,
            size as f64 / 1e6,
            size as f64 / 1e6 / secs
        );
    }

    // Peak memory of the streamed CSR → CSC read, against the CSC it produces.
    drop(ds);
    let status = |key: &str| -> f64 {
        let text = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = text.lines().find(|l| l.starts_with(key)).unwrap();
        line.split_whitespace().nth(1).unwrap().parse::<f64>().unwrap() * 1024.0
    };
    let base = status("VmRSS:");
    std::fs::write("/proc/self/clear_refs", "5").unwrap(); // resets VmHWM to the current RSS
    let mapping = Mapping { gene_expression: Some("X".into()), ..Mapping::default() };
    let t = std::time::Instant::now();
    let back = h5ad::read_csr_as_csc(&path, &mapping).unwrap();
    let secs = t.elapsed().as_secs_f64();
    let peak = status("VmHWM:") - base;
    let csc = back.gene_expression.as_ref().unwrap().nbytes() as f64;
    assert!(matches!(back.gene_expression, Some(Matrix::Csc(_))));
    println!(
        "read_csr_as_csc: {secs:.2} s, peak above baseline {:.1} MB, CSC {:.1} MB, ratio {:.3} (obs/var included)",
        peak / 1e6,
        csc / 1e6,
        peak / csc
    );
    drop(back);
    std::fs::remove_file(&path).unwrap();
}
