//! Category centroids (FORMAT.md §7.3): from the unrounded f64 normalised coordinates,
//! trimmed at the `centroid_outlier_quantile` of the distances, in numpy's summation orders.

use super::embeddings::Normalized;
use crate::numeric::{pairwise_sum_f64, quantile_linear, reduce_f64};

/// One centroid entry of `centroidsByDim`.
#[derive(Clone, Debug, PartialEq)]
pub struct Centroid {
    /// Index into the field's categories.
    pub category: usize,
    pub position: Vec<f64>,
    pub n_points: usize,
}

/// numpy `P.mean(axis=0)` over the rows `rows` of an `n × d` f64 matrix.
fn colmean(coords: &[f64], d: usize, rows: &[usize]) -> Vec<f64> {
    let m = rows.len() as f64;
    if d == 1 {
        // A single column is one contiguous run: numpy's pairwise sum.
        let col: Vec<f64> = rows.iter().map(|&r| coords[r]).collect();
        return vec![reduce_f64(&col) / m];
    }
    let mut sums = vec![0.0f64; d];
    for &r in rows {
        let row = &coords[r * d..r * d + d];
        for j in 0..d {
            sums[j] += row[j];
        }
    }
    sums.into_iter().map(|s| s / m).collect()
}

/// Euclidean distance in numpy's order: `sqrt(0.0 + pairwise(squares))`.
fn distance(row: &[f64], center: &[f64]) -> f64 {
    let mut sq = [0.0f64; 3];
    for j in 0..row.len() {
        let diff = row[j] - center[j];
        sq[j] = diff * diff;
    }
    (0.0 + pairwise_sum_f64(&sq[..row.len()])).sqrt()
}

/// Centroids of every category with at least `min_points` cells, in category order.
/// `members[c]` lists the cells of category `c`, ascending.
pub fn centroids(members: &[Vec<usize>], emb: &Normalized, q: f64, min_points: usize) -> Vec<Centroid> {
    let d = emb.dim;
    let mut out = Vec::new();
    for (c, idx) in members.iter().enumerate() {
        let m = idx.len();
        if m < min_points || m == 0 {
            continue;
        }
        let mut center = colmean(&emb.coords, d, idx);
        let mut used = m;
        if m > min_points {
            let dist: Vec<f64> = idx.iter().map(|&r| distance(&emb.coords[r * d..r * d + d], &center)).collect();
            let mut sorted = dist.clone();
            sorted.sort_unstable_by(|a, b| a.total_cmp(b));
            let thr = quantile_linear(&sorted, q);
            let keep: Vec<usize> = idx.iter().zip(&dist).filter(|(_, &x)| x <= thr).map(|(&r, _)| r).collect();
            if keep.len() >= min_points {
                center = colmean(&emb.coords, d, &keep);
                used = keep.len();
            }
        }
        out.push(Centroid { category: c, position: center, n_points: used });
    }
    out
}
