//! The obs frame: categorical fields first, then continuous fields.
//!
//! - `cluster`: the cluster labels, categories `c0`, `c1`, … (declared in that order).
//! - `category_<i>` (i ≥ 1): uneven random groups (Dirichlet(1) shares), categories `k0`, ….
//! - `n_counts`: the cell's total raw counts in X.
//! - `percent_mito`: log-normal around ~4 % with a per-cluster level, capped at 90.
//! - `score`: a per-cluster level plus Gaussian noise (can be negative).
//! - `continuous_<i>` (i ≥ 3): log-normal with a per-cluster level.
//!
//! Continuous values are f32. With `nan_share > 0`, that share of each continuous field
//! (rounded, at least one value) is NaN at random cells; the exporter refuses such input.

use cellucid_core::{Label, ObsColumn, ObsData, ObsFrame, Values};
use rayon::prelude::*;

use super::rng::{stream, Component, Rng};
use super::spec::DatasetSpec;
use super::{Population, CELL_CHUNK};

pub(crate) fn build(spec: &DatasetSpec, pop: &Population, totals: &[u64]) -> ObsFrame {
    let n = spec.cells;
    let mut columns = Vec::new();
    for (i, &cardinality) in spec.categorical_fields.iter().enumerate() {
        let (name, prefix) = if i == 0 { ("cluster".to_string(), "c") } else { (format!("category_{i}"), "k") };
        let categories = (0..cardinality).map(|j| Label::Str(format!("{prefix}{j}"))).collect();
        let codes: Vec<i32> = if i == 0 {
            pop.cluster.iter().map(|&k| k as i32).collect()
        } else {
            let mut rng = stream(spec.seed, Component::Obs, (i as u64) << 40);
            let mut cumulative = rng.dirichlet(cardinality, 1.0);
            for j in 1..cumulative.len() {
                cumulative[j] += cumulative[j - 1];
            }
            per_cell(spec, pop, (i as u64) << 40, |rng, _, _| rng.pick(&cumulative) as i32)
        };
        columns.push(ObsColumn { name, data: ObsData::Categorical { categories, codes } });
    }

    for f in 0..spec.continuous_fields.count {
        let sub = (1u64 << 39) | ((f as u64) << 40);
        let mut level_rng = stream(spec.seed, Component::Obs, sub);
        let levels: Vec<f64> = (0..spec.clusters).map(|_| level_rng.normal()).collect();
        let (name, mut values): (String, Vec<f32>) = match f {
            0 => ("n_counts".into(), totals.iter().map(|&t| t as f32).collect()),
            1 => (
                "percent_mito".into(),
                per_cell(spec, pop, sub, |rng, _, k| {
                    (100.0 * libm::exp(0.04f64.ln() + 0.3 * levels[k] + 0.5 * rng.normal())).min(90.0) as f32
                }),
            ),
            2 => ("score".into(), per_cell(spec, pop, sub, |rng, _, k| (levels[k] + 0.5 * rng.normal()) as f32)),
            _ => (
                format!("continuous_{f}"),
                per_cell(spec, pop, sub, |rng, _, k| libm::exp(levels[k] + 0.7 * rng.normal()) as f32),
            ),
        };
        let share = spec.continuous_fields.nan_share;
        if share > 0.0 {
            let mut rng = stream(spec.seed, Component::Obs, sub | (1u64 << 38));
            let count = ((share * n as f64).round() as usize).clamp(1, n);
            // Partial Fisher–Yates: the first `count` slots become a uniform random subset.
            let mut idx: Vec<u32> = (0..n as u32).collect();
            for j in 0..count {
                let r = j + rng.below((n - j) as u64) as usize;
                idx.swap(j, r);
                values[idx[j] as usize] = f32::NAN;
            }
        }
        columns.push(ObsColumn { name, data: ObsData::Numeric(Values::F32(values)) });
    }
    ObsFrame { n_rows: n, columns }
}

/// One value per cell, drawn in fixed-size chunks (one stream each) in parallel;
/// `draw(rng, cell, cluster)`.
fn per_cell<T, F>(spec: &DatasetSpec, pop: &Population, sub: u64, draw: F) -> Vec<T>
where
    T: Send + Default + Clone,
    F: Fn(&mut Rng, usize, usize) -> T + Sync,
{
    let mut out = vec![T::default(); spec.cells];
    out.par_chunks_mut(CELL_CHUNK).enumerate().for_each(|(chunk, block)| {
        let mut rng = stream(spec.seed, Component::Obs, sub | (1 + chunk as u64));
        let first = chunk * CELL_CHUNK;
        for (i, v) in block.iter_mut().enumerate() {
            *v = draw(&mut rng, first + i, pop.cluster[first + i] as usize);
        }
    });
    out
}
