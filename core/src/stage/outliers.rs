//! Latent outlier quantiles (FORMAT.md §7.4): per category, each cell's rank of its
//! distance to the category's latent mean, divided by the category size. All float32,
//! in numpy's summation orders; ties share the higher rank.

use super::latent::Latent;
use crate::numeric::{ranks_right, reduce_f32};

/// Quantiles for every cell (`NaN` for missing codes and categories below `min_points`).
pub fn outlier_quantiles(members: &[Vec<usize>], latent: &Latent, n_cells: usize, min_points: usize) -> Vec<f32> {
    let k = latent.k;
    let lat = &latent.values;
    let mut out = vec![f32::NAN; n_cells];
    let mut sq = vec![0.0f32; k];
    for idx in members {
        let m = idx.len();
        if m < min_points || m == 0 {
            continue;
        }
        // mean = colmean32(L): sequential f32 rows for k >= 2, pairwise for one column;
        // the division happens in f64 and rounds to f32.
        let mean: Vec<f32> = if k == 1 {
            let col: Vec<f32> = idx.iter().map(|&r| lat[r]).collect();
            vec![(reduce_f32(&col) as f64 / m as f64) as f32]
        } else {
            let mut sums = vec![0.0f32; k];
            for &r in idx {
                let row = &lat[r * k..r * k + k];
                for j in 0..k {
                    sums[j] += row[j];
                }
            }
            sums.into_iter().map(|s| (s as f64 / m as f64) as f32).collect()
        };
        let dist: Vec<f32> = idx
            .iter()
            .map(|&r| {
                let row = &lat[r * k..r * k + k];
                for j in 0..k {
                    let diff = row[j] - mean[j];
                    sq[j] = diff * diff;
                }
                reduce_f32(&sq).sqrt()
            })
            .collect();
        let ranks = ranks_right(&dist);
        let mf = m as f32;
        for (&r, &rank) in idx.iter().zip(&ranks) {
            out[r] = rank as f32 / mf;
        }
    }
    out
}
