//! The Python layer's matrix tuples → core's `Matrix`.
//!
//! `("dense", array)`, `("csr" | "csc", (rows, cols), indptr, indices, data)` or
//! `("coo", (rows, cols), row, col, data)`: scipy's own buffers, unchanged, so that
//! non-canonical matrices (unsorted or repeated indices) reach core as the user built them.

use cellucid_core::{Compressed, Coo, DenseArray, Matrix};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::error::ConvertError;
use crate::values::{indices, values};

pub fn matrix(obj: &Bound<'_, PyAny>, what: &str) -> Result<Matrix, ConvertError> {
    let tuple = obj.cast::<PyTuple>().map_err(|_| ConvertError::Type(format!("{what}: expected a matrix tuple")))?;
    let item = |i: usize| tuple.get_item(i).map_err(|_| ConvertError::Value(format!("{what}: matrix tuple too short")));
    let kind: String = item(0)?.extract().map_err(|_| ConvertError::Type(format!("{what}: matrix kind")))?;
    if kind == "dense" {
        let (shape, values) = values(&item(1)?, what)?;
        return Ok(Matrix::Dense(DenseArray { shape, values }));
    }
    let (rows, cols): (usize, usize) =
        item(1)?.extract().map_err(|_| ConvertError::Value(format!("{what}: shape must be two non-negative ints")))?;
    let data = values(&item(4)?, what)?.1;
    match kind.as_str() {
        "csr" | "csc" => {
            let indptr = to_u64(indices(&item(2)?, what)?, what)?;
            let minor = to_u32(indices(&item(3)?, what)?, what)?;
            let c = Compressed { shape: (rows, cols), indptr, indices: minor, data };
            Ok(if kind == "csr" { Matrix::Csr(c) } else { Matrix::Csc(c) })
        }
        "coo" => {
            let r = to_u32(indices(&item(2)?, what)?, what)?;
            let c = to_u32(indices(&item(3)?, what)?, what)?;
            Ok(Matrix::Coo(Coo { shape: (rows, cols), rows: r, cols: c, data }))
        }
        other => Err(ConvertError::Value(format!("{what}: unknown matrix kind {other:?}"))),
    }
}

/// scipy never stores negative offsets; a negative one means a corrupt matrix.
fn to_u64(v: Vec<i64>, what: &str) -> Result<Vec<u64>, ConvertError> {
    v.into_iter()
        .map(|x| u64::try_from(x).map_err(|_| ConvertError::Value(format!("{what}: negative index pointer {x}"))))
        .collect()
}

/// core indexes cells and genes with u32 (4,294,967,295 rows or columns at most).
fn to_u32(v: Vec<i64>, what: &str) -> Result<Vec<u32>, ConvertError> {
    v.into_iter()
        .map(|x| u32::try_from(x).map_err(|_| ConvertError::Value(format!("{what}: index {x} out of range"))))
        .collect()
}
