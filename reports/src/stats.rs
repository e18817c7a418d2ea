//! Small statistics for few runs: medians with order-statistic intervals, bootstrap
//! intervals for ratios of medians, and log-log least squares with R² and a t interval
//! on the exponent.
//!
//! Sweeps take 3 runs per cell, so nothing here assumes normality of run times: the
//! median's interval comes from order statistics (binomial), and ratios are bootstrapped
//! with a fixed seed so that a report is reproducible.

/// Median of the values (NaN-free); `None` for none.
pub fn median(values: &[f64]) -> Option<f64> {
    quantile(values, 0.5)
}

/// Linear-interpolation quantile (numpy's default) of the values.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let pos = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    Some(v[lo] + (v[hi] - v[lo]) * (pos - lo as f64))
}

/// Relative spread: (max − min) / median, the "spread" each table states.
pub fn rel_spread(values: &[f64]) -> Option<f64> {
    let m = median(values)?;
    let mx = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mn = values.iter().copied().fold(f64::INFINITY, f64::min);
    (m > 0.0).then(|| (mx - mn) / m)
}

/// A distribution-free ~95 % interval for the median: the order statistics `(k, n+1-k)`
/// with the largest `k` whose binomial coverage is ≥ 95 %. With fewer than 6 values no
/// such pair exists, and the range (min, max) is returned with its actual coverage
/// (75 % for 3 runs), which [`Interval::coverage`] states.
pub fn median_interval(values: &[f64]) -> Option<Interval> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    // coverage of (x_(k), x_(n+1-k)) = 1 - 2 * P(Bin(n, 1/2) < k)
    let cdf = |k: usize| -> f64 { (0..k).map(|i| binom(n, i)).sum::<f64>() / 2f64.powi(n as i32) };
    let mut k = 1;
    while k < n / 2 && 1.0 - 2.0 * cdf(k + 1) >= 0.95 {
        k += 1;
    }
    let coverage = if n == 1 { 0.0 } else { 1.0 - 2.0 * cdf(k) };
    Some(Interval { lo: v[k - 1], hi: v[n - k], coverage })
}

/// The smallest number of values whose order statistics give a 95 % interval of the
/// median (5 values reach only 93.75 %).
pub const MIN_VALUES_FOR_95: usize = 6;

/// Half-width of the median's 95 % interval ([`median_interval`]) relative to the median,
/// the larger side: `0.05` means the median is known to ±5 %. `None` below
/// [`MIN_VALUES_FOR_95`] values (no 95 % interval exists) or for a median of 0.
pub fn relative_half_width(values: &[f64]) -> Option<f64> {
    if values.len() < MIN_VALUES_FOR_95 {
        return None;
    }
    let i = median_interval(values)?;
    let m = median(values)?;
    (m > 0.0).then(|| (m - i.lo).max(i.hi - m) / m)
}

fn binom(n: usize, k: usize) -> f64 {
    (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

/// An interval and its nominal coverage (0.95 unless too few values allowed it).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    pub lo: f64,
    pub hi: f64,
    pub coverage: f64,
}

/// A deterministic generator for the bootstrap (SplitMix64).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize % n.max(1)
    }
}

/// Geometric mean over matched pairs of median(num_i) / median(den_i), with a 95 %
/// percentile bootstrap interval (runs resampled within each group; 2,000 resamples,
/// fixed seed). `None` if no pair has values on both sides.
pub fn ratio_of_medians(pairs: &[(Vec<f64>, Vec<f64>)]) -> Option<(f64, Interval)> {
    let pairs: Vec<_> = pairs.iter().filter(|(a, b)| !a.is_empty() && !b.is_empty()).collect();
    if pairs.is_empty() {
        return None;
    }
    let stat = |get: &mut dyn FnMut(&[f64]) -> f64| -> f64 {
        let logs: f64 = pairs.iter().map(|(a, b)| (get(a) / get(b)).ln()).sum();
        (logs / pairs.len() as f64).exp()
    };
    let point = stat(&mut |v| median(v).unwrap_or(f64::NAN));
    let mut rng = Rng::new(0x5EED);
    let mut boots = Vec::with_capacity(2000);
    for _ in 0..2000 {
        let b = stat(&mut |v| {
            let r: Vec<f64> = (0..v.len()).map(|_| v[rng.below(v.len())]).collect();
            median(&r).unwrap_or(f64::NAN)
        });
        if b.is_finite() {
            boots.push(b);
        }
    }
    let lo = quantile(&boots, 0.025)?;
    let hi = quantile(&boots, 0.975)?;
    Some((point, Interval { lo, hi, coverage: 0.95 }))
}

/// A fit of `ln y = a_g + e · ln x` over groups that share the slope `e` (each group
/// its own intercept): the exponent of y in x, everything else held fixed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PowerFit {
    pub exponent: f64,
    /// 95 % t interval on the exponent; `None` without residual degrees of freedom.
    pub interval: Option<Interval>,
    /// Within-group R².
    pub r2: f64,
    pub points: usize,
    pub groups: usize,
}

/// Pooled log-log least squares. Points with x ≤ 0 or y ≤ 0 are dropped; groups with
/// fewer than 2 distinct x are dropped. `None` if nothing is left.
pub fn power_fit(groups: &[Vec<(f64, f64)>]) -> Option<PowerFit> {
    let mut sxx = 0.0;
    let mut sxy = 0.0;
    let mut syy = 0.0;
    let mut n = 0usize;
    let mut g = 0usize;
    let mut centred: Vec<(f64, f64)> = Vec::new();
    for grp in groups {
        let pts: Vec<(f64, f64)> =
            grp.iter().filter(|(x, y)| *x > 0.0 && *y > 0.0).map(|(x, y)| (x.ln(), y.ln())).collect();
        let distinct = pts.iter().any(|p| (p.0 - pts[0].0).abs() > 1e-12);
        if pts.len() < 2 || !distinct {
            continue;
        }
        let mx = pts.iter().map(|p| p.0).sum::<f64>() / pts.len() as f64;
        let my = pts.iter().map(|p| p.1).sum::<f64>() / pts.len() as f64;
        for (x, y) in pts {
            centred.push((x - mx, y - my));
        }
        g += 1;
    }
    for (x, y) in &centred {
        sxx += x * x;
        sxy += x * y;
        syy += y * y;
        n += 1;
    }
    if g == 0 || sxx <= 0.0 {
        return None;
    }
    let e = sxy / sxx;
    let sse: f64 = centred.iter().map(|(x, y)| (y - e * x).powi(2)).sum();
    let r2 = if syy > 0.0 { 1.0 - sse / syy } else { 1.0 };
    let df = n as i64 - g as i64 - 1;
    let interval = (df >= 1).then(|| {
        let se = (sse / df as f64 / sxx).sqrt();
        let t = t975(df as usize);
        Interval { lo: e - t * se, hi: e + t * se, coverage: 0.95 }
    });
    Some(PowerFit { exponent: e, interval, r2, points: n, groups: g })
}

/// Student's t 97.5 % quantile for `df` degrees of freedom.
pub fn t975(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::INFINITY,
        1..=30 => T[df - 1],
        31..=60 => 2.00,
        61..=120 => 1.98,
        _ => 1.96,
    }
}

/// Ordinary least squares `y ≈ X β` by the normal equations (small, well-posed systems
/// only: the recommend model has 2–3 coefficients). `None` if singular.
pub fn least_squares(rows: &[Vec<f64>], y: &[f64]) -> Option<Vec<f64>> {
    let p = rows.first()?.len();
    let mut a = vec![vec![0.0; p + 1]; p];
    for (r, &yy) in rows.iter().zip(y) {
        for i in 0..p {
            for j in 0..p {
                a[i][j] += r[i] * r[j];
            }
            a[i][p] += r[i] * yy;
        }
    }
    // Gauss-Jordan with partial pivoting.
    for c in 0..p {
        let piv = (c..p).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))?;
        if a[piv][c].abs() < 1e-300 {
            return None;
        }
        a.swap(c, piv);
        for r in 0..p {
            if r != c {
                let f = a[r][c] / a[c][c];
                for k in c..=p {
                    a[r][k] -= f * a[c][k];
                }
            }
        }
    }
    Some((0..p).map(|i| a[i][p] / a[i][i]).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_half_width_needs_six_values_and_takes_the_wider_side() {
        assert_eq!(relative_half_width(&[1.0, 1.0, 1.0, 1.0, 1.0]), None);
        // 6 values: the 95 % interval is (min, max); median 1.0, max 1.3 -> ±30 %.
        let h = relative_half_width(&[0.95, 1.0, 1.0, 1.0, 1.0, 1.3]).unwrap();
        assert!((h - 0.3).abs() < 1e-12, "{h}");
        assert_eq!(relative_half_width(&[0.0; 8]), None, "a zero median has no relative width");
    }

    #[test]
    fn the_interval_line_counts_cells_within_five_percent() {
        let tight = vec![1.0, 1.01, 0.99, 1.0, 1.02, 0.98];
        let loose = vec![1.0, 1.2, 0.8, 1.0, 1.1, 0.9];
        let short = vec![1.0, 1.0, 1.0];
        let line = crate::cells::interval_line(&[tight, loose, short.clone()]);
        assert_eq!(
            line,
            "95 % interval of each cell's median: median ±11.0 %, worst ±20.0 %; 1 of 2 cells within ±5 %; \
             1 cell(s) with fewer than 6 runs have no 95 % interval"
        );
        assert!(crate::cells::interval_line(&[short]).starts_with("no cell has the 6 runs"));
    }

    #[test]
    fn median_and_quantile() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        assert_eq!(quantile(&[0.0, 10.0], 0.25), Some(2.5));
    }

    #[test]
    fn median_interval_coverage() {
        let three = median_interval(&[1.0, 3.0, 2.0]).unwrap();
        assert_eq!((three.lo, three.hi), (1.0, 3.0));
        assert!((three.coverage - 0.75).abs() < 1e-12);
        // n = 10: (x_2, x_9) covers 97.9 %, (x_3, x_8) only 89 %.
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        let i = median_interval(&ten).unwrap();
        assert_eq!((i.lo, i.hi), (2.0, 9.0));
        assert!(i.coverage > 0.95);
    }

    #[test]
    fn power_fit_recovers_exponent() {
        // y = 3 x^1.5 and y = 7 x^1.5 in two groups: slope 1.5, R² 1.
        let g1: Vec<(f64, f64)> = [1.0, 2.0, 4.0].iter().map(|&x: &f64| (x, 3.0 * x.powf(1.5))).collect();
        let g2: Vec<(f64, f64)> = [1.0, 8.0].iter().map(|&x: &f64| (x, 7.0 * x.powf(1.5))).collect();
        let f = power_fit(&[g1, g2]).unwrap();
        assert!((f.exponent - 1.5).abs() < 1e-9);
        assert!((f.r2 - 1.0).abs() < 1e-9);
        assert_eq!((f.points, f.groups), (5, 2));
        let i = f.interval.unwrap();
        assert!(i.lo <= 1.5 && 1.5 <= i.hi);
        // One group of two points: no degrees of freedom left for an interval.
        assert!(power_fit(&[vec![(1.0, 1.0), (2.0, 2.0)]]).unwrap().interval.is_none());
    }

    #[test]
    fn ratio_bootstrap_brackets_point() {
        let (r, i) = ratio_of_medians(&[(vec![2.0, 2.2, 1.8], vec![1.0, 1.1, 0.9])]).unwrap();
        assert!((r - 2.0).abs() < 1e-12);
        assert!(i.lo <= r && r <= i.hi && i.lo > 1.0 && i.hi < 3.0);
    }

    #[test]
    fn least_squares_solves() {
        let rows = vec![vec![1.0, 0.0], vec![1.0, 1.0], vec![1.0, 2.0]];
        let b = least_squares(&rows, &[1.0, 3.0, 5.0]).unwrap();
        assert!((b[0] - 1.0).abs() < 1e-12 && (b[1] - 2.0).abs() < 1e-12);
    }
}
