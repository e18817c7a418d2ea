//! Writing an `.h5ad` whose X is too large to hold in memory: X (CSR) is appended block
//! of rows by block of rows, then the rest of the dataset is written as
//! [`super::write`] writes it.
//!
//! `X/data` and `X/indices` are chunked, growable datasets (chunks of
//! [`CHUNK_ELEMENTS`]); `X/indptr` (8 bytes a row) is kept in memory and written at the
//! end, as int32 or int64 by the final nnz, the same rule as the in-memory writer. The
//! values read back are the same as those of [`super::write`] for the same matrix; the
//! file's bytes differ (chunked storage, X before obs).

use std::path::Path;

use cellucid_core::Dataset;
use hdf5::{File, Group};

use super::encoding::{set_encoding, set_ints};
use super::error::{H5adError, Result};

/// Elements per HDF5 chunk of `X/data` and `X/indices` (4 MiB of f32).
pub const CHUNK_ELEMENTS: usize = 1 << 20;

/// An `.h5ad` being written with a streamed X.
pub struct StreamingH5ad {
    file: File,
}

impl StreamingH5ad {
    /// Creates (or truncates) `path`.
    pub fn create(path: &Path) -> Result<StreamingH5ad> {
        Ok(StreamingH5ad { file: super::write::create_file(path)? })
    }

    /// Starts `X` as a CSR matrix of `shape` (cells × genes), to be filled with
    /// [`CsrAppender::append_rows`] and closed with [`CsrAppender::finish`].
    pub fn csr_x(&self, shape: (usize, usize)) -> Result<CsrAppender> {
        CsrAppender::create(&self.file, "X", shape)
    }

    /// Writes everything else of `rest` (which must not hold X) and closes the file.
    pub fn finish(self, rest: &Dataset) -> Result<()> {
        if rest.gene_expression.is_some() {
            return Err(H5adError::unwritable("X", "the streamed file already has X; pass the rest of the dataset without it"));
        }
        super::write::write_contents(&self.file, rest)?;
        self.file.flush().map_err(H5adError::hdf5("/"))?;
        Ok(())
    }
}

/// Appends rows to a CSR matrix in an `.h5ad`.
pub struct CsrAppender {
    group: Group,
    data: hdf5::Dataset,
    indices: hdf5::Dataset,
    indptr: Vec<u64>,
    shape: (usize, usize),
}

impl CsrAppender {
    fn create(parent: &Group, name: &str, shape: (usize, usize)) -> Result<CsrAppender> {
        if shape.1 > i32::MAX as usize {
            return Err(H5adError::unwritable(name, "more than 2^31 - 1 genes cannot be streamed (indices are int32)"));
        }
        let group = parent.create_group(name).map_err(H5adError::hdf5(name))?;
        set_encoding(&group, "csr_matrix", name)?;
        set_ints(&group, "shape", &[shape.0 as i64, shape.1 as i64], name)?;
        let growable = |n: &str| format!("{name}/{n}");
        let data = group.new_dataset::<f32>().chunk(CHUNK_ELEMENTS).shape(0..).create("data").map_err(H5adError::hdf5(&growable("data")))?;
        let indices =
            group.new_dataset::<i32>().chunk(CHUNK_ELEMENTS).shape(0..).create("indices").map_err(H5adError::hdf5(&growable("indices")))?;
        let mut indptr = Vec::with_capacity(shape.0 + 1);
        indptr.push(0);
        Ok(CsrAppender { group, data, indices, indptr, shape })
    }

    /// Rows so far.
    pub fn rows(&self) -> usize {
        self.indptr.len() - 1
    }

    /// Appends rows given by their lengths, and their column indices and values in row
    /// order (`indices.len() == values.len() == lens.iter().sum()`).
    pub fn append_rows(&mut self, lens: &[u64], indices: &[u32], values: &[f32]) -> Result<()> {
        let added: u64 = lens.iter().sum();
        if indices.len() != values.len() || added != indices.len() as u64 {
            return Err(H5adError::unwritable("X", "row lengths disagree with the entries appended"));
        }
        if self.rows() + lens.len() > self.shape.0 {
            return Err(H5adError::unwritable("X", format!("more rows appended than the shape's {}", self.shape.0)));
        }
        if let Some(&bad) = indices.iter().find(|&&j| j as usize >= self.shape.1) {
            return Err(H5adError::unwritable("X/indices", format!("column {bad} is outside the shape's {} genes", self.shape.1)));
        }
        let start = *self.indptr.last().unwrap_or(&0) as usize;
        let end = start + indices.len();
        for &n in lens {
            let last = *self.indptr.last().unwrap_or(&0);
            self.indptr.push(last + n);
        }
        if indices.is_empty() {
            return Ok(());
        }
        // Checked above: every index is below the gene count, which fits in i32.
        let narrow: Vec<i32> = indices.iter().map(|&j| j as i32).collect();
        self.data.resize(end).map_err(H5adError::hdf5("X/data"))?;
        self.indices.resize(end).map_err(H5adError::hdf5("X/indices"))?;
        self.data.write_slice(values, start..end).map_err(H5adError::hdf5("X/data"))?;
        self.indices.write_slice(narrow.as_slice(), start..end).map_err(H5adError::hdf5("X/indices"))?;
        Ok(())
    }

    /// Writes `indptr`; every row must have been appended. Returns nnz.
    pub fn finish(self) -> Result<u64> {
        if self.rows() != self.shape.0 {
            return Err(H5adError::unwritable("X", format!("{} rows appended, the shape has {}", self.rows(), self.shape.0)));
        }
        super::write::write_indptr(&self.group, &self.indptr, "X/indptr")?;
        Ok(*self.indptr.last().unwrap_or(&0))
    }
}
