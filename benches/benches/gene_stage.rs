//! The gene stage against the codec alone, in one run (issue: the gene stage must reach
//! ≥ 80 % of the codec's throughput), on 20,000 cells × 2,000 genes, 10 % non-zero,
//! q8 + gzip 6, output on tmpfs; plus f32 plain (no quantization, no gzip).
//!
//! Throughput is in payload bytes (before compression) per second, the same bytes for
//! every variant, so the ratio of two figures is the ratio of their speeds.

use cellucid_benches::{gene_dataset, tmpfs_dir};
use cellucid_core::codec::GzipEncoder;
use cellucid_core::stage::genes::{self, GeneWorker};
use cellucid_core::stage::output::Output;
use cellucid_core::{ExportOptions, GzipBackend};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rayon::prelude::*;

const CELLS: usize = 20_000;
const GENES: usize = 2_000;

fn options(q: Option<i64>, gz: Option<i64>) -> ExportOptions {
    let mut o = ExportOptions::new("bench", "bench", "uint8");
    o.var_quantization = q;
    o.compression = gz;
    o
}

fn gene_stage(c: &mut Criterion) {
    let ds = gene_dataset(CELLS, GENES);
    let q8gz6 = options(Some(8), Some(6));
    let genes = genes::prepare(&ds, &q8gz6, CELLS).expect("valid genes").expect("genes present");
    // The q8 payloads, computed once: the codec-only variant compresses exactly these.
    let payloads: Vec<Vec<u8>> = (0..GENES)
        .into_par_iter()
        .map_init(
            || GeneWorker::new(CELLS, None),
            |w, g| {
                w.fill(&genes, g);
                w.encode(Some(8));
                w.payload().to_vec()
            },
        )
        .collect();
    let raw_q8: u64 = payloads.iter().map(|p| p.len() as u64).sum();

    let mut group = c.benchmark_group("genes");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(raw_q8));
    group.bench_function("codec_only_q8_gzip6", |b| {
        b.iter(|| {
            payloads
                .par_iter()
                .map_init(
                    || (GzipEncoder::new(6, GzipBackend::default()), Vec::new()),
                    |(enc, out), p| {
                        enc.encode(p, out);
                        out.len()
                    },
                )
                .sum::<usize>()
        })
    });
    group.bench_function("gene_stage_q8_gzip6_tmpfs", |b| {
        b.iter_batched(
            tmpfs_dir,
            |dir| {
                let out = Output::new(dir.path(), &q8gz6);
                genes.write(&q8gz6, &out, &|_| {}).expect("gene stage");
                dir
            },
            criterion::BatchSize::PerIteration,
        )
    });
    let plain = options(None, None);
    group.throughput(Throughput::Bytes((CELLS * GENES * 4) as u64));
    group.bench_function("gene_stage_f32_plain_tmpfs", |b| {
        b.iter_batched(
            tmpfs_dir,
            |dir| {
                let out = Output::new(dir.path(), &plain);
                genes.write(&plain, &out, &|_| {}).expect("gene stage");
                dir
            },
            criterion::BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, gene_stage);
criterion_main!(benches);
