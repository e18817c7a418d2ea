//! Bytes and single-core time of each deflate encoder on quantized gene payloads: zlib
//! (zlib-rs, whose levels give zlib's sizes: what the reference writes), libdeflate, and
//! the run-length encoder the exporter uses for quantized genes. This is the evidence
//! for that choice: a run-length stream costs a fraction of LZ77's time at about zlib's
//! size, because a sparse gene's payload is one code repeated.
//!
//! `cargo run --release -p cellucid-benches --example gene_codec_sizes -- [EXPORT_DIR…]`
//!
//! Without arguments it measures the benchmark genes (20,000 cells × 2,000 genes, 10 %
//! non-zero) at 8 and 16 bits. Each EXPORT_DIR is an uncompressed export (no
//! `--compression`) whose `var/` payloads are measured as they are, e.g. a real dataset's.

use cellucid_benches::gene_dataset;
use cellucid_core::codec::run_deflate::RunDeflate;
use cellucid_core::codec::GzipEncoder;
use cellucid_core::stage::genes::{self, GeneWorker};
use cellucid_core::{ExportOptions, GzipBackend};
use std::path::Path;
use std::time::Instant;

fn main() {
    let dirs: Vec<String> = std::env::args().skip(1).collect();
    if dirs.is_empty() {
        for bits in [8, 16] {
            report(&format!("benchmark genes, {bits}-bit"), &benchmark_payloads(bits));
        }
    }
    for d in dirs {
        match payloads_in(Path::new(&d)) {
            Ok(p) => report(&d, &p),
            Err(e) => eprintln!("gene_codec_sizes: cannot read {d}/var: {e}"),
        }
    }
}

fn benchmark_payloads(bits: u32) -> Vec<Vec<u8>> {
    let (cells, n_genes) = (20_000, 2_000);
    let ds = gene_dataset(cells, n_genes);
    let mut options = ExportOptions::new("bench", "bench", "uint8");
    options.var_quantization = Some(i64::from(bits));
    let genes = genes::prepare(&ds, &options, cells).expect("valid").expect("genes");
    let mut w = GeneWorker::new(cells, None);
    (0..n_genes)
        .map(|g| {
            w.encode_gene(&genes, g, Some(bits));
            w.payload().to_vec()
        })
        .collect()
}

/// The quantized gene payloads (`var/*.u8`, `var/*.u16`) of an uncompressed export.
fn payloads_in(dir: &Path) -> std::io::Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir.join("var"))? {
        let path = entry?.path();
        if matches!(path.extension().and_then(|e| e.to_str()), Some("u8" | "u16")) {
            out.push(std::fs::read(&path)?);
        }
    }
    Ok(out)
}

fn report(what: &str, payloads: &[Vec<u8>]) {
    let raw: usize = payloads.iter().map(Vec::len).sum();
    println!("{what}: {} payloads, {:.1} MB", payloads.len(), raw as f64 / 1e6);
    println!("  {:<16} {:>12} {:>9} {:>10} {:>9}", "encoder", "bytes", "vs zlib6", "ms (1 core)", "MB/s");
    let zlib6 = measure(payloads, |p, o| GzipEncoder::new(6, GzipBackend::ZlibRs).encode(p, o)).0;
    let mut rows: Vec<(String, (usize, f64))> = Vec::new();
    for level in [1, 6, 9] {
        let mut z = GzipEncoder::new(level, GzipBackend::ZlibRs);
        rows.push((format!("zlib {level}"), measure(payloads, |p, o| z.encode(p, o))));
    }
    for level in [1, 3, 6] {
        let mut l = GzipEncoder::new(level, GzipBackend::Libdeflate);
        rows.push((format!("libdeflate {level}"), measure(payloads, |p, o| l.encode(p, o))));
    }
    let mut r = RunDeflate::new();
    // The gzip framing around the stream: 10-byte header, CRC-32 and ISIZE.
    rows.push(("run-length".into(), measure(payloads, |p, o| {
        o.extend_from_slice(&[0; 10]);
        r.compress(p, o);
        o.extend_from_slice(&[0; 8]);
    })));
    for (name, (bytes, secs)) in rows {
        println!(
            "  {name:<16} {bytes:>12} {:>8.2}% {:>10.1} {:>9.0}",
            100.0 * bytes as f64 / zlib6 as f64,
            secs * 1e3,
            raw as f64 / 1e6 / secs
        );
    }
}

/// Total output bytes and the best of three sequential passes' seconds.
fn measure(payloads: &[Vec<u8>], mut encode: impl FnMut(&[u8], &mut Vec<u8>)) -> (usize, f64) {
    let mut out = Vec::new();
    let mut best = f64::INFINITY;
    let mut bytes = 0;
    for _ in 0..3 {
        bytes = 0;
        let t = Instant::now();
        for p in payloads {
            out.clear();
            encode(p, &mut out);
            bytes += out.len();
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    (bytes, best)
}
