//! Out-of-core transposition of a CSR gene matrix: one pass scatters the stored entries
//! into per-gene-block spill files, then the exporter loads one block at a time as CSC
//! ([`cellucid_core::ColumnBlocks`]).
//!
//! A spill file holds one block's entries as fixed-size little-endian records
//! `(column within the block: u32, row: u32, value: the stored dtype)`, appended in
//! the CSR's storage order. A column's entries therefore come back in row order with
//! duplicates in storage order, exactly as the in-memory CSR → CSC conversion places
//! them, so the exported bytes are the same.
//!
//! The files live in a [`tempfile::TempDir`] (removed on drop: return, error, unwind)
//! whose path is registered with core's signal rollback (removed on SIGINT/SIGTERM/
//! SIGHUP); the supervising parent removes what a killed worker left (its pid is in
//! the directory name, [`scratch_prefix`]).

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use cellucid_core::publish::ScratchRegistration;
use cellucid_core::{Compressed, DType, Element, ExportError, Values};

use super::error::{H5adError, Result};

/// Where and how much: the memory budget for the gene matrix and the scratch directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpillBudget {
    /// Bytes the gene matrix may hold in memory; above it, it is spilled.
    pub bytes: u64,
    /// The directory in which the spill directory is created.
    pub scratch_dir: PathBuf,
}

/// The spill directory name's prefix for process `pid` (see the module docs).
pub fn scratch_prefix(pid: u32) -> String {
    format!(".cellucid-spill-{pid}-")
}

/// A stored value's little-endian record form.
pub trait SpillValue: Element {
    const SIZE: usize;
    fn put(self, out: &mut Vec<u8>);
    /// `None` when the bytes are no value of this type (a bool other than 0/1).
    fn get(bytes: &[u8]) -> Option<Self>;
    /// Finite and float32-safe on its own (the gene pre-flight's rule for a stored
    /// value; integers and bools always are).
    fn is_clean(self) -> bool {
        true
    }
}

/// Numbers as their little-endian bytes; `=> rule` overrides `is_clean` (floats).
macro_rules! spill_number {
    ($($t:ty $(=> $clean:expr)?),*) => {$(
        impl SpillValue for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            fn put(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn get(bytes: &[u8]) -> Option<Self> {
                Some(<$t>::from_le_bytes(bytes.try_into().ok()?))
            }
            $(
            fn is_clean(self) -> bool {
                let clean: fn($t) -> bool = $clean;
                clean(self)
            }
            )?
        }
    )*};
}
// Floats by core's pre-flight rules (f64: finite once cast, no underflow of a non-zero).
spill_number!(i8, i16, i32, i64, u8, u16, u32, u64, f32 => |x| x.is_finite(), f64 => cellucid_core::stage::diagnosis::f64_is_clean);

impl SpillValue for bool {
    const SIZE: usize = 1;
    fn put(self, out: &mut Vec<u8>) {
        out.push(u8::from(self));
    }
    fn get(bytes: &[u8]) -> Option<Self> {
        match bytes {
            [0] => Some(false),
            [1] => Some(true),
            _ => None,
        }
    }
}

/// Bytes one spilled entry costs in memory once loaded (CSC row + value) and on disk
/// (record), for choosing block widths.
pub fn entry_cost(dtype: DType) -> u64 {
    (4 + dtype.size() as u64) + (8 + dtype.size() as u64)
}

/// Consecutive column blocks whose loaded size stays within `block_bytes` (a column is
/// never split, so a single column may exceed it). `counts[c]` = entries of column c.
pub fn block_starts(counts: &[u64], cost: u64, block_bytes: u64) -> Vec<usize> {
    let mut starts = vec![0];
    let mut bytes = 0u64;
    for (c, &k) in counts.iter().enumerate() {
        let add = k.saturating_mul(cost);
        if c > *starts.last().unwrap_or(&0) && bytes.saturating_add(add) > block_bytes {
            starts.push(c);
            bytes = 0;
        }
        bytes = bytes.saturating_add(add);
    }
    starts.push(counts.len());
    starts
}

/// The scatter pass's sink: per-block record buffers flushed by appending to the
/// block's file.
pub struct SpillWriter {
    dir: tempfile::TempDir,
    registration: ScratchRegistration,
    starts: Vec<usize>,
    /// Block of each column (`u32::MAX`: not exported, dropped).
    block_of: Vec<u32>,
    buffers: Vec<Vec<u8>>,
    flush_at: usize,
    written: u64,
    /// Per column: a stored value that is not clean, or a duplicate entry, was seen.
    suspect: Vec<bool>,
    /// Per column: the row of its last entry (`u32::MAX`: none yet). Rows arrive in
    /// non-decreasing order, so a duplicate is a repeat of the last row.
    last_row: Vec<u32>,
}

impl SpillWriter {
    /// A spill directory in `budget.scratch_dir` for blocks `starts`, keeping only the
    /// columns `keep` marks (all when `None`).
    pub fn create(budget: &SpillBudget, starts: Vec<usize>, keep: Option<&[bool]>) -> Result<SpillWriter> {
        let dir = tempfile::Builder::new()
            .prefix(&scratch_prefix(std::process::id()))
            .tempdir_in(&budget.scratch_dir)
            .map_err(|e| spill_io("create a spill directory in", &budget.scratch_dir, e))?;
        let registration = ScratchRegistration::new(dir.path());
        let n_blocks = starts.len() - 1;
        let mut block_of = vec![u32::MAX; *starts.last().unwrap_or(&0)];
        for b in 0..n_blocks {
            for c in starts[b]..starts[b + 1] {
                if keep.is_none_or(|k| k[c]) {
                    block_of[c] = b as u32;
                }
            }
        }
        // A quarter of the budget for the buffers, at least 4 KiB per block (fewer,
        // larger appends), whatever the budget.
        let flush_at = ((budget.bytes / 4) as usize / n_blocks.max(1)).max(4096);
        let buffers = vec![Vec::new(); n_blocks];
        let n_cols = block_of.len();
        Ok(SpillWriter {
            dir,
            registration,
            starts,
            block_of,
            buffers,
            flush_at,
            written: 0,
            suspect: vec![false; n_cols],
            last_row: vec![u32::MAX; n_cols],
        })
    }

    fn path(&self, b: usize) -> PathBuf {
        self.dir.path().join(format!("block-{b}.bin"))
    }

    /// Record entry `(row, col) = v`, unless its column is not exported.
    pub fn put<T: SpillValue>(&mut self, row: u32, col: usize, v: T) -> Result<()> {
        let b = self.block_of[col];
        if b == u32::MAX {
            return Ok(());
        }
        let b = b as usize;
        if !v.is_clean() || self.last_row[col] == row {
            self.suspect[col] = true;
        }
        self.last_row[col] = row;
        let buf = &mut self.buffers[b];
        buf.extend_from_slice(&((col - self.starts[b]) as u32).to_le_bytes());
        buf.extend_from_slice(&row.to_le_bytes());
        v.put(buf);
        if buf.len() >= self.flush_at {
            self.flush(b)?;
        }
        Ok(())
    }

    fn flush(&mut self, b: usize) -> Result<()> {
        if self.buffers[b].is_empty() {
            return Ok(());
        }
        let path = self.path(b);
        let mut f = OpenOptions::new().create(true).append(true).open(&path).map_err(|e| spill_io("open", &path, e))?;
        f.write_all(&self.buffers[b]).map_err(|e| spill_io("write", &path, e))?;
        self.written += self.buffers[b].len() as u64;
        self.buffers[b].clear();
        Ok(())
    }

    /// Flush every buffer: the blocks of a `(rows, cols)` matrix of `dtype`, ready to load.
    pub fn finish(mut self, shape: (usize, usize), dtype: DType) -> Result<SpilledMatrix> {
        for b in 0..self.buffers.len() {
            self.flush(b)?;
        }
        self.buffers = Vec::new();
        Ok(SpilledMatrix {
            dir: self.dir,
            _registration: self.registration,
            starts: self.starts,
            shape,
            dtype,
            spill_bytes: self.written,
            suspect: self.suspect,
        })
    }
}

/// A spilled gene matrix: the exporter's [`cellucid_core::ColumnBlocks`].
pub struct SpilledMatrix {
    dir: tempfile::TempDir,
    // Dropped after `dir` is removed: unregisters the path from the signal cleanup.
    _registration: ScratchRegistration,
    starts: Vec<usize>,
    shape: (usize, usize),
    dtype: DType,
    spill_bytes: u64,
    suspect: Vec<bool>,
}

impl SpilledMatrix {
    /// The spill directory (removed when this is dropped).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn load_typed<T: SpillValue>(&self, b: usize) -> std::io::Result<Compressed> {
        let width = self.starts[b + 1] - self.starts[b];
        let path = self.dir.path().join(format!("block-{b}.bin"));
        let mut bytes = Vec::new();
        match File::open(&path) {
            Ok(mut f) => {
                f.read_to_end(&mut bytes)?;
            }
            // A block whose kept columns have no entries was never written.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let rec = 8 + T::SIZE;
        if bytes.len() % rec != 0 {
            return Err(corrupt(&path, "a partial record"));
        }
        let records = bytes.chunks_exact(rec);
        // Counting sort by column, stable: each column keeps the scatter's order.
        let mut indptr = vec![0u64; width + 1];
        for r in records.clone() {
            let col = u32::from_le_bytes([r[0], r[1], r[2], r[3]]) as usize;
            if col >= width {
                return Err(corrupt(&path, "a column outside the block"));
            }
            indptr[col + 1] += 1;
        }
        for c in 0..width {
            indptr[c + 1] += indptr[c];
        }
        let nnz = bytes.len() / rec;
        let mut next = indptr.clone();
        let mut indices = vec![0u32; nnz];
        let mut data = vec![T::zero(); nnz];
        for r in records {
            let col = u32::from_le_bytes([r[0], r[1], r[2], r[3]]) as usize;
            let row = u32::from_le_bytes([r[4], r[5], r[6], r[7]]);
            if row as usize >= self.shape.0 {
                return Err(corrupt(&path, "a row outside the matrix"));
            }
            let v = T::get(&r[8..]).ok_or_else(|| corrupt(&path, "a value that is not of the stored dtype"))?;
            let dst = next[col] as usize;
            indices[dst] = row;
            data[dst] = v;
            next[col] += 1;
        }
        Ok(Compressed { shape: (self.shape.0, width), indptr, indices, data: Values::from_vec(data) })
    }
}

fn corrupt(path: &Path, what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, format!("spill file {} holds {what}", path.display()))
}

fn spill_io(what: &str, path: &Path, e: std::io::Error) -> H5adError {
    H5adError::Spill(format!("cannot {what} {}: {e}", path.display()))
}

impl cellucid_core::ColumnBlocks for SpilledMatrix {
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
        let loaded = match self.dtype {
            DType::Bool => self.load_typed::<bool>(block),
            DType::I8 => self.load_typed::<i8>(block),
            DType::I16 => self.load_typed::<i16>(block),
            DType::I32 => self.load_typed::<i32>(block),
            DType::I64 => self.load_typed::<i64>(block),
            DType::U8 => self.load_typed::<u8>(block),
            DType::U16 => self.load_typed::<u16>(block),
            DType::U32 => self.load_typed::<u32>(block),
            DType::U64 => self.load_typed::<u64>(block),
            DType::F32 => self.load_typed::<f32>(block),
            DType::F64 => self.load_typed::<f64>(block),
        };
        loaded.map_err(|e| ExportError::io("read gene block from", self.dir.path(), e))
    }

    fn spill_bytes(&self) -> u64 {
        self.spill_bytes
    }

    fn known_clean(&self, col: usize) -> bool {
        self.suspect.get(col).is_some_and(|&s| !s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_respect_the_budget_and_never_split_a_column() {
        assert_eq!(block_starts(&[1, 1, 1, 1], 10, 20), vec![0, 2, 4]);
        assert_eq!(block_starts(&[5, 1, 1], 10, 20), vec![0, 1, 3]);
        assert_eq!(block_starts(&[], 10, 20), vec![0, 0]);
    }

    #[test]
    fn a_bool_record_other_than_0_or_1_is_refused() {
        assert_eq!(bool::get(&[1]), Some(true));
        assert_eq!(bool::get(&[2]), None);
        assert_eq!(f32::get(&1.5f32.to_le_bytes()), Some(1.5));
    }

    #[test]
    fn stored_values_are_clean_by_the_preflight_rule() {
        assert!(1.0f32.is_clean() && !f32::NAN.is_clean() && !f32::INFINITY.is_clean());
        assert!(0.0f64.is_clean() && !1e300f64.is_clean() && !1e-300f64.is_clean() && !f64::NAN.is_clean());
        assert!(i64::MAX.is_clean() && true.is_clean());
    }
}
