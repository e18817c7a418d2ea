//! AnnData `.h5ad` files ⇄ [`cellucid_core::Dataset`].
//!
//! - [`read`] / [`read_csr_as_csc`] / [`read_with`] load the arrays a [`Mapping`] names
//!   (plus obs, and var when a gene matrix is mapped), keeping stored dtypes, sparse
//!   formats and category order. Both the anndata ≥ 0.8 encoded layout and the pre-0.7
//!   compound-record layout (scanpy's `pbmc68k_reduced.h5ad`) are read.
//! - [`write`] stores a dataset in the anndata ≥ 0.8 layout with contiguous,
//!   uncompressed datasets, fast enough to generate benchmark inputs.
//! - [`H5adError`] names the HDF5 path (and encoding) of whatever could not be read.
//!
//! Module map: [`mapping`] (which element feeds which argument), [`read`], [`write`],
//! [`encoding`] (AnnData's attributes), `raw` (run-time-typed HDF5 reads), `dtype`
//! (stored types, their names checked), [`strings`] (checked decoding of every string
//! read), [`checked`] (those checked reads for other crates), [`error`].

/// Calls `$f::<T>` for the Rust type of `$dtype` (`DType` in scope); shared by the
/// readers of X (`x_read`, `file_blocks`), so it comes before the modules.
macro_rules! by_dtype {
    ($dtype:expr, $f:ident($($arg:expr),*)) => {
        match $dtype {
            DType::Bool => $f::<bool>($($arg),*),
            DType::I8 => $f::<i8>($($arg),*),
            DType::I16 => $f::<i16>($($arg),*),
            DType::I32 => $f::<i32>($($arg),*),
            DType::I64 => $f::<i64>($($arg),*),
            DType::U8 => $f::<u8>($($arg),*),
            DType::U16 => $f::<u16>($($arg),*),
            DType::U32 => $f::<u32>($($arg),*),
            DType::U64 => $f::<u64>($($arg),*),
            DType::F32 => $f::<f32>($($arg),*),
            DType::F64 => $f::<f64>($($arg),*),
        }
    };
}

pub mod checked;
mod dtype;
pub mod encoding;
pub mod error;
mod file_blocks;
pub mod mapping;
mod raw;
pub mod read;
pub mod spill;
pub mod strings;
pub mod write;
pub mod write_stream;
mod x_read;

pub use error::H5adError;
pub use mapping::Mapping;
pub use read::{read, read_csr_as_csc, read_for_export, read_var, read_with, GeneBlocks, ReadOptions};
pub use spill::{SpillBudget, SpilledMatrix};
pub use write::write;
pub use write_stream::{CsrAppender, StreamingH5ad};
