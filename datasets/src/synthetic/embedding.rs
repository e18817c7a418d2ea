//! Clustered point clouds: the latent space and the `X_umap_<d>d` embeddings.
//!
//! Each cluster gets a centre (Gaussian, sd `centre_sd` per axis) and an isotropic spread
//! drawn log-uniformly from a range; a cell is its cluster's centre plus Gaussian noise of
//! that spread. Values are f32, as AnnData stores them.

use cellucid_core::{DenseArray, Matrix};
use rayon::prelude::*;

use super::rng::{stream, Component};
use super::spec::DatasetSpec;
use super::{Population, CELL_CHUNK};

/// Points of one space, with the per-cluster parameters later stages reuse.
pub(crate) struct Clustered {
    pub dims: usize,
    /// `centres[k * dims + j]`.
    pub centres: Vec<f64>,
    /// Noise sd per cluster.
    pub spread: Vec<f64>,
    /// Row-major `cells × dims`.
    pub coords: Vec<f32>,
}

impl Clustered {
    pub(crate) fn centre(&self, k: usize) -> &[f64] {
        &self.centres[k * self.dims..(k + 1) * self.dims]
    }

    pub(crate) fn into_matrix(self) -> Matrix {
        let n = self.coords.len() / self.dims;
        Matrix::Dense(DenseArray::new_2d(n, self.dims, self.coords))
    }
}

/// Draws a clustered space; `sub` separates spaces of the same component (e.g. 2-D vs 3-D).
pub(crate) fn clustered(
    spec: &DatasetSpec,
    pop: &Population,
    component: Component,
    sub: u64,
    dims: usize,
    centre_sd: f64,
    spread_range: (f64, f64),
) -> Clustered {
    let mut rng = stream(spec.seed, component, sub << 40);
    let centres: Vec<f64> = (0..spec.clusters * dims).map(|_| centre_sd * rng.normal()).collect();
    let (lo, hi) = (spread_range.0.ln(), spread_range.1.ln());
    let spread: Vec<f64> = (0..spec.clusters).map(|_| libm::exp(rng.uniform(lo, hi))).collect();
    let mut coords = vec![0f32; spec.cells * dims];
    coords.par_chunks_mut(CELL_CHUNK * dims).enumerate().for_each(|(chunk, out)| {
        let mut rng = stream(spec.seed, component, (sub << 40) | (1 + chunk as u64));
        let first = chunk * CELL_CHUNK;
        for (i, row) in out.chunks_mut(dims).enumerate() {
            let k = pop.cluster[first + i] as usize;
            for (j, x) in row.iter_mut().enumerate() {
                *x = (centres[k * dims + j] + spread[k] * rng.normal()) as f32;
            }
        }
    });
    Clustered { dims, centres, spread, coords }
}
