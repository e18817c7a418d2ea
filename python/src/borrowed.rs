//! The expression matrix borrowed, not copied: a scipy CSR's own buffers transposed
//! straight into core's CSC.
//!
//! core's `Dataset` owns its arrays, so every other input is copied once (`values.rs`).
//! For the one array that is large — a CSR `gene_expression` (AnnData's usual `X`) — the
//! gene stage needs a CSC anyway, which is a new array whatever happens; copying the CSR
//! first only doubles the memory and adds a pass. So its buffers are borrowed (numpy's
//! read-only views, held while the export runs) and core's parallel transpose reads
//! them in place, inside the export's own pool with the GIL released.
//!
//! Covered: int32/int64 indices with float32/float64 values (what scanpy and anndata
//! produce). Other dtypes, and any matrix whose structure does not check out (indices
//! out of range, a pointer array that is not a valid CSR's), take the copying path,
//! which keeps its behaviour for them exactly.

use cellucid_core::stage::csc::{transpose, CsrView, SparseIndex};
use cellucid_core::Compressed;
use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

/// The index arrays' type, borrowed.
enum Minor<'py> {
    I32(PyReadonlyArray1<'py, i32>),
    I64(PyReadonlyArray1<'py, i64>),
}

/// The values' type, borrowed.
enum Data<'py> {
    F32(PyReadonlyArray1<'py, f32>),
    F64(PyReadonlyArray1<'py, f64>),
}

/// A checked CSR whose arrays stay numpy's.
pub struct BorrowedCsr<'py> {
    shape: (usize, usize),
    indptr: Minor<'py>,
    indices: Minor<'py>,
    data: Data<'py>,
}

/// The borrowed slices, free of the GIL's lifetime: what crosses into the export.
pub struct CsrSlices<'a> {
    shape: (usize, usize),
    indptr: MinorSlice<'a>,
    indices: MinorSlice<'a>,
    data: DataSlice<'a>,
}

#[derive(Clone, Copy)]
enum MinorSlice<'a> {
    I32(&'a [i32]),
    I64(&'a [i64]),
}

#[derive(Clone, Copy)]
enum DataSlice<'a> {
    F32(&'a [f32]),
    F64(&'a [f64]),
}

impl<'py> BorrowedCsr<'py> {
    /// `("csr", shape, indptr, indices, data)` borrowed, when its dtypes are covered and
    /// its structure checks out; `None` sends the matrix down the copying path.
    pub fn from_tuple(obj: &Bound<'py, PyAny>) -> Option<BorrowedCsr<'py>> {
        let t = obj.cast::<PyTuple>().ok()?;
        if t.len() != 5 || t.get_item(0).ok()?.extract::<String>().ok()? != "csr" {
            return None;
        }
        let shape: (usize, usize) = t.get_item(1).ok()?.extract().ok()?;
        let csr = BorrowedCsr {
            shape,
            indptr: minor(&t.get_item(2).ok()?)?,
            indices: minor(&t.get_item(3).ok()?)?,
            data: data(&t.get_item(4).ok()?)?,
        };
        csr.slices().is_well_formed().then_some(csr)
    }

    /// The borrowed slices (valid while `self` lives).
    pub fn slices(&self) -> CsrSlices<'_> {
        CsrSlices { shape: self.shape, indptr: self.indptr.slice(), indices: self.indices.slice(), data: self.data.slice() }
    }
}

impl CsrSlices<'_> {
    /// core's CSC of the matrix, on the current rayon pool.
    pub fn to_csc(&self) -> Compressed {
        match self.indptr {
            MinorSlice::I32(p) => self.with_indptr(p),
            MinorSlice::I64(p) => self.with_indptr(p),
        }
    }

    fn with_indptr<P: SparseIndex>(&self, indptr: &[P]) -> Compressed {
        match self.indices {
            MinorSlice::I32(j) => self.with_indices(indptr, j),
            MinorSlice::I64(j) => self.with_indices(indptr, j),
        }
    }

    fn with_indices<P: SparseIndex, J: SparseIndex>(&self, indptr: &[P], indices: &[J]) -> Compressed {
        let view = CsrView { shape: self.shape, indptr, indices };
        match self.data {
            DataSlice::F32(v) => transpose(&view, v, None),
            DataSlice::F64(v) => transpose(&view, v, None),
        }
    }

    /// A CSR core can transpose without a bounds failure: `rows + 1` pointers from 0,
    /// never decreasing, ending at the entry count, which the values' length matches;
    /// every index in `0..cols`; and everything within core's u32 row and column range.
    fn is_well_formed(&self) -> bool {
        let (rows, cols) = self.shape;
        let ptr = self.indptr.to_i64s();
        let nnz = self.indices.len();
        let small = u32::try_from(rows).is_ok() && u32::try_from(cols).is_ok();
        small
            && ptr.len() == rows + 1
            && ptr.first() == Some(&0)
            && ptr.last() == Some(&(nnz as i64))
            && ptr.windows(2).all(|w| w[0] <= w[1])
            && self.data.len() == nnz
            && self.indices.all_below(cols as i64)
    }
}

impl<'py> Minor<'py> {
    fn slice(&self) -> MinorSlice<'_> {
        // `from_tuple` only keeps contiguous arrays (see `minor`), so as_slice succeeds.
        match self {
            Minor::I32(a) => MinorSlice::I32(a.as_slice().unwrap_or(&[])),
            Minor::I64(a) => MinorSlice::I64(a.as_slice().unwrap_or(&[])),
        }
    }
}

impl<'py> Data<'py> {
    fn slice(&self) -> DataSlice<'_> {
        match self {
            Data::F32(a) => DataSlice::F32(a.as_slice().unwrap_or(&[])),
            Data::F64(a) => DataSlice::F64(a.as_slice().unwrap_or(&[])),
        }
    }
}

impl MinorSlice<'_> {
    fn len(&self) -> usize {
        match self {
            MinorSlice::I32(v) => v.len(),
            MinorSlice::I64(v) => v.len(),
        }
    }

    fn to_i64s(&self) -> Vec<i64> {
        match self {
            MinorSlice::I32(v) => v.iter().map(|&x| i64::from(x)).collect(),
            MinorSlice::I64(v) => v.to_vec(),
        }
    }

    fn all_below(&self, n: i64) -> bool {
        match self {
            MinorSlice::I32(v) => v.iter().all(|&x| (0..n).contains(&i64::from(x))),
            MinorSlice::I64(v) => v.iter().all(|&x| (0..n).contains(&x)),
        }
    }
}

impl DataSlice<'_> {
    fn len(&self) -> usize {
        match self {
            DataSlice::F32(v) => v.len(),
            DataSlice::F64(v) => v.len(),
        }
    }
}

/// A contiguous 1-D int32/int64 array, borrowed read-only.
fn minor<'py>(obj: &Bound<'py, PyAny>) -> Option<Minor<'py>> {
    if let Ok(a) = obj.cast::<PyArray1<i32>>() {
        return a.try_readonly().ok().filter(|r| r.as_slice().is_ok()).map(Minor::I32);
    }
    let a = obj.cast::<PyArray1<i64>>().ok()?;
    a.try_readonly().ok().filter(|r| r.as_slice().is_ok()).map(Minor::I64)
}

/// A contiguous 1-D float32/float64 array, borrowed read-only.
fn data<'py>(obj: &Bound<'py, PyAny>) -> Option<Data<'py>> {
    if let Ok(a) = obj.cast::<PyArray1<f32>>() {
        return a.try_readonly().ok().filter(|r| r.as_slice().is_ok()).map(Data::F32);
    }
    let a = obj.cast::<PyArray1<f64>>().ok()?;
    a.try_readonly().ok().filter(|r| r.as_slice().is_ok()).map(Data::F64)
}
