//! Velocity-like vector fields: one `(cells, d)` f32 array per field id and embedding
//! dimension, keyed `<id>_<d>d` as `prepare(vector_fields=…)` expects.
//!
//! A cell's vector points from its cluster's centre towards the next cluster's centre
//! (a trajectory through the clusters), scaled by 0.2, plus Gaussian noise of 0.3 × the
//! cluster's spread, so fields are smooth within clusters but not constant.

use cellucid_core::{DenseArray, Matrix};
use rayon::prelude::*;

use super::embedding::Clustered;
use super::rng::{stream, Component};
use super::spec::DatasetSpec;
use super::{Population, CELL_CHUNK};

pub(crate) fn build(spec: &DatasetSpec, pop: &Population, embeddings: &[Clustered]) -> Option<Vec<(String, Matrix)>> {
    if spec.vector_fields.is_empty() {
        return None;
    }
    let k_total = spec.clusters;
    let mut out = Vec::new();
    for (f, id) in spec.vector_fields.iter().enumerate() {
        for e in embeddings {
            let d = e.dims;
            let sub = (((f as u64) << 2) | d as u64) << 40;
            let mut values = vec![0f32; spec.cells * d];
            values.par_chunks_mut(CELL_CHUNK * d).enumerate().for_each(|(chunk, block)| {
                let mut rng = stream(spec.seed, Component::Vectors, sub | chunk as u64);
                let first = chunk * CELL_CHUNK;
                for (i, row) in block.chunks_mut(d).enumerate() {
                    let k = pop.cluster[first + i] as usize;
                    let (here, next) = (e.centre(k), e.centre((k + 1) % k_total));
                    for (j, v) in row.iter_mut().enumerate() {
                        *v = (0.2 * (next[j] - here[j]) + 0.3 * e.spread[k] * rng.normal()) as f32;
                    }
                }
            });
            out.push((format!("{id}_{d}d"), Matrix::Dense(DenseArray::new_2d(spec.cells, d, values))));
        }
    }
    Some(out)
}
