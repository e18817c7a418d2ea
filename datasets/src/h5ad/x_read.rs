//! The gene matrix read for an export: as CSC, only the panel's columns, and spilled
//! out of core when it does not fit the memory budget.
//!
//! - CSR (the usual layout) is streamed twice in storage order: pass 1 counts each
//!   kept column's entries (every index is range-checked, kept or not), pass 2 places
//!   the kept entries — into a CSC in memory, or into spill files when the kept
//!   entries would exceed the budget ([`super::spill`]).
//! - CSC with a panel reads only the panel's `indptr` ranges of indices and data.
//! - Dense with a panel reads only the panel's columns (one hyperslab each).
//! - CSC and dense matrices above the budget are read block by block from the file
//!   when the export asks for each block ([`super::file_blocks`]).
//!
//! Columns outside the panel arrive empty, in a CSC of the full shape, so the exporter's
//! shape checks and var column numbers are those of the whole matrix; each kept
//! column's entries are exactly what the full conversion gives (row order, duplicates
//! in storage order), so the export's bytes are the same.

use cellucid_core::{Compressed, DType, Element, Values};
use hdf5::H5Type;

use super::error::{H5adError, Result};
use super::read::{check_index, H5adFile, XRead, BLOCK};
use super::spill::{block_starts, entry_cost, SpillBudget, SpillValue, SpillWriter};
use super::file_blocks::FileBlocks;
use super::raw;
use hdf5::LocationType;
use rayon::prelude::*;

/// A sparse group's parts, `indptr` checked (see `H5adFile::sparse_parts`).
pub(crate) struct SparseParts {
    pub csr: bool,
    pub shape: (usize, usize),
    pub indptr: Vec<u64>,
    pub dtype: DType,
    pub data_ds: hdf5::Dataset,
    pub data_path: String,
    pub idx_ds: hdf5::Dataset,
    pub idx_path: String,
}

impl H5adFile {
    /// The gene matrix at `path` for an export: CSC in memory, or column blocks when
    /// it does not fit `budget` (see module docs).
    pub(crate) fn read_x_csc(&self, path: &str, budget: Option<&SpillBudget>) -> Result<XRead> {
        self.read_x(path, None, budget)
    }

    /// As [`Self::read_x_csc`], materialising only var columns `columns`.
    pub(crate) fn read_x_columns(&self, path: &str, columns: &[usize], budget: Option<&SpillBudget>) -> Result<XRead> {
        self.read_x(path, Some(columns), budget)
    }

    fn read_x(&self, path: &str, columns: Option<&[usize]>, budget: Option<&SpillBudget>) -> Result<XRead> {
        if !self.exists(path) {
            return Ok(XRead::Matrix(self.read_matrix(path, true, false)?));
        }
        if self.loc_type(path)? == LocationType::Group {
            let parts = self.sparse_parts(&self.group(path)?, path)?;
            let keep = columns.map(|c| keep_mask(c, parts.shape.1));
            return if parts.csr { parts.csr_stream(keep.as_deref(), budget) } else { csc_read(parts, keep, budget) };
        }
        let ds = self.dataset(path)?;
        let shape = ds.shape();
        if shape.len() != 2 {
            return Ok(XRead::Matrix(self.read_matrix(path, true, false)?));
        }
        let shape = (shape[0], shape[1]);
        let Some(dtype) = raw::descriptor(&ds, path).ok().and_then(|d| raw::dtype_of(&d)) else {
            // Not numeric: the full read gives its refusal.
            return Ok(XRead::Matrix(self.read_matrix(path, true, false)?));
        };
        let keep = columns.map(|c| keep_mask(c, shape.1));
        let counts: Vec<u64> = (0..shape.1).map(|c| if keep.as_ref().is_none_or(|k| k[c]) { shape.0 as u64 } else { 0 }).collect();
        let cost = 4 + dtype.size() as u64;
        match budget {
            Some(b) if counts.iter().sum::<u64>() * cost > b.bytes => {
                let starts = block_starts(&counts, cost, b.bytes / 2);
                Ok(XRead::Blocks(Box::new(FileBlocks::dense(ds, path, shape, dtype, keep, starts))))
            }
            _ if keep.is_none() => Ok(XRead::Matrix(self.read_matrix(path, true, false)?)),
            _ => {
                let m = by_dtype!(dtype, dense_columns(&ds, path, shape, keep.as_deref(), 0..shape.1))?;
                Ok(XRead::Matrix(cellucid_core::Matrix::Csc(m)))
            }
        }
    }
}

/// A CSC matrix (or its panel): in memory, or read by column blocks beyond the budget.
fn csc_read(parts: SparseParts, keep: Option<Vec<bool>>, budget: Option<&SpillBudget>) -> Result<XRead> {
    let counts: Vec<u64> = (0..parts.shape.1)
        .map(|c| if keep.as_ref().is_none_or(|k| k[c]) { parts.indptr[c + 1] - parts.indptr[c] } else { 0 })
        .collect();
    let cost = 4 + parts.dtype.size() as u64;
    match budget {
        Some(b) if counts.iter().sum::<u64>() * cost > b.bytes => {
            let starts = block_starts(&counts, cost, b.bytes / 2);
            Ok(XRead::Blocks(Box::new(FileBlocks::csc(parts, keep, starts))))
        }
        _ => {
            let m = by_dtype!(parts.dtype, csc_ranges(&parts, keep.as_deref(), 0..parts.shape.1))?;
            Ok(XRead::Matrix(cellucid_core::Matrix::Csc(m)))
        }
    }
}

/// Which var columns to keep.
///
/// A column beyond the matrix (var longer than X) is ignored: the shape check after the
/// read refuses that file with the message a full read gives.
fn keep_mask(columns: &[usize], n_cols: usize) -> Vec<bool> {
    let mut keep = vec![false; n_cols];
    for &c in columns {
        if let Some(k) = keep.get_mut(c) {
            *k = true;
        }
    }
    keep
}

impl SparseParts {
    /// CSR → CSC in memory, keeping the columns `keep` marks (all when `None`).
    pub(crate) fn csr_to_csc(&self, keep: Option<&[bool]>) -> Result<Compressed> {
        match self.csr_stream(keep, None)? {
            XRead::Matrix(cellucid_core::Matrix::Csc(c)) => Ok(c),
            // csr_stream without a budget builds a CSC; anything else is a bug here.
            _ => Err(H5adError::malformed(&self.idx_path, "internal: CSR stream did not give a CSC")),
        }
    }

    /// Pass 1 (counts of kept columns), then pass 2 into memory or spill files.
    pub(crate) fn csr_stream(&self, keep: Option<&[bool]>, budget: Option<&SpillBudget>) -> Result<XRead> {
        let (n_rows, n_cols) = self.shape;
        if n_rows > u32::MAX as usize + 1 {
            return Err(H5adError::malformed(&self.idx_path, "more rows than a u32 index can address"));
        }
        if keep.is_none() && self.fits_twice(budget) {
            return Ok(XRead::Matrix(cellucid_core::Matrix::Csc(self.read_once_and_transpose()?)));
        }
        let counts = self.count_columns(keep)?;
        let kept: u64 = counts.iter().sum();
        let in_memory = kept * (4 + self.dtype.size() as u64) + 8 * (n_cols as u64 + 1);
        match budget {
            Some(b) if in_memory > b.bytes => {
                // Half the budget for one loaded block; the rest for buffers and the
                // writer's per-thread columns.
                let starts = block_starts(&counts, entry_cost(self.dtype), b.bytes / 2);
                let mut sink = SpillWriter::create(b, starts, keep)?;
                by_dtype!(self.dtype, spill_into(self, &mut sink))?;
                Ok(XRead::Blocks(Box::new(sink.finish(self.shape, self.dtype)?)))
            }
            _ => {
                let c = by_dtype!(self.dtype, scatter_csc(self, &counts, keep))?;
                Ok(XRead::Matrix(cellucid_core::Matrix::Csc(c)))
            }
        }
    }

    /// Whether the whole CSR and its CSC fit the budget together (no budget: they do).
    fn fits_twice(&self, budget: Option<&SpillBudget>) -> bool {
        let entries = self.idx_ds.size() as u64;
        let both = 2 * entries * (4 + self.dtype.size() as u64) + 16 * (self.shape.0 + self.shape.1 + 2) as u64;
        budget.is_none_or(|b| both <= b.bytes)
    }

    /// The whole matrix without a panel, when it fits twice: indices and data read once,
    /// each in one call, then core's transpose on every core. (The two-pass stream reads
    /// the indices twice, widened to i64, and scatters on one thread.)
    fn read_once_and_transpose(&self) -> Result<Compressed> {
        let minor = self.read_minor()?;
        let data = raw::values(&self.data_ds, &self.data_path, "array")?;
        if data.len() != minor.len() {
            let detail = format!("{} values for {} indices", data.len(), minor.len());
            return Err(H5adError::malformed(&self.data_path, detail));
        }
        let csr = Compressed { shape: self.shape, indptr: self.indptr.clone(), indices: minor, data };
        Ok(cellucid_core::stage::csc::csr_to_csc_kept(&csr, None))
    }

    /// The minor (column) indices as u32, every one range-checked on rayon's threads; the
    /// error names the first bad index in storage order, as the streaming read does.
    fn read_minor(&self) -> Result<Vec<u32>> {
        let n_cols = self.shape.1;
        let path = &self.idx_path;
        raw::require_integers(&self.idx_ds, path)?;
        macro_rules! checked {
            ($($t:ty),*) => {{
                let d = raw::descriptor(&self.idx_ds, path)?;
                $(if raw::dtype_of(&d) == Some(<$t as cellucid_core::Element>::DTYPE) {
                    let v = self.idx_ds.read_raw::<$t>().map_err(H5adError::hdf5(path))?;
                    return to_minor(&v, n_cols, path);
                })*
            }};
        }
        checked!(i32, i64, u32, u16, i16, u8, i8);
        let v = raw::ints(&self.idx_ds, path)?; // u64 and any other width, widened by HDF5
        to_minor(&v, n_cols, path)
    }

    /// Entries per kept column; every index is range-checked.
    fn count_columns(&self, keep: Option<&[bool]>) -> Result<Vec<u64>> {
        let n_cols = self.shape.1;
        let nnz = self.idx_ds.size();
        let mut counts = vec![0u64; n_cols];
        for start in (0..nnz).step_by(BLOCK) {
            let end = (start + BLOCK).min(nnz);
            let block = self.idx_ds.read_slice_1d::<i64, _>(start..end).map_err(H5adError::hdf5(&self.idx_path))?;
            for &j in block.iter() {
                let j = check_index(j, n_cols, &self.idx_path)? as usize;
                if keep.is_none_or(|k| k[j]) {
                    counts[j] += 1;
                }
            }
        }
        Ok(counts)
    }

    /// Walk the CSR in storage order: `f(row, col, value)` for every entry.
    fn walk<T: H5Type + Copy>(&self, mut f: impl FnMut(u32, usize, T) -> Result<()>) -> Result<()> {
        let nnz = self.idx_ds.size();
        let mut row = 0usize;
        for start in (0..nnz).step_by(BLOCK) {
            let end = (start + BLOCK).min(nnz);
            let idx = self.idx_ds.read_slice_1d::<i64, _>(start..end).map_err(H5adError::hdf5(&self.idx_path))?;
            let val = self.data_ds.read_slice_1d::<T, _>(start..end).map_err(H5adError::hdf5(&self.data_path))?;
            for (k, (&j, &v)) in idx.iter().zip(val.iter()).enumerate() {
                let pos = (start + k) as u64;
                while self.indptr[row + 1] <= pos {
                    row += 1;
                }
                // Range-checked again: the bytes may have changed since pass 1.
                let j = check_index(j, self.shape.1, &self.idx_path)? as usize;
                f(row as u32, j, v)?;
            }
        }
        Ok(())
    }

}

/// Pass 2 into memory: a CSC of the full shape holding the kept entries.
fn scatter_csc<T: H5Type + Element>(p: &SparseParts, counts: &[u64], keep: Option<&[bool]>) -> Result<Compressed> {
    let n_cols = p.shape.1;
    let mut colptr = vec![0u64; n_cols + 1];
    for c in 0..n_cols {
        colptr[c + 1] = colptr[c] + counts[c];
    }
    let nnz = colptr[n_cols] as usize;
    let mut next: Vec<u64> = colptr[..n_cols].to_vec();
    let mut rows = vec![0u32; nnz];
    let mut data = vec![T::zero(); nnz];
    p.walk::<T>(|row, j, v| {
        if keep.is_none_or(|k| k[j]) {
            let dst = next[j] as usize;
            rows[dst] = row;
            data[dst] = v;
            next[j] += 1;
        }
        Ok(())
    })?;
    Ok(Compressed { shape: p.shape, indptr: colptr, indices: rows, data: Values::from_vec(data) })
}

/// Pass 2 out of core: every kept entry to its block's spill file.
fn spill_into<T: H5Type + SpillValue>(p: &SparseParts, sink: &mut SpillWriter) -> Result<()> {
    p.walk::<T>(|row, j, v| sink.put(row, j, v))
}

/// The kept columns among `cols` of a CSC, as a CSC of those columns (numbered from
/// `cols.start`): each run of consecutive kept columns is one hyperslab of indices and
/// one of data.
pub(crate) fn csc_ranges<T: H5Type + Element>(p: &SparseParts, keep: Option<&[bool]>, cols: std::ops::Range<usize>) -> Result<Compressed> {
    let n_rows = p.shape.0;
    let width = cols.len();
    let mut indptr = vec![0u64; width + 1];
    let mut indices = Vec::new();
    let mut data: Vec<T> = Vec::new();
    let kept = |c: usize| keep.is_none_or(|k| k[c]);
    let mut c = cols.start;
    while c < cols.end {
        if !kept(c) {
            indptr[c - cols.start + 1] = indices.len() as u64;
            c += 1;
            continue;
        }
        let run_end = (c..cols.end).find(|&e| !kept(e)).unwrap_or(cols.end);
        let (a, b) = (p.indptr[c] as usize, p.indptr[run_end] as usize);
        // In chunks: no i64 copy of a long run's indices.
        for start in (a..b).step_by(BLOCK) {
            let end = (start + BLOCK).min(b);
            let idx = p.idx_ds.read_slice_1d::<i64, _>(start..end).map_err(H5adError::hdf5(&p.idx_path))?;
            for &j in idx.iter() {
                indices.push(check_index(j, n_rows, &p.idx_path)?);
            }
            let val = p.data_ds.read_slice_1d::<T, _>(start..end).map_err(H5adError::hdf5(&p.data_path))?;
            data.extend(val.iter().copied());
        }
        let base = indices.len() as u64 - (b - a) as u64;
        for k in c..run_end {
            indptr[k - cols.start + 1] = base + (p.indptr[k + 1] - p.indptr[c]);
        }
        c = run_end;
    }
    Ok(Compressed { shape: (n_rows, width), indptr, indices, data: Values::from_vec(data) })
}

/// The kept columns among `cols` of a dense `(rows, cols)` array, each as a full CSC
/// column (every row stored, zeros included: the gene writer then sees the dense
/// column's values). Kept columns are read one hyperslab each; with every column kept,
/// the whole range is one 2-D hyperslab.
pub(crate) fn dense_columns<T: H5Type + Element>(
    ds: &hdf5::Dataset,
    path: &str,
    shape: (usize, usize),
    keep: Option<&[bool]>,
    cols: std::ops::Range<usize>,
) -> Result<Compressed> {
    let n_rows = shape.0;
    if n_rows > u32::MAX as usize + 1 {
        return Err(H5adError::malformed(path, "more rows than a u32 index can address"));
    }
    let width = cols.len();
    let mut indptr = vec![0u64; width + 1];
    let mut indices = Vec::new();
    let mut data: Vec<T> = Vec::new();
    let whole = match keep {
        None if width > 0 => Some(ds.read_slice_2d::<T, _>((.., cols.clone())).map_err(H5adError::hdf5(path))?),
        _ => None,
    };
    for c in cols.clone() {
        let local = c - cols.start;
        if let Some(block) = &whole {
            indices.extend(0..n_rows as u32);
            data.extend(block.column(local).iter().copied());
        } else if keep.is_some_and(|k| k[c]) {
            let col = ds.read_slice_1d::<T, _>((.., c)).map_err(H5adError::hdf5(path))?;
            indices.extend(0..n_rows as u32);
            data.extend(col.iter().copied());
        }
        indptr[local + 1] = indices.len() as u64;
    }
    Ok(Compressed { shape: (n_rows, width), indptr, indices, data: Values::from_vec(data) })
}

/// Indices of any integer type as u32 below `n_cols`, checked in parallel; on a bad
/// one, the first in storage order is reported (the same message as `check_index`).
fn to_minor<T: Copy + Send + Sync + TryInto<i64>>(v: &[T], n_cols: usize, path: &str) -> Result<Vec<u32>> {
    let wide = |x: T| x.try_into().unwrap_or(i64::MAX);
    let ok = |x: T| (0..n_cols as i64).contains(&wide(x)) && wide(x) <= u32::MAX as i64;
    if !v.par_iter().all(|&x| ok(x)) {
        if let Some(&bad) = v.iter().find(|&&x| !ok(x)) {
            check_index(wide(bad), n_cols, path)?;
        }
    }
    // Every index is in 0..n_cols ≤ u32::MAX + 1 here, so the cast is exact.
    Ok(v.par_iter().map(|&x| wide(x) as u32).collect())
}
