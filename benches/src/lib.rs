//! # cellucid-benches
//!
//! criterion benchmarks of the exporter's hot kernels and of its gene stage. Run
//! `cargo bench -p cellucid-benches`. This library holds what the benches share: the
//! benchmark datasets and a scratch directory on tmpfs.

use cellucid_core::Dataset;
use cellucid_datasets::synthetic::{self, DatasetSpec};
use std::path::PathBuf;

/// The gene-stage workload: `cells × genes`, 10 % non-zero, counts-like,
/// log-normalised, stored CSC (the layout the gene stage reads).
pub fn gene_dataset(cells: usize, genes: usize) -> Dataset {
    let mut spec = DatasetSpec::default();
    spec.cells = cells;
    spec.genes = genes;
    spec.density = 0.10;
    spec.layout = synthetic::Layout::Csc;
    spec.seed = 20_000;
    synthetic::generate(&spec).expect("a valid benchmark spec")
}

/// A scratch directory on tmpfs (`/dev/shm`) when there is one, so that the benches
/// measure the exporter and not the disk.
pub fn tmpfs_dir() -> tempfile::TempDir {
    let shm = PathBuf::from("/dev/shm");
    if shm.is_dir() {
        if let Ok(d) = tempfile::Builder::new().prefix("cellucid-bench-").tempdir_in(&shm) {
            return d;
        }
    }
    tempfile::tempdir().expect("a temporary directory")
}
