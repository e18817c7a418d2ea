//! # cellucid-core
//!
//! The exporter, and nothing else: it turns a [`Dataset`] (cells × genes data, embeddings,
//! obs, graph, vector fields) into Cellucid's `compact_v1` export folder, byte-compatible
//! with the public reference writer (PyPI `cellucid==0.9.2`, "index era"), and checks
//! finished folders the way the viewer's loader does ([`validate`]).
//!
//! No CLI and no HDF5 live here: `cellucid-datasets` turns `.h5ad` files and synthetic
//! specs into a [`Dataset`], and the `cellucid-bench` binary drives both.
//!
//! ```no_run
//! use cellucid_core::{export, Dataset, ExportOptions};
//! # fn demo(dataset: &Dataset) -> Result<(), cellucid_core::ExportError> {
//! let mut options = ExportOptions::new("PBMC 68k", "pbmc68k", "uint8");
//! options.var_quantization = Some(8);
//! options.compression = Some(6);
//! let report = export(dataset, &options, "exports/pbmc68k".as_ref())?;
//! println!("{} files, {} bytes", report.files_written, report.bytes_written);
//! # Ok(()) }
//! ```
//!
//! Module map (one concept per module):
//! - [`dataset`], [`options`], [`error`], [`report`]: the public model.
//! - [`codec`]: Python-`repr` floats and JSON, gzip members, quantization.
//! - [`numeric`]: numpy's summation orders and quantile.
//! - [`stage`]: one module per part of the folder (embeddings, obs, genes, graph, vectors, identity).
//! - [`publish`]: lock, journal, staging directory, rename, recovery.
//! - [`validate`]: the viewer's checks on a finished folder; [`compare`]: folder equivalence
//!   under the conformance rule (gzip members compared by header and decompressed bytes).

pub mod codec;
pub mod compare;
pub mod dataset;
pub mod error;
pub mod export;
pub mod fixed_hash;
pub mod numeric;
pub mod options;
pub mod publish;
pub mod report;
pub mod stage;
pub mod text;
pub mod validate;

pub use dataset::{Coo, Compressed, DType, Dataset, DenseArray, Element, Label, Matrix, ObsColumn, ObsData, ObsFrame, Values, VarFrame};
pub use error::{ErrorClass, ExportError, Result};
pub use export::{export, export_with_blocks, export_with_built_matrix, export_with_progress, Progress};
pub use stage::blocks::ColumnBlocks;
pub use options::{Durability, ExportOptions, GzipBackend};
pub use report::{ExportReport, Phase, PhaseTiming};
pub use validate::{validate, Problem, ValidationReport};
