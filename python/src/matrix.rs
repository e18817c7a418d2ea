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
            let indptr = indices::<u64>(&item(2)?, what)?
                .map_err(|x| ConvertError::Value(format!("{what}: negative index pointer {x}")))?;
            let minor = indices::<u32>(&item(3)?, what)?.map_err(|x| out_of_range(x, what))?;
            let c = Compressed { shape: (rows, cols), indptr, indices: minor, data };
            Ok(if kind == "csr" { Matrix::Csr(c) } else { Matrix::Csc(c) })
        }
        "coo" => {
            let r = indices::<u32>(&item(2)?, what)?.map_err(|x| out_of_range(x, what))?;
            let c = indices::<u32>(&item(3)?, what)?.map_err(|x| out_of_range(x, what))?;
            Ok(Matrix::Coo(Coo { shape: (rows, cols), rows: r, cols: c, data }))
        }
        other => Err(ConvertError::Value(format!("{what}: unknown matrix kind {other:?}"))),
    }
}

/// core indexes cells and genes with u32 (4,294,967,295 rows or columns at most);
/// scipy never stores negative indices or offsets, so one means a corrupt matrix.
fn out_of_range(x: i64, what: &str) -> ConvertError {
    ConvertError::Value(format!("{what}: index {x} out of range"))
}
