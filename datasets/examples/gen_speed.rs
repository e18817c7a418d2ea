//! Measures synthetic generation speed (run with `--release`).
//!
//! `cargo run --release -p cellucid-datasets --example gen_speed -- [cells] [genes] [density] [csr|csc|dense]`
//! Defaults: 200000 20000 0.05 csc. Prints nnz, achieved density, seconds and nnz/s.

use std::time::Instant;

use cellucid_datasets::synthetic::{generate_with_stats, DatasetSpec, GraphSpec, Layout};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.to_string());
    let spec = DatasetSpec {
        cells: arg(0, "200000").parse()?,
        genes: arg(1, "20000").parse()?,
        density: arg(2, "0.05").parse()?,
        clusters: 12,
        categorical_fields: vec![12, 3],
        layout: match arg(3, "csc").as_str() {
            "csr" => Layout::Csr,
            "dense" => Layout::Dense,
            _ => Layout::Csc,
        },
        graph: GraphSpec::Knn { k: 15 },
        seed: 1,
        ..DatasetSpec::default()
    };
    let start = Instant::now();
    let generated = generate_with_stats(&spec)?;
    let secs = start.elapsed().as_secs_f64();
    let s = generated.stats;
    println!(
        "{}x{} {:?} target {:.4}: nnz {} achieved {:.4} in {:.2} s = {:.1} M nnz/s (graph edges {}, alpha {:.4e}, threads {})",
        spec.cells,
        spec.genes,
        spec.layout,
        spec.density,
        s.nnz,
        s.achieved_density,
        secs,
        s.nnz as f64 / secs / 1e6,
        s.graph_edges,
        s.expression_scale,
        rayon::current_num_threads()
    );
    Ok(())
}
