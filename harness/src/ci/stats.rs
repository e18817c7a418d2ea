//! The gate's statistic: per configuration, the paired ratio of medians candidate /
//! baseline — the median over pairs of `candidate_i / baseline_i` — with a percentile
//! bootstrap confidence interval that resamples *pairs*.
//!
//! The two binaries run back to back in each round (A,B then B,A in the next), so the
//! i-th baseline run and the i-th candidate run saw the same state of a shared machine
//! (a neighbour's build, a thermal dip). Dividing within a pair cancels that shared
//! state; resampling whole pairs keeps it together. The plain ratio of the two medians
//! (`median(candidate) / median(baseline)`, also reported) throws the pairing away: a
//! burst of load on the machine that hits rounds 3–5 moves both medians by different
//! amounts. With no noise the two coincide.
//!
//! The generator is the harness's fixed-seed SplitMix64 (`crate::plan::SplitMix64`), so
//! the interval of a given set of samples is the same on every machine and every run.

use crate::benchmark::stats::median;
use crate::plan::SplitMix64;
use serde::Serialize;

/// Bootstrap resamples per interval.
pub const RESAMPLES: usize = 2_000;
/// Two-sided confidence level of the interval.
pub const CONFIDENCE: f64 = 0.95;
/// The fixed seed of the resampling.
pub const SEED: u64 = 0xC1_6A7E;

/// A ratio of medians and its confidence interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct RatioCi {
    /// The median of the per-pair ratios candidate / baseline.
    pub ratio: f64,
    /// median(candidate) / median(baseline), unpaired, for reference.
    pub ratio_of_medians: f64,
    pub lo: f64,
    pub hi: f64,
    /// Number of pairs.
    pub pairs: usize,
    pub baseline_median_s: f64,
    pub candidate_median_s: f64,
}

/// `q`-quantile of sorted values by the nearest-rank rule (no interpolation: the
/// bootstrap distribution is discrete anyway).
fn nearest_rank(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    let k = ((q * n as f64).ceil() as usize).clamp(1, n);
    sorted[k - 1]
}

/// The paired ratio of `(baseline, candidate)` pairs with a `confidence` percentile
/// bootstrap interval from `resamples` resamples of the pairs; `None` without pairs or
/// with a non-positive baseline time.
pub fn paired_ratio(pairs: &[(f64, f64)], resamples: usize, confidence: f64, seed: u64) -> Option<RatioCi> {
    if pairs.is_empty() || resamples == 0 || pairs.iter().any(|p| !(p.0 > 0.0) || p.1.is_nan()) {
        return None;
    }
    let a: Vec<f64> = pairs.iter().map(|p| p.0).collect();
    let b: Vec<f64> = pairs.iter().map(|p| p.1).collect();
    let r: Vec<f64> = pairs.iter().map(|p| p.1 / p.0).collect();
    let (ma, mb) = (median(&a), median(&b));
    let n = pairs.len();
    let mut rng = SplitMix64::new(seed);
    let mut draw = Vec::with_capacity(n);
    let mut ratios = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        draw.clear();
        draw.extend((0..n).map(|_| r[rng.below(n)]));
        ratios.push(median(&draw));
    }
    ratios.sort_by(|x, y| x.total_cmp(y));
    let tail = (1.0 - confidence) / 2.0;
    Some(RatioCi {
        ratio: median(&r),
        ratio_of_medians: mb / ma,
        lo: nearest_rank(&ratios, tail),
        hi: nearest_rank(&ratios, 1.0 - tail),
        pairs: n,
        baseline_median_s: ma,
        candidate_median_s: mb,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Noisy but reproducible wall times around `base` (±8 %, with a slow drift that
    /// both sides of a pair share).
    fn noisy(n: usize, base: f64, seed: u64) -> Vec<f64> {
        let mut r = SplitMix64::new(seed);
        (0..n).map(|i| base * (1.0 + 0.08 * ((r.next_u64() >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 2.0 + 0.01 * i as f64)).collect()
    }

    #[test]
    fn a_twenty_percent_shift_is_detected() {
        let a = noisy(15, 0.5, 1);
        let b: Vec<f64> = noisy(15, 0.5, 2).iter().map(|x| x * 1.2).collect();
        let pairs: Vec<(f64, f64)> = a.into_iter().zip(b).collect();
        let ci = paired_ratio(&pairs, RESAMPLES, CONFIDENCE, SEED).expect("ci");
        assert!(ci.lo > 1.10, "{ci:?}");
        assert!(ci.lo <= ci.ratio && ci.ratio <= ci.hi, "{ci:?}");
        assert!((ci.ratio - 1.2).abs() < 0.08, "{ci:?}");
    }

    #[test]
    fn identical_samples_give_an_interval_containing_one() {
        let a = noisy(15, 0.5, 3);
        let pairs: Vec<(f64, f64)> = a.iter().map(|&x| (x, x)).collect();
        let ci = paired_ratio(&pairs, RESAMPLES, CONFIDENCE, SEED).expect("ci");
        assert_eq!(ci.ratio, 1.0);
        assert!(ci.lo <= 1.0 && ci.hi >= 1.0, "{ci:?}");
        // Two independent draws of the same distribution: still contains 1.
        let b = noisy(15, 0.5, 4);
        let pairs: Vec<(f64, f64)> = a.into_iter().zip(b).collect();
        let ci = paired_ratio(&pairs, RESAMPLES, CONFIDENCE, SEED).expect("ci");
        assert!(ci.lo < 1.0 && ci.hi > 1.0, "{ci:?}");
    }

    #[test]
    fn same_input_same_interval_and_empty_input() {
        let pairs: Vec<(f64, f64)> = noisy(9, 1.0, 5).into_iter().zip(noisy(9, 1.0, 6)).collect();
        let x = paired_ratio(&pairs, RESAMPLES, CONFIDENCE, SEED);
        assert_eq!(x, paired_ratio(&pairs, RESAMPLES, CONFIDENCE, SEED));
        assert_eq!(paired_ratio(&[], RESAMPLES, CONFIDENCE, SEED), None);
    }
}
