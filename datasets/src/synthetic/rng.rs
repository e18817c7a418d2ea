//! Deterministic random streams and the few distributions the generator needs.
//!
//! Every random draw comes from a [`ChaCha8Rng`] keyed by the spec's seed, with the ChaCha
//! *stream* number chosen from (component, chunk). Work is split into chunks whose size
//! never depends on the thread count, so a chunk draws the same numbers whichever thread
//! runs it, and the result is the same with 1 thread or 64.
//!
//! The distributions are implemented here, on top of raw `u64`s and the pure-Rust `libm`
//! functions, instead of `rand_distr`: `rand_distr`'s float maths switches between `libm`
//! and the platform's libm depending on Cargo feature unification elsewhere in the build,
//! and a different last bit in one `ln` can change a rejection decision and from there the
//! whole stream. With `libm` and IEEE basic arithmetic the output is bit-identical on every
//! machine.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What a stream is used for; the discriminant goes into the stream number so that
/// components never share random numbers.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Component {
    Clusters = 1,
    Library = 2,
    Programme = 3,
    Counts = 4,
    Embedding = 5,
    Latent = 6,
    Obs = 7,
    Graph = 8,
    Vectors = 9,
}

/// A seeded random stream with the draws the generator uses.
pub(crate) struct Rng {
    inner: ChaCha8Rng,
    /// Second value of the last polar-method pair, used by the next `normal()`.
    spare_normal: Option<f64>,
}

/// The stream for `chunk` of `component` under `seed`.
///
/// The key is expanded from the seed by rand_core's documented PCG32 expansion
/// (`seed_from_u64`), which is portable; the stream number keeps the 64-bit ChaCha nonce
/// space apart per component (top 8 bits) and chunk (low 56 bits).
pub(crate) fn stream(seed: u64, component: Component, chunk: u64) -> Rng {
    let mut inner = ChaCha8Rng::seed_from_u64(seed);
    inner.set_stream(((component as u64) << 56) | (chunk & ((1u64 << 56) - 1)));
    Rng { inner, spare_normal: None }
}

impl Rng {
    #[inline]
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// Uniform on the open interval (0, 1): 53 random bits plus a half step, so that
    /// `ln(u)` is always finite.
    #[inline]
    pub(crate) fn open01(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform on [lo, hi).
    #[inline]
    pub(crate) fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.open01()
    }

    /// Uniform integer in [0, n), without modulo bias (Lemire's multiply-and-reject).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = (self.next_u64() as u128) * (n as u128);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }

    /// Standard normal, Marsaglia's polar method (no trigonometry, so only `ln`/`sqrt`).
    pub(crate) fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        loop {
            let u = 2.0 * self.open01() - 1.0;
            let v = 2.0 * self.open01() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                let f = libm::sqrt(-2.0 * libm::log(s) / s);
                self.spare_normal = Some(v * f);
                return u * f;
            }
        }
    }

    /// Gamma(shape, scale 1): Marsaglia–Tsang, with the `u^(1/a)` boost for shape < 1.
    pub(crate) fn gamma(&mut self, shape: f64) -> f64 {
        if shape < 1.0 {
            let boost = libm::exp(libm::log(self.open01()) / shape);
            return self.gamma(shape + 1.0) * boost;
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / libm::sqrt(9.0 * d);
        loop {
            let x = self.normal();
            let t = 1.0 + c * x;
            if t <= 0.0 {
                continue;
            }
            let v = t * t * t;
            let u = self.open01();
            let x2 = x * x;
            if u < 1.0 - 0.0331 * x2 * x2 || libm::log(u) < 0.5 * x2 + d * (1.0 - v + libm::log(v)) {
                return d * v;
            }
        }
    }

    /// Poisson(lambda): inversion by sequential search for small means, Hörmann's PTRS
    /// (the transformed-rejection sampler numpy uses) for lambda >= 10.
    pub(crate) fn poisson(&mut self, lambda: f64) -> u64 {
        if lambda.is_nan() || lambda <= 0.0 {
            return 0;
        }
        if lambda < 10.0 {
            let u = self.open01();
            let mut p = libm::exp(-lambda);
            let mut cum = p;
            let mut k = 0u64;
            // The cap only guards against rounding leaving `cum` a hair below `u`.
            while cum < u && k < 1000 {
                k += 1;
                p *= lambda / k as f64;
                cum += p;
            }
            return k;
        }
        let slam = libm::sqrt(lambda);
        let loglam = libm::log(lambda);
        let b = 0.931 + 2.53 * slam;
        let a = -0.059 + 0.02483 * b;
        let invalpha = 1.1239 + 1.1328 / (b - 3.4);
        let vr = 0.9277 - 3.6224 / (b - 2.0);
        loop {
            let u = self.open01() - 0.5;
            let v = self.open01();
            let us = 0.5 - u.abs();
            let k = libm::floor((2.0 * a / us + b) * u + lambda + 0.43);
            if us >= 0.07 && v <= vr {
                return k as u64;
            }
            if k < 0.0 || (us < 0.013 && v > us) {
                continue;
            }
            if libm::log(v) + libm::log(invalpha) - libm::log(a / (us * us) + b)
                <= -lambda + k * loglam - libm::lgamma(k + 1.0)
            {
                return k as u64;
            }
        }
    }

    /// Normalised Gamma(shape) weights: a Dirichlet draw, used for uneven group sizes.
    pub(crate) fn dirichlet(&mut self, n: usize, shape: f64) -> Vec<f64> {
        let mut w: Vec<f64> = (0..n).map(|_| self.gamma(shape)).collect();
        let total: f64 = w.iter().sum();
        if total > 0.0 {
            w.iter_mut().for_each(|x| *x /= total);
        } else {
            w.iter_mut().for_each(|x| *x = 1.0 / n as f64);
        }
        w
    }

    /// Index drawn from a cumulative weight table (last entry = total).
    pub(crate) fn pick(&mut self, cumulative: &[f64]) -> usize {
        let total = cumulative.last().copied().unwrap_or(0.0);
        let target = self.open01() * total;
        cumulative.partition_point(|&c| c <= target).min(cumulative.len().saturating_sub(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_differ_by_component_and_chunk_and_repeat_by_seed() {
        let a: Vec<u64> = (0..4).map({
            let mut r = stream(7, Component::Counts, 0);
            move |_| r.next_u64()
        }).collect();
        let mut again = stream(7, Component::Counts, 0);
        assert_eq!(a, (0..4).map(|_| again.next_u64()).collect::<Vec<_>>());
        let mut other_chunk = stream(7, Component::Counts, 1);
        assert_ne!(a[0], other_chunk.next_u64());
        let mut other_comp = stream(7, Component::Graph, 0);
        assert_ne!(a[0], other_comp.next_u64());
    }

    #[test]
    fn distribution_means_are_right() {
        let mut r = stream(1, Component::Counts, 0);
        let n = 20_000;
        let g: f64 = (0..n).map(|_| r.gamma(0.5)).sum::<f64>() / n as f64;
        assert!((g - 0.5).abs() < 0.03, "gamma(0.5) mean {g}");
        let g: f64 = (0..n).map(|_| r.gamma(3.0)).sum::<f64>() / n as f64;
        assert!((g - 3.0).abs() < 0.08, "gamma(3) mean {g}");
        for lambda in [0.3, 4.0, 25.0, 400.0] {
            let m: f64 = (0..n).map(|_| r.poisson(lambda) as f64).sum::<f64>() / n as f64;
            assert!((m - lambda).abs() < 0.05 * lambda + 0.02, "poisson({lambda}) mean {m}");
        }
        let z: Vec<f64> = (0..n).map(|_| r.normal()).collect();
        let mean = z.iter().sum::<f64>() / n as f64;
        let var = z.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.03 && (var - 1.0).abs() < 0.05, "normal mean {mean} var {var}");
        assert!((0..1000).all(|_| r.below(3) < 3));
    }
}
