//! criterion benchmarks of the exporter's hot kernels, one by one, with throughput
//! units. Group names are the `ExportReport` phases the kernels run in (`genes/…`,
//! `obs/…`), so a slow phase in a report points at its bench.
//!
//! Workload: the gene stage's (20,000 cells, 10 % non-zero, log-normalised counts);
//! 200 genes per iteration where a kernel runs per gene. Measurement is kept short
//! (10 samples, 1 s) so that `cargo bench -p cellucid-benches --bench kernels` takes a
//! few minutes; the figures are for spotting regressions and comparing backends, not
//! for publication.

use cellucid_benches::{gene_dataset, tmpfs_dir};
use cellucid_core::codec::{quantize, zstd_what_if::ZstdEncoder, GzipEncoder};
use cellucid_core::dataset::Matrix;
use cellucid_core::stage::centroids::centroids;
use cellucid_core::stage::csc::csr_to_csc;
use cellucid_core::stage::embeddings::Normalized;
use cellucid_core::stage::genes::{self, GeneWorker};
use cellucid_core::stage::latent::Latent;
use cellucid_core::stage::outliers::outlier_quantiles;
use cellucid_core::stage::output::Output;
use cellucid_core::{ExportOptions, GzipBackend};
use cellucid_datasets::synthetic::{self, DatasetSpec};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::time::Duration;

const CELLS: usize = 20_000;
const GENES: usize = 200;

fn short<'a>(c: &'a mut Criterion, name: &str) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10).warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(1));
    g
}

/// The densified f32 columns and their q8 payloads, computed once.
fn columns() -> (Vec<Vec<f32>>, Vec<Vec<u8>>) {
    let ds = gene_dataset(CELLS, GENES);
    let o = ExportOptions::new("bench", "bench", "uint8");
    let genes = genes::prepare(&ds, &o, CELLS).expect("valid genes").expect("genes present");
    let mut w = GeneWorker::new(CELLS, None);
    let mut cols = Vec::with_capacity(GENES);
    let mut q8 = Vec::with_capacity(GENES);
    for g in 0..GENES {
        w.fill(&genes, g);
        cols.push(w.column().to_vec());
        w.encode(Some(8));
        q8.push(w.payload().to_vec());
    }
    (cols, q8)
}

fn kernels(c: &mut Criterion) {
    let (cols, q8) = columns();
    let values = (CELLS * GENES) as u64;
    let q8_bytes: u64 = q8.iter().map(|p| p.len() as u64).sum();

    let mut g = short(c, "genes/quantize");
    g.throughput(Throughput::Elements(values));
    for bits in [8u32, 16] {
        g.bench_with_input(BenchmarkId::from_parameter(format!("q{bits}")), &bits, |b, &bits| {
            let mut out = Vec::new();
            b.iter(|| cols.iter().map(|col| quantize::quantize(col, bits, &mut out).max).sum::<f64>())
        });
    }
    g.finish();

    let mut g = short(c, "genes/gzip");
    g.throughput(Throughput::Bytes(q8_bytes));
    // `encode_codes`, as the gene stage calls it: the default (auto) backend run-length
    // codes these payloads (the smaller of that and libdeflate at 9); the others code
    // them like any payload.
    let backends = [
        ("auto", GzipBackend::Auto),
        ("libdeflate", GzipBackend::Libdeflate),
        ("zlib-rs", GzipBackend::ZlibRs),
        ("miniz", GzipBackend::Miniz),
    ];
    for (name, backend) in backends {
        for level in [1u32, 6, 9] {
            g.bench_function(BenchmarkId::new(name, level), |b| {
                let mut enc = GzipEncoder::new(level, backend);
                let mut out = Vec::new();
                b.iter(|| {
                    q8.iter()
                        .map(|p| {
                            enc.encode_codes(p, &mut out);
                            out.len()
                        })
                        .sum::<usize>()
                })
            });
        }
    }
    g.finish();

    let mut g = short(c, "genes/zstd_what_if");
    g.throughput(Throughput::Bytes(q8_bytes));
    for level in [1i32, 3, 9] {
        g.bench_function(BenchmarkId::from_parameter(level), |b| {
            let mut enc = ZstdEncoder::new(level).expect("zstd level");
            let mut out = Vec::new();
            b.iter(|| {
                q8.iter()
                    .map(|p| {
                        enc.encode(p, &mut out).expect("zstd");
                        out.len()
                    })
                    .sum::<usize>()
            })
        });
    }
    g.finish();

    // CSR → CSC, once per export for CSR input (counted in the genes phase).
    let mut spec = DatasetSpec::default();
    spec.cells = CELLS;
    spec.genes = 2_000;
    spec.density = 0.10;
    spec.layout = synthetic::Layout::Csr;
    let csr_ds = synthetic::generate(&spec).expect("a valid spec");
    let Some(Matrix::Csr(csr)) = &csr_ds.gene_expression else { panic!("the spec asks for CSR") };
    let mut g = short(c, "genes/csr_to_csc");
    g.throughput(Throughput::Elements(csr.nnz() as u64));
    g.bench_function("20000x2000_d0.1", |b| b.iter(|| csr_to_csc(csr).indptr.len()));
    g.finish();

    // One file per gene on tmpfs: q8 + gzip 6, the default backend, 200 genes.
    let o = {
        let mut o = ExportOptions::new("bench", "bench", "uint8");
        o.var_quantization = Some(8);
        o.compression = Some(6);
        o
    };
    let ds = gene_dataset(CELLS, GENES);
    let genes = genes::prepare(&ds, &o, CELLS).expect("valid genes").expect("genes present");
    let mut g = short(c, "genes/write_tmpfs");
    g.throughput(Throughput::Bytes(q8_bytes));
    g.bench_function("q8_gzip6_per_gene", |b| {
        b.iter_batched(
            tmpfs_dir,
            |dir| {
                let out = Output::new(dir.path(), &o);
                out.mkdir("var").expect("mkdir");
                let mut w = GeneWorker::new(CELLS, out.encoder());
                for g in 0..GENES {
                    w.encode_gene(&genes, g, Some(8));
                    w.write(&out, &format!("var/{g}.values.u8.gz")).expect("write");
                }
                dir
            },
            criterion::BatchSize::PerIteration,
        )
    });
    g.finish();

    // Obs: centroids of a 2-d embedding and latent outlier quantiles, 20 categories.
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let members: Vec<Vec<usize>> = (0..20).map(|k| (0..CELLS).filter(|i| i % 20 == k).collect()).collect();
    let emb = Normalized { dim: 2, coords: (0..CELLS * 2).map(|_| next() * 2.0 - 1.0).collect(), scale: 1.0 };
    let latent = Latent { k: 50, values: (0..CELLS * 50).map(|_| next() as f32).collect() };
    let mut g = short(c, "obs/centroids");
    g.throughput(Throughput::Elements(CELLS as u64));
    g.bench_function("2d_20cats_q0.95", |b| b.iter(|| centroids(&members, &emb, 0.95, 10).len()));
    g.finish();
    let mut g = short(c, "obs/outlier_quantiles");
    g.throughput(Throughput::Elements(CELLS as u64));
    g.bench_function("latent50_20cats", |b| b.iter(|| outlier_quantiles(&members, &latent, CELLS, 10).len()));
    g.finish();
}

criterion_group!(benches, kernels);
criterion_main!(benches);
