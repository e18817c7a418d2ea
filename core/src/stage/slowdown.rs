//! An injected, proportional slowdown of the gene stage, for calibrating the CI speed gate
//! (`cellucid-bench ci`, `scripts/calibrate-gate.sh`). Compiled only with the cargo
//! feature `slowdown` (core; forwarded by the harness as its own feature `slowdown`): a
//! normal build does not contain this module or any call to it.
//!
//! With the feature, `CELLUCID_SLOWDOWN_PCT=P` (a number ≥ 0, at most 1000) makes every
//! gene of the gene stage spend an extra `P` % of that gene's own time (encode, compress,
//! write) busy on its core, right after the gene is written. Unset, empty or `0`: no
//! extra work.
//!
//! Why a measured fraction of the gene's own CPU time and not a repeat of a kernel
//! (e.g. quantizing the column again): the cost of a gene is spread differently over
//! quantization, deflate and the write depending on the settings (f32 plain has no
//! quantizer at all, gzip 9 is mostly deflate), so repeating one kernel would slow some
//! configurations by 10 % and others by 1 %. Padding each gene by a fraction of what it
//! just cost slows the gene stage by that fraction on every configuration, and keeps
//! the thread busy, as a real CPU regression would (sleeping would let the other
//! workers catch up). Both the gene's cost and the pad are measured in this thread's
//! CPU time (`CLOCK_THREAD_CPUTIME_ID`), not wall time, so that being descheduled by a
//! neighbour on a shared machine does not inflate the pad: the extra work is a fixed
//! fraction of the real work, whatever the load.

use std::time::Duration;

/// The environment variable read once per gene stage.
pub const ENV: &str = "CELLUCID_SLOWDOWN_PCT";

/// The extra fraction of each gene's time to spend busy.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Slowdown {
    fraction: f64,
}

impl Slowdown {
    /// `P` % as a slowdown; `None` for 0 and for anything that is not a finite number in
    /// `0..=1000` (a calibration knob must never turn into an endless spin).
    pub fn from_percent(pct: f64) -> Option<Slowdown> {
        (pct.is_finite() && pct > 0.0 && pct <= 1000.0).then_some(Slowdown { fraction: pct / 100.0 })
    }

    /// From [`ENV`]; `None` when unset, empty, zero or invalid.
    pub fn from_env() -> Option<Slowdown> {
        let v = std::env::var(ENV).ok()?;
        Slowdown::from_percent(v.trim().parse().ok()?)
    }

    /// Spin for `fraction` × the CPU time this thread spent since `started` (a
    /// [`thread_cpu`] reading at the start of this gene's work).
    pub fn pad(&self, started: Duration) {
        spin(thread_cpu().saturating_sub(started).mul_f64(self.fraction));
    }
}

/// CPU time consumed by the calling thread.
pub fn thread_cpu() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant Linux knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Burn `d` of this thread's CPU time: integer work between clock reads, kept alive by
/// `black_box` so the optimiser cannot drop it.
fn spin(d: Duration) {
    let end = thread_cpu() + d;
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    while thread_cpu() < end {
        for _ in 0..256 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        }
        x = std::hint::black_box(x);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_parsing_and_padding() {
        assert_eq!(Slowdown::from_percent(0.0), None);
        assert_eq!(Slowdown::from_percent(f64::NAN), None);
        assert_eq!(Slowdown::from_percent(5000.0), None);
        let s = Slowdown::from_percent(50.0).expect("valid");
        let started = thread_cpu();
        spin(Duration::from_millis(20));
        let before = thread_cpu() - started;
        s.pad(started);
        // The pad is half of what had been spent when it began (clock reads add a little).
        let padded = thread_cpu() - started - before;
        assert!(padded >= before.mul_f64(0.5) && padded < before.mul_f64(0.5) + Duration::from_millis(15), "{padded:?} for {before:?}");
    }
}
