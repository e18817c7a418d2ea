//! Single-thread throughput of each gzip backend on q8-like payloads (FORMAT.md §6
//! codes of sparse expression: ~90 % zeros, the rest skewed codes 1..254).
//! A measurement, not a check: run with
//! `cargo test --release -p cellucid-core --test gzip_throughput -- --ignored --nocapture`.

use std::time::Instant;

use cellucid_core::codec::gzip::{gunzip_single_member, GzipEncoder};
use cellucid_core::options::GzipBackend;

/// xorshift64*: a tiny deterministic generator (no extra dev-dependency).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn q8_payloads(count: usize, len: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    (0..count)
        .map(|_| {
            (0..len)
                .map(|_| {
                    if rng.unit() < 0.9 {
                        0
                    } else {
                        // Exponential with mean ~30 codes, clamped: low codes dominate.
                        let c = 1.0 + (-rng.unit().max(1e-12).ln() * 30.0);
                        c.min(254.0) as u8
                    }
                })
                .collect()
        })
        .collect()
}

#[test]
#[ignore = "measurement; run in release with --ignored --nocapture"]
fn gzip_backend_throughput() {
    let payloads = q8_payloads(1000, 20_000);
    let total: usize = payloads.iter().map(Vec::len).sum();
    let mut out = Vec::new();
    println!("{:<11} {:>5} {:>9} {:>8}", "backend", "level", "MB/s", "ratio");
    for backend in [GzipBackend::ZlibRs, GzipBackend::Libdeflate, GzipBackend::Miniz] {
        for level in [1u32, 6, 9] {
            let mut enc = GzipEncoder::new(level, backend);
            // Warm-up pass, also a correctness spot check.
            enc.encode(&payloads[0], &mut out);
            assert_eq!(gunzip_single_member(&out).expect("valid member"), payloads[0]);
            let mut compressed = 0usize;
            let t = Instant::now();
            for p in &payloads {
                enc.encode(p, &mut out);
                compressed += out.len();
            }
            let secs = t.elapsed().as_secs_f64();
            println!(
                "{:<11} {:>5} {:>9.1} {:>8.2}",
                format!("{backend:?}"),
                level,
                total as f64 / 1e6 / secs,
                total as f64 / compressed as f64
            );
        }
    }
}
