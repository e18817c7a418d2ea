//! The expression matrix X: per-cluster gene programmes, overdispersed counts, log1p CP10k.
//!
//! **Model.** Cell `c` in cluster `k` expects `mu = alpha * s_c * rel[k][g]` counts of gene
//! `g`, where `s_c` is its library-size factor (log-normal), `rel[k][g]` is the cluster's
//! programme (a log-normal base mean per gene times fold changes on a random set of up- and
//! down-regulated marker genes), and `alpha` is calibrated so that the expected fraction of
//! non-zero counts equals the spec's density. Counts are negative binomial (gamma–Poisson)
//! or Poisson. Library sizes and programme values are log-normal *quantised to a grid of
//! [`LEVEL_STEP`] in ln units* (steps of ~10%, far below the counting noise), which is what
//! makes the sampler fast and the calibration exact.
//!
//! **Speed.** Cells × genes is never enumerated. One *line* (a gene for CSC, a cell for CSR)
//! is sampled group by group, where a group is the members (cells, resp. genes) of one
//! cluster on one grid level, so all of them share the same `mu`. Within a group with a
//! small non-zero probability `p`, the non-zero positions are found by geometric skipping
//! (one `ln` per non-zero) and the counts drawn from the zero-truncated distribution; when
//! `p` is large every member is drawn by CDF inversion. Entries are scattered into a
//! per-thread bitmap and read back in index order, which gives sorted indices without
//! sorting. Lines are grouped into fixed-size chunks, one random stream per chunk,
//! processed in parallel with rayon.

use cellucid_core::{Compressed, DenseArray, Matrix, Values};
use rayon::prelude::*;

use super::rng::{stream, Component, Rng};
use super::spec::{CountModel, DatasetSpec, Layout, Normalisation};
use super::Population;

/// Grid step, in ln units, of library sizes and programme values.
pub(crate) const LEVEL_STEP: f64 = 0.1;
/// From this group probability on, every member is drawn (a uniform each) instead of
/// skipping (an `ln` per non-zero), which is cheaper when most members are non-zero anyway.
const DIRECT_P: f64 = 0.125;
/// Up to this mean the count is drawn by CDF inversion; above it, gamma then Poisson.
const WALK_MAX_MU: f64 = 8.0;
/// Counts 1..=NORM_TABLE of each cell have their normalised value precomputed.
const NORM_TABLE: usize = 16;
/// Lines per random-stream chunk (fixed, so results do not depend on the thread count).
const GENES_PER_CHUNK: usize = 32;
pub(crate) const CELLS_PER_CHUNK: usize = 256;

/// The grid level of a positive weight.
#[inline]
pub(crate) fn level(w: f64) -> i32 {
    libm::round(libm::log(w) / LEVEL_STEP) as i32
}

/// The weight of a grid level.
#[inline]
pub(crate) fn level_value(level: i32) -> f64 {
    libm::exp(level as f64 * LEVEL_STEP)
}

/// Per-cluster relative expression of every gene, on the grid: `rel[k * genes + g]`.
pub(crate) struct Programme {
    pub genes: usize,
    pub rel: Vec<f64>,
}

impl Programme {
    pub(crate) fn row(&self, cluster: usize) -> &[f64] {
        &self.rel[cluster * self.genes..(cluster + 1) * self.genes]
    }
}

/// Draws the gene programmes: base means log-normal (sd 1.3 in ln units), and per cluster
/// ~3% of genes up-regulated 4–16× and ~1.5% down-regulated 2–8×.
pub(crate) fn programme(spec: &DatasetSpec) -> Programme {
    let genes = spec.genes;
    let mut rng = stream(spec.seed, Component::Programme, 0);
    let base: Vec<f64> = (0..genes).map(|_| libm::exp(1.3 * rng.normal())).collect();
    let mut rel = Vec::with_capacity(spec.clusters * genes);
    let n_up = ((genes as f64 * 0.03).round() as usize).max(1);
    let n_down = (genes as f64 * 0.015).round() as usize;
    for k in 0..spec.clusters {
        let mut rng = stream(spec.seed, Component::Programme, 1 + k as u64);
        let start = rel.len();
        rel.extend_from_slice(&base);
        let row = &mut rel[start..];
        for _ in 0..n_up {
            let g = rng.below(genes as u64) as usize;
            row[g] *= libm::exp(rng.uniform(4f64.ln(), 16f64.ln()));
        }
        for _ in 0..n_down {
            let g = rng.below(genes as u64) as usize;
            row[g] /= libm::exp(rng.uniform(2f64.ln(), 8f64.ln()));
        }
        row.iter_mut().for_each(|w| *w = level_value(level(*w)));
    }
    Programme { genes, rel }
}

/// Count distribution given the mean: NB with dispersion `phi` (variance `mu + phi mu^2`),
/// or Poisson when `phi == 0`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sampler {
    phi: f64,
    /// NB size parameter `1 / phi`.
    r: f64,
}

impl Sampler {
    pub(crate) fn new(model: &CountModel) -> Sampler {
        match *model {
            CountModel::NegativeBinomial { dispersion } => Sampler { phi: dispersion, r: 1.0 / dispersion },
            CountModel::Poisson => Sampler { phi: 0.0, r: f64::INFINITY },
        }
    }

    /// P(count = 0 | mu).
    #[inline]
    pub(crate) fn p_zero(&self, mu: f64) -> f64 {
        if self.phi > 0.0 {
            libm::exp(-self.r * libm::log1p(self.phi * mu))
        } else {
            libm::exp(-mu)
        }
    }

    /// Smallest k whose CDF reaches `target`, walking the pmf recurrence from P(0) = `p0`.
    #[inline]
    fn invert(&self, mu: f64, p0: f64, target: f64) -> u32 {
        // The cap only guards against rounding leaving the CDF a hair below `target`.
        const CAP: u32 = 100_000;
        let (mut k, mut pmf, mut cum) = (0u32, p0, p0);
        if self.phi > 0.0 {
            let q = self.phi * mu / (1.0 + self.phi * mu);
            while cum < target && k < CAP {
                pmf *= (k as f64 + self.r) / (k as f64 + 1.0) * q;
                k += 1;
                cum += pmf;
            }
        } else {
            while cum < target && k < CAP {
                k += 1;
                pmf *= mu / k as f64;
                cum += pmf;
            }
        }
        k
    }

    /// Gamma–Poisson draw, for large means where inversion would walk far.
    #[inline]
    fn compound(&self, mu: f64, rng: &mut Rng) -> u32 {
        let lambda = if self.phi > 0.0 { rng.gamma(self.r) * mu * self.phi } else { mu };
        rng.poisson(lambda).min(u32::MAX as u64) as u32
    }

    /// A count (possibly 0); `p0` is P(0 | mu).
    #[inline]
    fn sample_with_p0(&self, mu: f64, p0: f64, rng: &mut Rng) -> u32 {
        if mu <= WALK_MAX_MU {
            self.invert(mu, p0, rng.open01())
        } else {
            self.compound(mu, rng)
        }
    }

    /// A count conditioned on being positive; `p0` is P(0 | mu).
    #[inline]
    fn sample_positive(&self, mu: f64, p0: f64, rng: &mut Rng) -> u32 {
        if mu > WALK_MAX_MU && p0 < 0.5 {
            for _ in 0..1000 {
                let k = self.compound(mu, rng);
                if k > 0 {
                    return k;
                }
            }
        }
        self.invert(mu, p0, p0 + rng.open01() * (1.0 - p0)).max(1)
    }
}

/// Members of one cluster on one grid level: they all share one weight.
pub(crate) struct Group {
    weight: f64,
    members: Vec<u32>,
}

/// Buckets `(id, weight)` pairs, weights on the grid, by level (ascending).
pub(crate) fn level_groups(items: &[(u32, f64)]) -> Vec<Group> {
    let mut keyed: Vec<(i32, u32)> = items.iter().map(|&(id, w)| (level(w), id)).collect();
    keyed.sort_unstable();
    let mut groups: Vec<Group> = Vec::new();
    let mut last = None;
    for (l, id) in keyed {
        if last != Some(l) {
            groups.push(Group { weight: level_value(l), members: Vec::new() });
            last = Some(l);
        }
        if let Some(g) = groups.last_mut() {
            g.members.push(id);
        }
    }
    groups
}

/// Per-thread scratch for one line: counts by index and a bitmap of which are set.
pub(crate) struct Scratch {
    counts: Vec<u32>,
    bits: Vec<u64>,
}

impl Scratch {
    pub(crate) fn new(len: usize) -> Scratch {
        Scratch { counts: vec![0; len], bits: vec![0; len.div_ceil(64)] }
    }

    #[inline]
    fn set(&mut self, i: u32, count: u32) {
        self.counts[i as usize] = count;
        self.bits[(i >> 6) as usize] |= 1u64 << (i & 63);
    }

    /// Appends the set entries in index order and clears the bitmap; returns how many.
    fn drain(&mut self, indices: &mut Vec<u32>, values: &mut Vec<f32>) -> usize {
        let before = indices.len();
        for (w, word) in self.bits.iter_mut().enumerate() {
            let mut b = *word;
            if b == 0 {
                continue;
            }
            *word = 0;
            while b != 0 {
                let i = w * 64 + b.trailing_zeros() as usize;
                indices.push(i as u32);
                values.push(self.counts[i] as f32);
                b &= b - 1;
            }
        }
        indices.len() - before
    }
}

impl Sampler {
    /// Samples every member of `groups` with mean `base * group.weight` into `scratch`.
    pub(crate) fn sample_groups(&self, base: f64, groups: &[Group], rng: &mut Rng, scratch: &mut Scratch) {
        for g in groups {
            let mu = base * g.weight;
            let p0 = self.p_zero(mu);
            let p = 1.0 - p0;
            // Also skips a NaN or zero mean: nothing to draw.
            if p.is_nan() || p <= 0.0 {
                continue;
            }
            if p >= DIRECT_P {
                for &m in &g.members {
                    let k = self.sample_with_p0(mu, p0, rng);
                    if k > 0 {
                        scratch.set(m, k);
                    }
                }
                continue;
            }
            // Geometric skipping: zeros before the next non-zero ~ Geometric(p).
            let ln_q = libm::log1p(-p);
            let len = g.members.len();
            let mut pos = 0usize;
            while pos < len {
                let skip = libm::log(rng.open01()) / ln_q;
                if skip >= (len - pos) as f64 {
                    break;
                }
                pos += skip as usize;
                let k = self.sample_positive(mu, p0, rng);
                scratch.set(g.members[pos], k);
                pos += 1;
            }
        }
    }
}

/// Chooses `alpha` so that the expected fraction of non-zeros equals `density`.
///
/// Because weights are on a grid, the expectation is exact: per cluster, a histogram of
/// library-size levels times a histogram of programme levels, then `ln alpha` is bisected.
pub(crate) fn calibrate(spec: &DatasetSpec, pop: &Population, prog: &Programme, sampler: &Sampler) -> f64 {
    let clusters = spec.clusters;
    let histogram = |ws: &mut dyn Iterator<Item = f64>| -> Vec<(f64, f64)> {
        let mut levels: Vec<i32> = ws.map(level).collect();
        levels.sort_unstable();
        let mut out: Vec<(f64, f64)> = Vec::new();
        let mut i = 0;
        while i < levels.len() {
            let j = levels[i..].partition_point(|&l| l == levels[i]) + i;
            out.push((level_value(levels[i]), (j - i) as f64));
            i = j;
        }
        out
    };
    let mut libs: Vec<Vec<f64>> = vec![Vec::new(); clusters];
    for (c, &k) in pop.cluster.iter().enumerate() {
        libs[k as usize].push(pop.lib[c]);
    }
    // Per cluster: (library-size levels, programme levels), each as (weight, how many).
    type Histogram = Vec<(f64, f64)>;
    let tables: Vec<(Histogram, Histogram)> = libs
        .into_par_iter()
        .enumerate()
        .map(|(k, l)| (histogram(&mut l.into_iter()), histogram(&mut prog.row(k).iter().copied())))
        .collect();
    let total = spec.cells as f64 * spec.genes as f64;
    let mean_p = |ln_alpha: f64| -> f64 {
        let alpha = libm::exp(ln_alpha);
        let per_cluster: Vec<f64> = tables
            .par_iter()
            .map(|(libs, rels)| {
                let mut sum = 0.0;
                for &(s, ns) in libs {
                    for &(r, nr) in rels {
                        sum += ns * nr * (1.0 - sampler.p_zero(alpha * s * r));
                    }
                }
                sum
            })
            .collect();
        // Summed in cluster order, so the result does not depend on the thread count.
        per_cluster.iter().sum::<f64>() / total
    };
    let (mut lo, mut hi) = (-60.0f64, 60.0f64);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if mean_p(mid) < spec.density {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    libm::exp(0.5 * (lo + hi))
}

/// The generated X plus what obs needs from it.
pub(crate) struct Expression {
    pub matrix: Matrix,
    /// Total raw counts per cell (`n_counts`).
    pub totals: Vec<u64>,
    pub nnz: u64,
}

/// Compressed lines: `indptr`, minor indices and raw counts (as f32).
struct Lines {
    indptr: Vec<u64>,
    indices: Vec<u32>,
    values: Vec<f32>,
}

/// The lines of one random-stream chunk: their lengths, indices and raw counts.
pub(crate) struct Chunk {
    pub lens: Vec<u64>,
    pub indices: Vec<u32>,
    pub values: Vec<f32>,
}

/// Generates chunk `c` (lines `c * per_chunk ..`, at most `n_lines`) from its own
/// random stream. The in-memory generator and the streaming one (`stream.rs`) both call
/// this, which is what makes their matrices equal bit for bit.
pub(crate) fn chunk_lines<F>(seed: u64, c: usize, n_lines: usize, per_chunk: usize, expected_nnz_per_line: f64, line: &F, scratch: &mut Scratch) -> Chunk
where
    F: Fn(usize, &mut Rng, &mut Scratch),
{
    let mut rng = stream(seed, Component::Counts, c as u64);
    let first = c * per_chunk;
    let last = (first + per_chunk).min(n_lines);
    // Reserve a little over the expectation so most chunks never reallocate.
    let cap = (expected_nnz_per_line * (last - first) as f64 * 1.1) as usize + 64;
    let mut out = Chunk { lens: Vec::with_capacity(last - first), indices: Vec::with_capacity(cap), values: Vec::with_capacity(cap) };
    for l in first..last {
        line(l, &mut rng, scratch);
        let n = scratch.drain(&mut out.indices, &mut out.values);
        out.lens.push(n as u64);
    }
    out
}

/// Generates `n_lines` lines of length `line_len`, `per_chunk` lines per random stream.
fn build_lines<F>(seed: u64, n_lines: usize, line_len: usize, per_chunk: usize, expected_nnz_per_line: f64, line: F) -> Lines
where
    F: Fn(usize, &mut Rng, &mut Scratch) + Sync,
{
    let n_chunks = n_lines.div_ceil(per_chunk);
    let chunks: Vec<Chunk> = (0..n_chunks)
        .into_par_iter()
        .map_init(|| Scratch::new(line_len), |scratch, c| chunk_lines(seed, c, n_lines, per_chunk, expected_nnz_per_line, &line, scratch))
        .collect();
    let total: usize = chunks.iter().map(|c| c.indices.len()).sum();
    let mut indptr = Vec::with_capacity(n_lines + 1);
    indptr.push(0u64);
    for c in &chunks {
        for &n in &c.lens {
            let last = indptr[indptr.len() - 1];
            indptr.push(last + n);
        }
    }
    let mut indices = vec![0u32; total];
    let mut values = vec![0f32; total];
    let mut parts = Vec::with_capacity(chunks.len());
    let (mut rest_i, mut rest_v) = (&mut indices[..], &mut values[..]);
    for c in &chunks {
        let (a, b) = std::mem::take(&mut rest_i).split_at_mut(c.indices.len());
        let (x, y) = std::mem::take(&mut rest_v).split_at_mut(c.values.len());
        parts.push((c, a, x));
        rest_i = b;
        rest_v = y;
    }
    parts.into_par_iter().for_each(|(c, a, x)| {
        a.copy_from_slice(&c.indices);
        x.copy_from_slice(&c.values);
    });
    Lines { indptr, indices, values }
}

/// Splits `values` into blocks of whole lines for parallel per-line work:
/// `(first_line, lines in block, values of those lines)`.
fn line_blocks<'a>(indptr: &[u64], values: &'a mut [f32], lines_per_block: usize) -> Vec<(usize, usize, &'a mut [f32])> {
    let n_lines = indptr.len() - 1;
    let mut blocks = Vec::new();
    let mut rest = values;
    let mut first = 0;
    while first < n_lines {
        let last = (first + lines_per_block).min(n_lines);
        let len = (indptr[last] - indptr[first]) as usize;
        let (block, tail) = std::mem::take(&mut rest).split_at_mut(len);
        blocks.push((first, last - first, block));
        rest = tail;
        first = last;
    }
    blocks
}

/// CSR lines: per cluster, its genes grouped by programme level.
pub(crate) fn gene_groups(spec: &DatasetSpec, prog: &Programme) -> Vec<Vec<Group>> {
    (0..spec.clusters)
        .into_par_iter()
        .map(|k| {
            let items: Vec<(u32, f64)> = prog.row(k).iter().enumerate().map(|(g, &w)| (g as u32, w)).collect();
            level_groups(&items)
        })
        .collect()
}

/// Samples cell `c`'s line (raw counts) from its cluster's gene groups.
pub(crate) fn cell_line<'a>(pop: &'a Population, groups: &'a [Vec<Group>], sampler: &'a Sampler, alpha: f64) -> impl Fn(usize, &mut Rng, &mut Scratch) + Sync + 'a {
    move |c, rng, scratch| {
        let k = pop.cluster[c] as usize;
        sampler.sample_groups(alpha * pop.lib[c], &groups[k], rng, scratch);
    }
}

/// log1p CP10k's per-cell factor for a cell with `total` raw counts.
pub(crate) fn cp10k_factor(total: u64) -> f64 {
    if total > 0 {
        1e4 / total as f64
    } else {
        0.0
    }
}

/// A normalised value: `log1p(count × factor)` rounded once to f32 (the table of the
/// in-memory path holds exactly these values for counts 1..=16).
pub(crate) fn log1p_cp10k(count: f32, factor: f64) -> f32 {
    libm::log1p(count as f64 * factor) as f32
}

/// Generates X in the spec's layout and normalisation.
pub(crate) fn generate(spec: &DatasetSpec, pop: &Population, prog: &Programme, sampler: &Sampler, alpha: f64) -> Expression {
    let (cells, genes) = (spec.cells, spec.genes);
    let by_cell = !matches!(spec.layout, Layout::Csc);
    let mut lines = if by_cell {
        let groups = gene_groups(spec, prog);
        build_lines(spec.seed, cells, genes, CELLS_PER_CHUNK, spec.density * genes as f64, cell_line(pop, &groups, sampler, alpha))
    } else {
        // CSC: one line per gene; groups are the cells of each cluster, by library-size level.
        let mut items: Vec<Vec<(u32, f64)>> = vec![Vec::new(); spec.clusters];
        for (c, &k) in pop.cluster.iter().enumerate() {
            items[k as usize].push((c as u32, pop.lib[c]));
        }
        let groups: Vec<Vec<Group>> = items.par_iter().map(|i| level_groups(i)).collect();
        build_lines(spec.seed, genes, cells, GENES_PER_CHUNK, spec.density * cells as f64, |g, rng, scratch| {
            for (k, cluster_groups) in groups.iter().enumerate() {
                sampler.sample_groups(alpha * prog.rel[k * genes + g], cluster_groups, rng, scratch);
            }
        })
    };

    // Totals are integer sums, so any summation order gives the same result.
    let totals: Vec<u64> = if by_cell {
        (0..cells)
            .into_par_iter()
            .map(|c| {
                let (a, b) = (lines.indptr[c] as usize, lines.indptr[c + 1] as usize);
                lines.values[a..b].iter().map(|&v| v as u64).sum()
            })
            .collect()
    } else {
        lines
            .indices
            .par_chunks(1 << 20)
            .zip(lines.values.par_chunks(1 << 20))
            .fold(
                || vec![0u64; cells],
                |mut acc, (idx, val)| {
                    for (&i, &v) in idx.iter().zip(val) {
                        acc[i as usize] += v as u64;
                    }
                    acc
                },
            )
            .reduce(
                || vec![0u64; cells],
                |mut a, b| {
                    a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                    a
                },
            )
    };

    if spec.normalisation == Normalisation::Log1pCp10k {
        let factor: Vec<f64> = totals.par_iter().map(|&t| cp10k_factor(t)).collect();
        let table: Vec<f32> = (0..cells * NORM_TABLE)
            .into_par_iter()
            .map(|i| log1p_cp10k((i % NORM_TABLE + 1) as f32, factor[i / NORM_TABLE]))
            .collect();
        let norm = |cell: usize, count: f32| -> f32 {
            let k = count as usize;
            if (1..=NORM_TABLE).contains(&k) {
                table[cell * NORM_TABLE + k - 1]
            } else {
                log1p_cp10k(count, factor[cell])
            }
        };
        if by_cell {
            line_blocks(&lines.indptr, &mut lines.values, 1024).into_par_iter().for_each(|(first, n, block)| {
                let base = lines.indptr[first];
                for c in first..first + n {
                    let (a, b) = ((lines.indptr[c] - base) as usize, (lines.indptr[c + 1] - base) as usize);
                    block[a..b].iter_mut().for_each(|v| *v = norm(c, *v));
                }
            });
        } else {
            lines
                .values
                .par_chunks_mut(1 << 16)
                .zip(lines.indices.par_chunks(1 << 16))
                .for_each(|(vals, idx)| {
                    vals.iter_mut().zip(idx).for_each(|(v, &c)| *v = norm(c as usize, *v));
                });
        }
    }

    let nnz = lines.indices.len() as u64;
    let matrix = match spec.layout {
        Layout::Csr => Matrix::Csr(Compressed {
            shape: (cells, genes),
            indptr: lines.indptr,
            indices: lines.indices,
            data: Values::F32(lines.values),
        }),
        Layout::Csc => Matrix::Csc(Compressed {
            shape: (cells, genes),
            indptr: lines.indptr,
            indices: lines.indices,
            data: Values::F32(lines.values),
        }),
        Layout::Dense => {
            let mut dense = vec![0f32; cells * genes];
            dense.par_chunks_mut(genes).enumerate().for_each(|(c, row)| {
                for j in lines.indptr[c] as usize..lines.indptr[c + 1] as usize {
                    row[lines.indices[j] as usize] = lines.values[j];
                }
            });
            Matrix::Dense(DenseArray::new_2d(cells, genes, dense))
        }
    };
    Expression { matrix, totals, nnz }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_truncated_counts_are_positive_and_full_counts_match_the_mean() {
        let s = Sampler::new(&CountModel::NegativeBinomial { dispersion: 0.5 });
        let mut rng = stream(3, Component::Counts, 0);
        for mu in [0.01, 0.5, 3.0, 20.0] {
            let p0 = s.p_zero(mu);
            assert!((0..2000).all(|_| s.sample_positive(mu, p0, &mut rng) >= 1));
            let n = 40_000;
            let mean = (0..n).map(|_| s.sample_with_p0(mu, p0, &mut rng) as f64).sum::<f64>() / n as f64;
            assert!((mean - mu).abs() < 0.06 * mu + 0.01, "mu {mu}: mean {mean}");
        }
    }

    #[test]
    fn groups_share_one_grid_weight() {
        let items: Vec<(u32, f64)> =
            (0..500).map(|i| (i, level_value(level(1.0 + (i as f64 * 0.37).sin().abs() * 40.0)))).collect();
        let groups = level_groups(&items);
        let mut seen = 0;
        for g in &groups {
            for &m in &g.members {
                assert_eq!(items[m as usize].1, g.weight);
                seen += 1;
            }
        }
        assert_eq!(seen, 500);
        assert!(groups.windows(2).all(|w| w[0].weight < w[1].weight));
    }
}
