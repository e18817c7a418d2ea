//! A distribution-free confidence interval for a median, from order statistics.
//!
//! For `n` independent draws of a continuous distribution, the number of draws below the
//! true median is Binomial(n, ½), whatever the distribution. So the interval between the
//! `k`-th smallest and the `k`-th largest draw, `[x₍ₖ₎, x₍ₙ₋ₖ₊₁₎]`, misses the median only
//! when at most `k − 1` draws fall on one side: its coverage is `1 − 2·P(B ≤ k − 1)`,
//! exactly. The gate takes the largest `k` whose coverage still reaches the confidence
//! level, i.e. the narrowest such interval.
//!
//! Why this and not the bootstrap (`super::stats`): with few pairs the bootstrap's
//! interval is too narrow (with 3 pairs its ends are the smallest and largest ratio,
//! with a nominal 95 % it really covers 75 %), which is how a busy machine made the gate
//! fail a binary against itself. Order statistics need no assumption and say so when
//! there are too few pairs: below 6, no interval reaches 95 %.

use serde::Serialize;

/// An interval for the median and what it is worth.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct MedianCi {
    pub lo: f64,
    pub hi: f64,
    /// The exact coverage `1 − 2·P(B ≤ k − 1)` (≥ the confidence asked for).
    pub coverage: f64,
    /// The order statistic used (1-based): `lo = x₍ₖ₎`, `hi = x₍ₙ₋ₖ₊₁₎`.
    pub k: usize,
}

/// `P(B ≤ k)` for `B ~ Binomial(n, ½)`, summed in log space so large `n` cannot underflow.
pub fn binomial_half_cdf(n: usize, k: usize) -> f64 {
    let ln_half_n = -(n as f64) * std::f64::consts::LN_2;
    let mut ln_pmf = ln_half_n; // i = 0: C(n, 0) / 2^n
    let mut sum = ln_pmf.exp();
    for i in 1..=k.min(n) {
        ln_pmf += ((n - i + 1) as f64).ln() - (i as f64).ln();
        sum += ln_pmf.exp();
    }
    sum.min(1.0)
}

/// The narrowest order-statistic interval of the median of `values` with coverage at
/// least `confidence`; `None` when no interval reaches it (too few values) or a value is
/// NaN.
pub fn median_ci(values: &[f64], confidence: f64) -> Option<MedianCi> {
    if values.iter().any(|v| v.is_nan()) {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let n = sorted.len();
    let coverage = |k: usize| 1.0 - 2.0 * binomial_half_cdf(n, k - 1);
    // Coverage falls as k grows; k runs up to the middle.
    let k = (1..=n.div_ceil(2)).take_while(|&k| coverage(k) >= confidence).last()?;
    Some(MedianCi { lo: sorted[k - 1], hi: sorted[n - k], coverage: coverage(k), k })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binomial_cdf_known_values() {
        assert!((binomial_half_cdf(6, 0) - 1.0 / 64.0).abs() < 1e-15);
        assert!((binomial_half_cdf(10, 1) - 11.0 / 1024.0).abs() < 1e-15);
        assert!((binomial_half_cdf(12, 3) - 299.0 / 4096.0).abs() < 1e-15);
        assert!((binomial_half_cdf(20, 5) - 21_700.0 / 1_048_576.0).abs() < 1e-15);
        assert!((binomial_half_cdf(7, 7) - 1.0).abs() < 1e-15);
        // Large n: symmetric, no underflow.
        assert!((binomial_half_cdf(2001, 1000) - 0.5).abs() < 1e-9);
    }

    #[test]
    fn order_statistics_as_in_the_tables() {
        let xs = |n: usize| (1..=n).map(|i| i as f64).collect::<Vec<_>>();
        // n = 5: the best interval, [min, max], covers 1 − 2/32 = 93.75 % < 95 %.
        assert_eq!(median_ci(&xs(5), 0.95), None);
        let c = median_ci(&xs(6), 0.95).expect("n = 6");
        assert_eq!((c.k, c.lo, c.hi), (1, 1.0, 6.0));
        assert!((c.coverage - 62.0 / 64.0).abs() < 1e-15);
        let c = median_ci(&xs(10), 0.95).expect("n = 10");
        assert_eq!((c.k, c.lo, c.hi), (2, 2.0, 9.0));
        assert!((c.coverage - (1.0 - 22.0 / 1024.0)).abs() < 1e-15);
        let c = median_ci(&xs(12), 0.95).expect("n = 12");
        assert_eq!((c.k, c.lo, c.hi), (3, 3.0, 10.0));
        // n = 20: the textbook k = 6 (coverage 95.86 %).
        let c = median_ci(&xs(20), 0.95).expect("n = 20");
        assert_eq!((c.k, c.lo, c.hi), (6, 6.0, 15.0));
        assert!((c.coverage - 0.958_610_5).abs() < 1e-6, "{c:?}");
    }

    #[test]
    fn order_of_input_does_not_matter_and_nan_is_refused() {
        let a = median_ci(&[1.03, 0.98, 1.01, 1.00, 0.99, 1.02, 1.04], 0.95);
        let b = median_ci(&[1.04, 1.02, 0.99, 1.00, 1.01, 0.98, 1.03], 0.95);
        assert_eq!(a, b);
        assert_eq!(a.map(|c| (c.lo, c.hi)), Some((0.98, 1.04)));
        assert_eq!(median_ci(&[1.0, f64::NAN, 1.0, 1.0, 1.0, 1.0, 1.0], 0.95), None);
    }
}
