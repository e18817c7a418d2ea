//! A kNN-like connectivity graph without O(n²) work.
//!
//! Cells are ordered by cluster, then by their projection on a random latent direction,
//! so neighbours in that order are usually near in latent space. Each cell then links to
//! cells a few positions away in its own cluster's run:
//! - `Knn { k }`: among the `k` positions on each side, its `k` nearest by latent distance;
//! - `Density { edges_per_cell }`: the next `m` positions, `m ~ Poisson(edges_per_cell)`,
//!   which gives about `edges_per_cell` undirected edges per cell.
//!
//! Weights are `exp(-d / (spread * sqrt(2 * dims)))`, where `d` is the latent distance and
//! the denominator is the typical distance between two cells of the cluster, clipped to
//! `[1e-6, 1]` so that none underflows to a stored zero. Edges are collected as unordered
//! pairs, de-duplicated, and written both ways with the same f32 value, so the CSR matrix
//! is exactly symmetric, has no diagonal and no stored zeros, and its rows are sorted.

use cellucid_core::{Compressed, Matrix, Values};
use rayon::prelude::*;

use super::embedding::Clustered;
use super::rng::{stream, Component};
use super::spec::{DatasetSpec, GraphSpec};
use super::{Population, CELL_CHUNK};

pub(crate) fn build(spec: &DatasetSpec, pop: &Population, latent: &Clustered) -> Option<Matrix> {
    if spec.graph == GraphSpec::None {
        return None;
    }
    let n = spec.cells;
    let dims = latent.dims;
    let point = |c: u32| &latent.coords[c as usize * dims..(c as usize + 1) * dims];

    let mut rng = stream(spec.seed, Component::Graph, 0);
    let dir: Vec<f64> = (0..dims).map(|_| rng.normal()).collect();
    let proj: Vec<f64> = (0..n as u32)
        .into_par_iter()
        .map(|c| point(c).iter().zip(&dir).map(|(&x, &u)| x as f64 * u).sum())
        .collect();
    let mut order: Vec<u32> = (0..n as u32).collect();
    // A total order (ties broken by cell id), so the parallel sort has one possible result.
    order.par_sort_unstable_by(|&a, &b| {
        pop.cluster[a as usize]
            .cmp(&pop.cluster[b as usize])
            .then(proj[a as usize].total_cmp(&proj[b as usize]))
            .then(a.cmp(&b))
    });
    // run_end[p]: one past the last position of p's cluster run; run_start likewise.
    let mut run_start = vec![0usize; n];
    let mut run_end = vec![0usize; n];
    let mut s = 0;
    while s < n {
        let k = pop.cluster[order[s] as usize];
        let mut e = s;
        while e < n && pop.cluster[order[e] as usize] == k {
            e += 1;
        }
        run_start[s..e].fill(s);
        run_end[s..e].fill(e);
        s = e;
    }

    let scale: Vec<f64> = latent.spread.iter().map(|s| s * (2.0 * dims as f64).sqrt()).collect();
    let dist = |a: u32, b: u32| -> f64 {
        point(a).iter().zip(point(b)).map(|(&x, &y)| (x as f64 - y as f64) * (x as f64 - y as f64)).sum::<f64>().sqrt()
    };
    // Computed from the ordered pair, so both directions get the same bits.
    let edge = |a: u32, b: u32| -> (u32, u32, f32) {
        let (lo, hi) = if a < b { (a, b) } else { (b, a) };
        let d = dist(lo, hi);
        let w = libm::exp(-d / scale[pop.cluster[lo as usize] as usize]).clamp(1e-6, 1.0);
        (lo, hi, w as f32)
    };

    let mut pairs: Vec<(u32, u32, f32)> = match spec.graph {
        GraphSpec::None => Vec::new(),
        GraphSpec::Knn { k } => (0..n)
            .into_par_iter()
            .flat_map_iter(|p| {
                let a = order[p];
                let lo = p.saturating_sub(k).max(run_start[p]);
                let hi = (p + k + 1).min(run_end[p]);
                let mut cand: Vec<(f64, u32)> =
                    (lo..hi).filter(|&q| q != p).map(|q| (dist(a, order[q]), order[q])).collect();
                cand.sort_unstable_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
                cand.truncate(k);
                cand.into_iter().map(move |(_, b)| edge(a, b))
            })
            .collect(),
        GraphSpec::Density { edges_per_cell } => (0..n.div_ceil(CELL_CHUNK))
            .into_par_iter()
            .flat_map_iter(|chunk| {
                let mut rng = stream(spec.seed, Component::Graph, 1 + chunk as u64);
                let mut out = Vec::new();
                for p in chunk * CELL_CHUNK..((chunk + 1) * CELL_CHUNK).min(n) {
                    let m = rng.poisson(edges_per_cell) as usize;
                    for q in p + 1..(p + 1 + m).min(run_end[p]) {
                        out.push(edge(order[p], order[q]));
                    }
                }
                out
            })
            .collect(),
    };
    pairs.par_sort_unstable_by_key(|&(a, b, _)| (a, b));
    pairs.dedup_by_key(|e| (e.0, e.1));

    let mut indptr = vec![0u64; n + 1];
    for &(a, b, _) in &pairs {
        indptr[a as usize + 1] += 1;
        indptr[b as usize + 1] += 1;
    }
    for i in 0..n {
        indptr[i + 1] += indptr[i];
    }
    let mut cursor: Vec<u64> = indptr[..n].to_vec();
    let mut indices = vec![0u32; pairs.len() * 2];
    let mut data = vec![0f32; pairs.len() * 2];
    // Pairs are sorted by (a, b): row r first receives its columns a < r in increasing
    // order (from pairs (a, r)), then its columns b > r (from pairs (r, b)); rows end sorted.
    for &(a, b, w) in &pairs {
        for (row, col) in [(a, b), (b, a)] {
            let at = cursor[row as usize] as usize;
            indices[at] = col;
            data[at] = w;
            cursor[row as usize] += 1;
        }
    }
    Some(Matrix::Csr(Compressed { shape: (n, n), indptr, indices, data: Values::F32(data) }))
}
