//! Seeded, realistic synthetic datasets of any size.
//!
//! The point is benchmarking: the data must be realistic enough that compression ratios
//! and exporter timings mean something, and large enough (hundreds of millions of
//! non-zeros) to stress the exporter, yet reproducible from a few lines of TOML.
//!
//! What [`generate`] builds from a [`DatasetSpec`]:
//! - **cells in clusters** of uneven size (Dirichlet weights, every cluster non-empty),
//!   in random order, each with a log-normal library-size factor;
//! - **X** (`gene_expression`): per-cluster gene programmes, negative-binomial or Poisson
//!   counts, non-zero fraction calibrated to `density`, stored raw or as log1p CP10k, in
//!   CSR, CSC or dense f32 (sampler described in `counts.rs`). Indices are sorted and unique;
//! - **var**: gene ids `gene_0`, `gene_1`, …;
//! - **latent space** and **embeddings** (`X_umap_<d>d`): cluster centres plus Gaussian
//!   noise, f32;
//! - **obs**: categorical cluster labels and further categoricals, and continuous fields
//!   (`n_counts` = the cell's total raw counts, `percent_mito`, `score`, …);
//! - optionally a **connectivity graph** (kNN-like, exactly symmetric, f32 weights in (0, 1])
//!   and **vector fields** (velocity-like, one array per embedding dimension).
//!
//! **Determinism.** Every random draw comes from ChaCha8 streams derived from the seed per
//! (component, chunk) with thread-count-independent chunking, and all floating-point
//! functions come from `libm`; the same spec gives the same dataset bit for bit, on any
//! machine and with any rayon pool size. Changing `layout` between CSR/dense and CSC
//! samples X in a different order, so it gives a different draw from the same model.

mod counts;
mod embedding;
mod graph;
mod obs;
mod rng;
pub mod spec;
mod stream;
mod vectors;

use cellucid_core::{Dataset, Matrix, VarFrame};

pub use stream::{write_h5ad, GenerateError};
pub use spec::{ContinuousFields, CountModel, DatasetSpec, GraphSpec, Layout, Normalisation, SpecError};

use rng::{stream, Component};

/// A generated dataset and what the generator measured while building it.
#[derive(Clone, Debug)]
pub struct Generated {
    pub dataset: Dataset,
    pub stats: GenerationStats,
}

/// Facts about a generated dataset that are not obvious from the spec.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GenerationStats {
    /// Stored entries of X.
    pub nnz: u64,
    /// `nnz / (cells * genes)`: compare with the spec's target `density`.
    pub achieved_density: f64,
    /// The calibrated expression scale `alpha` (expected counts = alpha × library × programme).
    pub expression_scale: f64,
    /// Undirected edges of the connectivity graph (0 without one).
    pub graph_edges: u64,
}

/// Generates the dataset described by `spec` (validated first).
pub fn generate(spec: &DatasetSpec) -> Result<Dataset, SpecError> {
    generate_with_stats(spec).map(|g| g.dataset)
}

/// [`generate`], also returning [`GenerationStats`] (achieved density, nnz, …).
pub fn generate_with_stats(spec: &DatasetSpec) -> Result<Generated, SpecError> {
    spec.validate()?;
    let pop = population(spec);
    let programme = counts::programme(spec);
    let sampler = counts::Sampler::new(&spec.count_model);
    let alpha = counts::calibrate(spec, &pop, &programme, &sampler);
    let expression = counts::generate(spec, &pop, &programme, &sampler, alpha);
    drop(programme);

    let (mut dataset, graph_edges) = everything_but_x(spec, &pop, &expression.totals);
    dataset.gene_expression = Some(expression.matrix);
    let stats = GenerationStats {
        nnz: expression.nnz,
        achieved_density: expression.nnz as f64 / (spec.cells as f64 * spec.genes as f64),
        expression_scale: alpha,
        graph_edges,
    };
    Ok(Generated { dataset, stats })
}

/// Every part of the dataset but X (latent, embeddings, graph, obs from the cells'
/// total counts, vectors, var), and the graph's undirected edge count. Each part draws
/// from its own random streams, so it does not matter when X was generated.
pub(crate) fn everything_but_x(spec: &DatasetSpec, pop: &Population, totals: &[u64]) -> (Dataset, u64) {
    let latent = embedding::clustered(spec, pop, Component::Latent, 0, spec.latent_dims, 3.0, (0.6, 1.4));
    let embeddings: Vec<embedding::Clustered> = spec
        .embedding_dims
        .iter()
        .map(|&d| embedding::clustered(spec, pop, Component::Embedding, d as u64, d, 10.0, (0.8, 2.5)))
        .collect();
    let graph = graph::build(spec, pop, &latent);
    let obs = obs::build(spec, pop, totals);
    let vector_fields = vectors::build(spec, pop, &embeddings);

    let graph_edges = graph.as_ref().map_or(0, |m| match m {
        Matrix::Csr(c) => c.nnz() as u64 / 2,
        _ => 0,
    });
    let mut dataset = Dataset {
        latent_space: Some(latent.into_matrix()),
        obs: Some(obs),
        var: Some(VarFrame::from_ids((0..spec.genes).map(|g| format!("gene_{g}")))),
        connectivities: graph,
        vector_fields,
        ..Dataset::default()
    };
    for e in embeddings {
        let d = e.dims;
        *dataset.embedding_mut(d) = Some(e.into_matrix());
    }
    (dataset, graph_edges)
}

/// Which cluster each cell belongs to, and its library-size factor.
pub(crate) struct Population {
    pub cluster: Vec<u32>,
    pub lib: Vec<f64>,
}

/// Cells per random-stream chunk for per-cell draws.
pub(crate) const CELL_CHUNK: usize = 4096;

/// Uneven cluster sizes (Dirichlet(1.5) shares, each cluster at least one cell, largest
/// remainders for the rest), shuffled over cells; library sizes log-normal (sd 0.5 in ln
/// units, clipped at ±4 sd, on the [`counts::LEVEL_STEP`] grid) around a per-cluster level
/// (sd 0.25), as cell types differ in RNA content.
pub(crate) fn population(spec: &DatasetSpec) -> Population {
    let (n, k) = (spec.cells, spec.clusters);
    let mut rng = stream(spec.seed, Component::Clusters, 0);
    let shares = rng.dirichlet(k, 1.5);
    let spare = (n - k) as f64;
    let mut sizes: Vec<usize> = shares.iter().map(|s| 1 + (s * spare).floor() as usize).collect();
    let mut order: Vec<usize> = (0..k).collect();
    let remainder = |i: usize| shares[i] * spare - (shares[i] * spare).floor();
    order.sort_by(|&a, &b| remainder(b).total_cmp(&remainder(a)).then(a.cmp(&b)));
    let assigned: usize = sizes.iter().sum();
    for &i in order.iter().cycle().take(n - assigned) {
        sizes[i] += 1;
    }
    let mut cluster: Vec<u32> = sizes.iter().enumerate().flat_map(|(i, &s)| std::iter::repeat_n(i as u32, s)).collect();
    for i in (1..n).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        cluster.swap(i, j);
    }

    let mut level_rng = stream(spec.seed, Component::Library, 0);
    let levels: Vec<f64> = (0..k).map(|_| 0.25 * level_rng.normal()).collect();
    let mut lib = vec![0f64; n];
    use rayon::prelude::*;
    lib.par_chunks_mut(CELL_CHUNK).enumerate().for_each(|(chunk, out)| {
        let mut rng = stream(spec.seed, Component::Library, 1 + chunk as u64);
        let first = chunk * CELL_CHUNK;
        for (i, s) in out.iter_mut().enumerate() {
            let z = rng.normal().clamp(-4.0, 4.0);
            *s = counts::level_value(counts::level(libm::exp(levels[cluster[first + i] as usize] + 0.5 * z)));
        }
    });
    Population { cluster, lib }
}
