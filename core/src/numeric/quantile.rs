//! numpy's default (`linear`) quantile and `searchsorted(side="right")` ranks.

/// `np.quantile(sorted, q)` with the default method, in numpy's exact form
/// (FORMAT.md §7.3): `b - diff*(1-g)` when `g >= 0.5`, else `a + diff*g`.
/// `sorted` must be ascending and non-empty.
pub fn quantile_linear(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    let h = (n as f64 - 1.0) * q;
    let lo = h.floor();
    let (a, b) = if h >= (n - 1) as f64 {
        (sorted[n - 1], sorted[n - 1])
    } else {
        let lo = lo as usize;
        (sorted[lo], sorted[lo + 1])
    };
    let g = h - lo;
    let diff = b - a;
    if g >= 0.5 {
        b - diff * (1.0 - g)
    } else {
        a + diff * g
    }
}

/// For each value, the number of values `<=` it (ties share the higher rank), as
/// `np.searchsorted(np.sort(v), v, side="right")`. `v` must hold no NaN.
pub fn ranks_right(v: &[f32]) -> Vec<u32> {
    let mut sorted = v.to_vec();
    sorted.sort_unstable_by(|a, b| a.total_cmp(b));
    v.iter().map(|x| sorted.partition_point(|s| s <= x) as u32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_matches_numpy() {
        // np.quantile([1,2,3,4], 0.95) == 3.8499999999999996
        assert_eq!(quantile_linear(&[1.0, 2.0, 3.0, 4.0], 0.95), 3.8499999999999996);
        assert_eq!(quantile_linear(&[5.0], 0.95), 5.0);
        assert_eq!(quantile_linear(&[0.0, 10.0], 0.5), 5.0);
    }

    #[test]
    fn ties_rank_high() {
        assert_eq!(ranks_right(&[0.5, 0.1, 0.5, 0.9]), vec![3, 1, 3, 4]);
    }
}
