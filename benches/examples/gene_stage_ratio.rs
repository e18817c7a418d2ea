//! The issue-2 bar measured drift-robustly: the gene stage against the codec alone on the
//! same payloads (20,000 cells × 2,000 genes, 10 % non-zero, q8 + gzip 6, tmpfs), the two
//! alternating iteration by iteration, reported as the ratio of medians. criterion's
//! `genes` group measures the same things one after another; on a shared machine drift
//! between the groups can move that ratio, alternating cannot.
//!
//! `cargo run --release -p cellucid-benches --example gene_stage_ratio -- [ROUNDS]`

use cellucid_benches::{gene_dataset, tmpfs_dir};
use cellucid_core::codec::GzipEncoder;
use cellucid_core::stage::genes::{self, GeneWorker};
use cellucid_core::stage::output::Output;
use cellucid_core::{ExportOptions, GzipBackend};
use rayon::prelude::*;
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn main() {
    let rounds: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(15);
    let (cells, n_genes) = (20_000, 2_000);
    let ds = gene_dataset(cells, n_genes);
    let mut q8gz6 = ExportOptions::new("bench", "bench", "uint8");
    q8gz6.var_quantization = Some(8);
    q8gz6.compression = Some(6);
    let mut plain = ExportOptions::new("bench", "bench", "uint8");
    plain.var_quantization = None;
    let genes = genes::prepare(&ds, &q8gz6, cells).expect("valid").expect("genes");
    let payloads: Vec<Vec<u8>> = (0..n_genes)
        .into_par_iter()
        .map_init(|| GeneWorker::new(cells, None), |w, g| {
            w.fill(&genes, g);
            w.encode(Some(8));
            w.payload().to_vec()
        })
        .collect();
    let mb = payloads.iter().map(|p| p.len()).sum::<usize>() as f64 / 1e6;
    let (mut codec, mut stage, mut f32p) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds + 1 {
        let t = Instant::now();
        let _: usize = payloads
            .par_iter()
            .map_init(|| (GzipEncoder::new(6, GzipBackend::default()), Vec::new()), |(e, o), p| {
                e.encode(p, o);
                o.len()
            })
            .sum();
        let c = t.elapsed().as_secs_f64();
        let dir = tmpfs_dir();
        let t = Instant::now();
        genes.write(&q8gz6, &Output::new(dir.path(), &q8gz6), &|_| {}).expect("gene stage");
        let s = t.elapsed().as_secs_f64();
        drop(dir);
        let dir = tmpfs_dir();
        let t = Instant::now();
        genes.write(&plain, &Output::new(dir.path(), &plain), &|_| {}).expect("gene stage");
        let p = t.elapsed().as_secs_f64();
        drop(dir);
        if round > 0 {
            codec.push(c);
            stage.push(s);
            f32p.push(p);
        }
    }
    let (c, s, p) = (median(codec), median(stage), median(f32p));
    println!("{rounds} alternating rounds, {} threads, q8 payloads {mb:.1} MB", rayon::current_num_threads());
    println!("codec alone (gzip 6, all cores):  {:.1} ms  {:.0} MB/s", c * 1e3, mb / c);
    println!("gene stage q8 + gzip 6 on tmpfs: {:.1} ms  {:.0} MB/s", s * 1e3, mb / s);
    println!("gene stage f32 plain on tmpfs:   {:.1} ms  {:.0} MB/s of f32 payload", p * 1e3, (cells * n_genes * 4) as f64 / 1e6 / p);
    println!("gene stage / codec alone throughput: {:.1} % (bar: >= 80 %)", 100.0 * c / s);
}
