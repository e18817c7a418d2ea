//! Column blocks read straight from the `.h5ad` file, for a CSC or dense gene matrix
//! larger than the memory budget: no spill is needed, since the file already stores
//! columns contiguously (CSC: one `indptr` range per run of columns) or can be sliced
//! by columns (dense: one 2-D hyperslab per block, or one column hyperslab per panel
//! gene). Blocks are cut so that one loaded block stays within half the budget.

use cellucid_core::{ColumnBlocks, Compressed, DType, ExportError};

use super::error::H5adError;
use super::x_read::{csc_ranges, dense_columns, SparseParts};

/// Where a block's columns are read from.
enum Source {
    Csc(SparseParts),
    Dense { ds: hdf5::Dataset, path: String },
}

/// A CSC or dense gene matrix read block by block from its file.
pub struct FileBlocks {
    source: Source,
    shape: (usize, usize),
    dtype: DType,
    keep: Option<Vec<bool>>,
    starts: Vec<usize>,
}

impl FileBlocks {
    /// CSC blocks; `starts` from the kept columns' entry counts.
    pub(crate) fn csc(parts: SparseParts, keep: Option<Vec<bool>>, starts: Vec<usize>) -> FileBlocks {
        let (shape, dtype) = (parts.shape, parts.dtype);
        FileBlocks { source: Source::Csc(parts), shape, dtype, keep, starts }
    }

    /// Dense blocks of a `(rows, cols)` dataset.
    pub(crate) fn dense(
        ds: hdf5::Dataset,
        path: &str,
        shape: (usize, usize),
        dtype: DType,
        keep: Option<Vec<bool>>,
        starts: Vec<usize>,
    ) -> FileBlocks {
        FileBlocks { source: Source::Dense { ds, path: path.to_string() }, shape, dtype, keep, starts }
    }
}

impl ColumnBlocks for FileBlocks {
    fn shape(&self) -> (usize, usize) {
        self.shape
    }

    fn dtype(&self) -> DType {
        self.dtype
    }

    fn starts(&self) -> &[usize] {
        &self.starts
    }

    fn load(&self, block: usize) -> cellucid_core::Result<Compressed> {
        let cols = self.starts[block]..self.starts[block + 1];
        let keep = self.keep.as_deref();
        let loaded = match &self.source {
            Source::Csc(p) => by_dtype!(self.dtype, csc_ranges(p, keep, cols)),
            Source::Dense { ds, path } => by_dtype!(self.dtype, dense_columns(ds, path, self.shape, keep, cols)),
        };
        loaded.map_err(|e: H5adError| {
            ExportError::Io { context: format!("read gene block {block}"), error: std::io::Error::other(e.to_string()) }
        })
    }

    fn spill_bytes(&self) -> u64 {
        0
    }
}
