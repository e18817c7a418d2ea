//! Behaviour of the synthetic generator: determinism, thread independence, density
//! calibration, graph invariants, cluster programmes, layouts, obs, and spec handling.

use cellucid_core::{Compressed, Dataset, Label, Matrix, ObsData, Values};
use cellucid_datasets::synthetic::{
    generate, generate_with_stats, ContinuousFields, CountModel, DatasetSpec, GraphSpec, Layout, Normalisation,
};

fn small(layout: Layout) -> DatasetSpec {
    DatasetSpec {
        cells: 600,
        genes: 150,
        density: 0.1,
        clusters: 5,
        categorical_fields: vec![5, 3],
        layout,
        embedding_dims: vec![1, 2, 3],
        latent_dims: 8,
        graph: GraphSpec::Knn { k: 6 },
        vector_fields: vec!["velocity_umap".into(), "T_fwd_umap".into()],
        seed: 11,
        ..DatasetSpec::default()
    }
}

fn compressed(m: &Matrix) -> &Compressed {
    match m {
        Matrix::Csr(c) | Matrix::Csc(c) => c,
        other => panic!("expected a compressed matrix, got {:?}", other.shape()),
    }
}

fn f32s(v: &Values) -> &[f32] {
    match v {
        Values::F32(x) => x,
        other => panic!("expected f32 values, got {:?}", other.dtype()),
    }
}

/// Dense row-major copy of X, whatever its layout.
fn dense_x(d: &Dataset) -> (usize, usize, Vec<f32>) {
    let m = d.gene_expression.as_ref().expect("X");
    let shape = m.shape();
    let (n, g) = (shape[0], shape[1]);
    let mut out = vec![0f32; n * g];
    match m {
        Matrix::Dense(a) => out.copy_from_slice(f32s(&a.values)),
        Matrix::Csr(c) => {
            for r in 0..n {
                for j in c.indptr[r] as usize..c.indptr[r + 1] as usize {
                    out[r * g + c.indices[j] as usize] = f32s(&c.data)[j];
                }
            }
        }
        Matrix::Csc(c) => {
            for col in 0..g {
                for j in c.indptr[col] as usize..c.indptr[col + 1] as usize {
                    out[c.indices[j] as usize * g + col] = f32s(&c.data)[j];
                }
            }
        }
        Matrix::Coo(_) => panic!("unexpected COO"),
    }
    (n, g, out)
}

#[test]
fn same_seed_same_dataset_and_other_seed_differs() {
    for layout in [Layout::Csr, Layout::Csc] {
        let spec = small(layout);
        let a = generate(&spec).unwrap();
        let b = generate(&spec).unwrap();
        assert_eq!(a, b);
        let c = generate(&DatasetSpec { seed: 12, ..spec.clone() }).unwrap();
        assert_ne!(a.gene_expression, c.gene_expression);
        assert_ne!(a.latent_space, c.latent_space);
        assert_ne!(a.connectivities, c.connectivities);
        assert_ne!(a.obs, c.obs);
    }
}

#[test]
fn result_does_not_depend_on_thread_count() {
    for (layout, graph) in [
        (Layout::Csr, GraphSpec::Knn { k: 5 }),
        (Layout::Csc, GraphSpec::Density { edges_per_cell: 4.0 }),
    ] {
        // More cells than one chunk of per-cell draws (4096), so chunking is exercised.
        let spec = DatasetSpec { cells: 5000, genes: 80, graph, layout, ..small(layout) };
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| generate(&spec).unwrap())
        };
        assert_eq!(run(1), run(2), "{layout:?}");
    }
}

#[test]
fn achieved_density_is_near_target() {
    for (density, model) in [
        (0.05, CountModel::NegativeBinomial { dispersion: 0.3 }),
        (0.2, CountModel::Poisson),
        (0.5, CountModel::NegativeBinomial { dispersion: 2.0 }),
    ] {
        let spec = DatasetSpec {
            cells: 2000,
            genes: 500,
            density,
            count_model: model.clone(),
            latent_dims: 4,
            ..DatasetSpec::default()
        };
        let g = generate_with_stats(&spec).unwrap();
        let nnz = compressed(g.dataset.gene_expression.as_ref().unwrap()).nnz() as f64;
        let achieved = nnz / (2000.0 * 500.0);
        assert_eq!(achieved, g.stats.achieved_density);
        assert!((achieved / density - 1.0).abs() < 0.2, "{model:?}: target {density}, achieved {achieved}");
    }
}

#[test]
fn graph_is_exactly_symmetric_without_diagonal_or_zeros() {
    for graph in [GraphSpec::Knn { k: 6 }, GraphSpec::Density { edges_per_cell: 5.0 }] {
        let spec = DatasetSpec { graph: graph.clone(), ..small(Layout::Csr) };
        let g = generate_with_stats(&spec).unwrap();
        let m = g.dataset.connectivities.as_ref().unwrap();
        let Matrix::Csr(c) = m else { panic!("graph must be CSR") };
        assert_eq!(c.shape, (600, 600));
        let w = f32s(&c.data);
        let entry = |r: usize, col: u32| -> Option<f32> {
            let row = &c.indices[c.indptr[r] as usize..c.indptr[r + 1] as usize];
            row.binary_search(&col).ok().map(|i| w[c.indptr[r] as usize + i])
        };
        let mut min_degree = usize::MAX;
        for r in 0..600 {
            let (a, b) = (c.indptr[r] as usize, c.indptr[r + 1] as usize);
            min_degree = min_degree.min(b - a);
            assert!(c.indices[a..b].windows(2).all(|p| p[0] < p[1]), "row {r} not sorted/unique");
            for (&col, &wj) in c.indices[a..b].iter().zip(&w[a..b]) {
                assert_ne!(col as usize, r, "diagonal entry in row {r}");
                assert!(wj > 0.0 && wj <= 1.0 && wj.is_finite(), "weight {wj}");
                assert_eq!(entry(col as usize, r as u32).map(f32::to_bits), Some(wj.to_bits()));
            }
        }
        assert_eq!(g.stats.graph_edges * 2, c.nnz() as u64);
        match graph {
            GraphSpec::Knn { k } => assert!(min_degree >= k, "kNN degree {min_degree} < {k}"),
            _ => {
                let per_cell = g.stats.graph_edges as f64 / 600.0;
                assert!(per_cell > 3.5 && per_cell < 5.5, "edges per cell {per_cell}");
            }
        }
    }
}

#[test]
fn clusters_have_distinct_gene_programmes() {
    let spec = DatasetSpec {
        cells: 1500,
        genes: 300,
        density: 0.2,
        clusters: 3,
        categorical_fields: vec![3],
        normalisation: Normalisation::None,
        layout: Layout::Csc,
        latent_dims: 4,
        ..DatasetSpec::default()
    };
    let d = generate(&spec).unwrap();
    let obs = d.obs.as_ref().unwrap();
    let Some(ObsData::Categorical { codes, .. }) = obs.column("cluster").map(|c| &c.data) else {
        panic!("cluster column")
    };
    let (n, g, x) = dense_x(&d);
    let mut sizes = [0f64; 3];
    let mut sums = vec![[0f64; 3]; g];
    for c in 0..n {
        let k = codes[c] as usize;
        sizes[k] += 1.0;
        for j in 0..g {
            sums[j][k] += x[c * g + j] as f64;
        }
    }
    assert!(sizes.iter().all(|&s| s >= 1.0), "every cluster has cells: {sizes:?}");
    // A marker gene: mean in one cluster > 3× its mean in another, with enough counts to trust.
    let best = sums
        .iter()
        .filter_map(|s| {
            let means: Vec<f64> = (0..3).map(|k| s[k] / sizes[k]).collect();
            let hi = means.iter().copied().fold(0.0, f64::max);
            let lo = means.iter().copied().fold(f64::INFINITY, f64::min);
            (hi > 0.5).then(|| hi / lo.max(1e-9))
        })
        .fold(0.0, f64::max);
    assert!(best > 3.0, "largest between-cluster mean ratio {best}");
    // Raw counts are integers, and n_counts is each cell's total.
    assert!(x.iter().all(|v| v.fract() == 0.0 && *v >= 0.0));
    let Some(ObsData::Numeric(Values::F32(n_counts))) = obs.column("n_counts").map(|c| &c.data) else {
        panic!("n_counts")
    };
    for c in 0..n {
        assert_eq!(n_counts[c], x[c * g..(c + 1) * g].iter().sum::<f32>());
    }
}

#[test]
fn counts_are_overdispersed_under_negative_binomial() {
    let spec = DatasetSpec {
        cells: 2000,
        genes: 100,
        density: 0.6,
        clusters: 1,
        categorical_fields: vec![1],
        normalisation: Normalisation::None,
        count_model: CountModel::NegativeBinomial { dispersion: 1.0 },
        latent_dims: 2,
        ..DatasetSpec::default()
    };
    let (n, g, x) = dense_x(&generate(&spec).unwrap());
    // Variance/mean well above the Poisson value of 1 for the well-expressed genes.
    let ratios: Vec<f64> = (0..g)
        .filter_map(|j| {
            let col: Vec<f64> = (0..n).map(|c| x[c * g + j] as f64).collect();
            let mean = col.iter().sum::<f64>() / n as f64;
            let var = col.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n as f64;
            (mean > 2.0).then_some(var / mean)
        })
        .collect();
    assert!(!ratios.is_empty());
    let median = {
        let mut r = ratios.clone();
        r.sort_by(f64::total_cmp);
        r[r.len() / 2]
    };
    assert!(median > 2.0, "median variance/mean {median}");
}

#[test]
fn layouts_hold_the_same_model_and_dense_equals_csr() {
    let csr = generate(&small(Layout::Csr)).unwrap();
    let dense = generate(&small(Layout::Dense)).unwrap();
    assert!(matches!(dense.gene_expression, Some(Matrix::Dense(_))));
    assert_eq!(dense_x(&csr), dense_x(&dense));
    let csc = generate(&small(Layout::Csc)).unwrap();
    let c = compressed(csc.gene_expression.as_ref().unwrap());
    assert!(matches!(csc.gene_expression, Some(Matrix::Csc(_))));
    assert_eq!(c.indptr.len(), 151);
    for col in 0..150 {
        let idx = &c.indices[c.indptr[col] as usize..c.indptr[col + 1] as usize];
        assert!(idx.windows(2).all(|p| p[0] < p[1]));
    }
    // Everything but X is layout-independent.
    assert_eq!(csr.obs.as_ref().unwrap().columns[0], csc.obs.as_ref().unwrap().columns[0]);
    assert_eq!(csr.latent_space, csc.latent_space);
    assert_eq!(csr.connectivities, csc.connectivities);
}

#[test]
fn log1p_cp10k_rows_sum_to_ten_thousand() {
    let d = generate(&small(Layout::Csr)).unwrap();
    let c = compressed(d.gene_expression.as_ref().unwrap());
    let v = f32s(&c.data);
    for r in 0..600 {
        let (a, b) = (c.indptr[r] as usize, c.indptr[r + 1] as usize);
        if a == b {
            continue;
        }
        let total: f64 = v[a..b].iter().map(|&x| (x as f64).exp_m1()).sum();
        assert!((total - 1e4).abs() < 1.0, "row {r} sums to {total}");
        assert!(v[a..b].iter().all(|&x| x > 0.0));
    }
}

#[test]
fn dataset_has_every_requested_part() {
    let spec = DatasetSpec {
        continuous_fields: ContinuousFields { count: 5, nan_share: 0.1 },
        ..small(Layout::Csr)
    };
    let d = generate(&spec).unwrap();
    assert_eq!(d.latent_space.as_ref().unwrap().shape(), vec![600, 8]);
    for dim in 1..=3 {
        assert_eq!(d.embedding(dim).unwrap().shape(), vec![600, dim]);
    }
    assert_eq!(d.var.as_ref().unwrap().len(), 150);
    assert_eq!(d.var.as_ref().unwrap().index[7], Label::Str("gene_7".into()));
    let keys: Vec<&str> = d.vector_fields.as_ref().unwrap().iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        ["velocity_umap_1d", "velocity_umap_2d", "velocity_umap_3d", "T_fwd_umap_1d", "T_fwd_umap_2d", "T_fwd_umap_3d"]
    );
    let obs = d.obs.as_ref().unwrap();
    assert_eq!(obs.n_rows, 600);
    let names: Vec<&str> = obs.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["cluster", "category_1", "n_counts", "percent_mito", "score", "continuous_3", "continuous_4"]
    );
    let ObsData::Categorical { categories, codes } = &obs.columns[0].data else { panic!("cluster") };
    assert_eq!(categories, &(0..5).map(|i| Label::Str(format!("c{i}"))).collect::<Vec<_>>());
    assert!(codes.iter().all(|&c| (0..5).contains(&c)));
    for col in &obs.columns[2..] {
        let ObsData::Numeric(Values::F32(v)) = &col.data else { panic!("{} not f32", col.name) };
        assert_eq!(v.iter().filter(|x| x.is_nan()).count(), 60, "{}", col.name);
    }
}

#[test]
fn spec_round_trips_through_toml_and_reads_the_example() {
    let spec = DatasetSpec {
        count_model: CountModel::Poisson,
        graph: GraphSpec::Density { edges_per_cell: 7.5 },
        continuous_fields: ContinuousFields { count: 4, nan_share: 0.25 },
        ..small(Layout::Csc)
    };
    let text = spec.to_toml_string().unwrap();
    assert_eq!(DatasetSpec::from_toml_str(&text).unwrap(), spec);
    assert_eq!(DatasetSpec::from_toml_str(&DatasetSpec::default().to_toml_string().unwrap()).unwrap(), DatasetSpec::default());

    let example = DatasetSpec::from_toml_str(include_str!("../specs/example.toml")).unwrap();
    assert_eq!(example.cells, 50_000);
    assert_eq!(example.embedding_dims, vec![2, 3]);
    assert_eq!(example.graph, GraphSpec::Knn { k: 15 });
    assert_eq!(example.count_model, CountModel::NegativeBinomial { dispersion: 0.3 });

    let partial = DatasetSpec::from_toml_str("cells = 7\nclusters = 2\ncategorical_fields = [2]\nlayout = \"dense\"").unwrap();
    assert_eq!(partial, DatasetSpec { cells: 7, clusters: 2, categorical_fields: vec![2], layout: Layout::Dense, ..DatasetSpec::default() });
}

#[test]
fn invalid_specs_are_refused_naming_the_field() {
    let base = DatasetSpec::default();
    let cases: Vec<(DatasetSpec, &str)> = vec![
        (DatasetSpec { cells: 0, ..base.clone() }, "cells"),
        (DatasetSpec { genes: 0, ..base.clone() }, "genes"),
        (DatasetSpec { density: 1.5, ..base.clone() }, "density"),
        (DatasetSpec { density: 0.0, ..base.clone() }, "density"),
        (DatasetSpec { density: f64::NAN, ..base.clone() }, "density"),
        (DatasetSpec { clusters: 0, ..base.clone() }, "clusters"),
        (DatasetSpec { cells: 5, clusters: 6, categorical_fields: vec![6], ..base.clone() }, "clusters"),
        (DatasetSpec { count_model: CountModel::NegativeBinomial { dispersion: -1.0 }, ..base.clone() }, "count_model.dispersion"),
        (DatasetSpec { embedding_dims: vec![], ..base.clone() }, "embedding_dims"),
        (DatasetSpec { embedding_dims: vec![2, 4], ..base.clone() }, "embedding_dims[1]"),
        (DatasetSpec { embedding_dims: vec![2, 2], ..base.clone() }, "embedding_dims[1]"),
        (DatasetSpec { latent_dims: 0, ..base.clone() }, "latent_dims"),
        (DatasetSpec { continuous_fields: ContinuousFields { count: 1, nan_share: 1.5 }, ..base.clone() }, "continuous_fields.nan_share"),
        (DatasetSpec { categorical_fields: vec![11], ..base.clone() }, "categorical_fields[0]"),
        (DatasetSpec { categorical_fields: vec![12, 0], ..base.clone() }, "categorical_fields[1]"),
        (DatasetSpec { graph: GraphSpec::Knn { k: 0 }, ..base.clone() }, "graph.k"),
        (DatasetSpec { graph: GraphSpec::Density { edges_per_cell: -2.0 }, ..base.clone() }, "graph.edges_per_cell"),
        (DatasetSpec { vector_fields: vec!["velocity".into()], ..base.clone() }, "vector_fields[0]"),
        (DatasetSpec { vector_fields: vec!["a_umap".into(), "a_umap".into()], ..base.clone() }, "vector_fields[1]"),
    ];
    for (spec, field) in cases {
        let err = spec.validate().expect_err(field);
        assert_eq!(err.field(), Some(field), "{err}");
        assert!(err.to_string().contains(&format!("`{field}`")), "{err}");
        assert!(generate(&spec).is_err());
    }
    let err = DatasetSpec::from_toml_str("cells = 0").unwrap_err();
    assert_eq!(err.field(), Some("cells"));
    assert!(DatasetSpec::from_toml_str("cellz = 10").unwrap_err().to_string().contains("cellz"));
    assert!(DatasetSpec::from_toml_str("layout = \"coo\"").is_err());
}

/// Issue 3: synthetic → h5ad → read gives the same Dataset, for every layout and with
/// a graph, vector fields and every embedding dimension.
#[test]
fn synthetic_to_h5ad_and_back_is_identical() {
    use cellucid_datasets::h5ad::{self, Mapping};
    use cellucid_datasets::synthetic::{generate, DatasetSpec, GraphSpec, Layout};
    for layout in [Layout::Csr, Layout::Csc, Layout::Dense] {
        let mut spec = DatasetSpec::default();
        spec.cells = 600;
        spec.genes = 80;
        spec.density = 0.1;
        spec.layout = layout;
        spec.embedding_dims = vec![1, 2, 3];
        spec.graph = GraphSpec::Knn { k: 5 };
        spec.vector_fields = vec!["velocity_umap".into()];
        spec.seed = 11;
        let ds = generate(&spec).expect("valid spec");
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("synthetic.h5ad");
        h5ad::write(&ds, &path).expect("write");
        let back = h5ad::read(&path, &Mapping::written(&ds)).expect("read");
        assert_eq!(back.gene_expression, ds.gene_expression, "X ({layout:?})");
        assert_eq!(back.latent_space, ds.latent_space, "latent");
        assert_eq!(back.connectivities, ds.connectivities, "graph");
        for d in 1..=3 {
            assert_eq!(back.embedding(d), ds.embedding(d), "X_umap_{d}d");
        }
        assert_eq!(back.obs, ds.obs, "obs");
        assert_eq!(back.var, ds.var, "var");
        let sorted = |v: &Option<Vec<(String, cellucid_core::Matrix)>>| {
            let mut v = v.clone().unwrap_or_default();
            v.sort_by(|a, b| a.0.cmp(&b.0));
            v
        };
        assert_eq!(sorted(&back.vector_fields), sorted(&ds.vector_fields), "vector fields");
    }
}

/// Issue 13: an atlas is generated straight into the file, X by blocks of rows; what is
/// read back equals the in-memory generator's dataset (both normalisations, several
/// blocks of 64 × 256 cells, a graph and every part), and progress reaches every cell.
#[test]
fn streamed_generation_reads_back_as_the_in_memory_dataset() {
    use cellucid_datasets::h5ad::{self, Mapping};
    use cellucid_datasets::synthetic::write_h5ad;
    for normalisation in [Normalisation::Log1pCp10k, Normalisation::None] {
        let spec = DatasetSpec { cells: 40_000, genes: 60, normalisation, ..small(Layout::Csr) };
        let ds = generate_with_stats(&spec).expect("valid spec");
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("streamed.h5ad");
        let seen = std::sync::Mutex::new(Vec::new());
        let stats = write_h5ad(&spec, &path, &|done, all| seen.lock().unwrap().push((done, all))).expect("stream");
        assert_eq!(stats, ds.stats, "{normalisation:?}");
        let seen = seen.into_inner().unwrap();
        assert_eq!(seen.len(), 3, "40,000 cells are 3 blocks of 16,384: {seen:?}");
        assert_eq!(seen.last(), Some(&(40_000, 40_000)));
        let back = h5ad::read(&path, &Mapping::written(&ds.dataset)).expect("read");
        let want = &ds.dataset;
        assert_eq!(back.gene_expression, want.gene_expression, "X ({normalisation:?})");
        assert_eq!((&back.latent_space, &back.connectivities, &back.obs, &back.var), (&want.latent_space, &want.connectivities, &want.obs, &want.var));
        for d in 1..=3 {
            assert_eq!(back.embedding(d), want.embedding(d), "X_umap_{d}d");
        }
    }
    // Other layouts go through the in-memory generator.
    let spec = DatasetSpec { layout: Layout::Csc, ..small(Layout::Csc) };
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("csc.h5ad");
    write_h5ad(&spec, &path, &|_, _| {}).expect("csc");
    let back = h5ad::read(&path, &Mapping::written(&generate(&spec).unwrap())).expect("read");
    assert_eq!(back.gene_expression, generate(&spec).unwrap().gene_expression);
}
