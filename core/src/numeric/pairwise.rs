//! numpy's pairwise summation (`loops_utils.h`), for f64 and f32.
//!
//! numpy reduces one contiguous run of `n` values like this:
//! - `n < 8`: start at `-0.0` and add sequentially;
//! - `8 <= n <= 128`: eight accumulators over blocks of eight, combined as
//!   `((r0+r1)+(r2+r3)) + ((r4+r5)+(r6+r7))`, then the `n % 8` tail sequentially;
//! - `n > 128`: split at `h = n/2` rounded down to a multiple of 8 and recurse.
//!
//! A full reduction (`np.sum`, the inner loop of `mean`) adds that result to the
//! reduction's initial `0.0`: use [`reduce_f64`] / [`reduce_f32`].

macro_rules! pairwise {
    ($name:ident, $t:ty) => {
        /// numpy's pairwise sum of `x` (without the reduction's initial `0.0`).
        pub fn $name(x: &[$t]) -> $t {
            let n = x.len();
            if n < 8 {
                let mut r: $t = -0.0;
                for &v in x {
                    r += v;
                }
                r
            } else if n <= 128 {
                let mut r = [x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]];
                let mut i = 8;
                while i + 8 <= n {
                    for j in 0..8 {
                        r[j] += x[i + j];
                    }
                    i += 8;
                }
                let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
                while i < n {
                    res += x[i];
                    i += 1;
                }
                res
            } else {
                let mut h = n / 2;
                h -= h % 8;
                $name(&x[..h]) + $name(&x[h..])
            }
        }
    };
}

pairwise!(pairwise_sum_f64, f64);
pairwise!(pairwise_sum_f32, f32);

/// `np.sum` of a contiguous f64 run: `0.0 + pairwise(x)`.
pub fn reduce_f64(x: &[f64]) -> f64 {
    0.0 + pairwise_sum_f64(x)
}

/// `np.sum` of a contiguous f32 run: `0.0 + pairwise(x)`, in f32.
pub fn reduce_f32(x: &[f32]) -> f32 {
    0.0 + pairwise_sum_f32(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_runs_are_sequential_from_negative_zero() {
        assert_eq!(pairwise_sum_f64(&[]).to_bits(), (-0.0f64).to_bits());
        assert_eq!(reduce_f64(&[]).to_bits(), 0.0f64.to_bits());
        assert_eq!(pairwise_sum_f64(&[1.0, 2.0, 3.0]), 6.0);
    }

    #[test]
    fn differs_from_sequential_like_numpy() {
        // 1e16 + 1 + 1 + ... : sequential loses the ones, the 8-accumulator path keeps some.
        let mut x = vec![1.0f64; 16];
        x[0] = 1e16;
        let seq: f64 = x.iter().fold(0.0, |a, b| a + b);
        let pw = reduce_f64(&x);
        assert_eq!(seq, 1e16);
        // r0 = 1e16+1 = 1e16 (ties to even); r1..r7 = 2; combined: ((1e16+2)+4)+8 = 1e16+14.
        assert_eq!(pw, 1e16 + 14.0);
    }

    #[test]
    fn recursion_splits_at_multiples_of_eight() {
        let x: Vec<f64> = (0..1000).map(|i| (i as f64) * 0.1).collect();
        let h = 1000 / 2 - (1000 / 2) % 8;
        assert_eq!(pairwise_sum_f64(&x), pairwise_sum_f64(&x[..h]) + pairwise_sum_f64(&x[h..]));
    }
}
