//! # cellucid-benches
//!
//! criterion benchmarks of the exporter's hot kernels (quantize, gzip per backend, CSR→CSC,
//! centroids, outlier quantiles, per-gene writes) and of its gene stage. Run `cargo bench`.
