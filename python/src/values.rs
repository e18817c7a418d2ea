//! numpy arrays → core's typed buffers.
//!
//! The Python layer hands over C-contiguous, native-endian arrays of one of the eleven
//! dtypes core models (it converts float16, big-endian and strided arrays first). core's
//! `Values` owns a `Vec`, so the elements are copied here once, in their own dtype
//! (a memcpy; no conversion), while the GIL is held.

use cellucid_core::{Element, Values};
use numpy::{PyArrayDyn, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::prelude::*;

use crate::error::ConvertError;

/// A contiguous numpy array of `T`, copied.
fn copy_typed<T: Element + numpy::Element>(obj: &Bound<'_, PyAny>, what: &str) -> Option<Result<Vec<T>, ConvertError>> {
    let array = obj.cast::<PyArrayDyn<T>>().ok()?;
    let readonly = match array.try_readonly() {
        Ok(r) => r,
        Err(e) => return Some(Err(ConvertError::Value(format!("{what}: cannot read the array: {e}")))),
    };
    Some(
        readonly
            .as_slice()
            .map(<[T]>::to_vec)
            .map_err(|_| ConvertError::Value(format!("{what}: the array is not contiguous"))),
    )
}

/// Any supported numpy array as [`Values`] plus its shape.
pub fn values(obj: &Bound<'_, PyAny>, what: &str) -> Result<(Vec<usize>, Values), ConvertError> {
    let shape = match obj.cast::<numpy::PyUntypedArray>() {
        Ok(a) => a.shape().to_vec(),
        Err(_) => return Err(ConvertError::Type(format!("{what}: expected a numpy array, got {}", type_name(obj)))),
    };
    macro_rules! try_dtype {
        ($($t:ty),*) => {$(
            if let Some(v) = copy_typed::<$t>(obj, what) {
                return Ok((shape, Values::from_vec(v?)));
            }
        )*};
    }
    try_dtype!(f32, f64, i64, i32, u8, bool, i8, i16, u16, u32, u64);
    Err(ConvertError::Type(format!("{what}: unsupported array dtype {}", dtype_repr(obj))))
}

/// A 1-D integer array (sparse indices, codes) as i64, refusing other dtypes.
pub fn indices(obj: &Bound<'_, PyAny>, what: &str) -> Result<Vec<i64>, ConvertError> {
    let (_, v) = values(obj, what)?;
    match v {
        Values::I64(v) => Ok(v),
        Values::I32(v) => Ok(v.into_iter().map(i64::from).collect()),
        other => Err(ConvertError::Type(format!("{what}: integer indices expected, got {}", other.dtype().name()))),
    }
}

pub fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into())
}

fn dtype_repr(obj: &Bound<'_, PyAny>) -> String {
    obj.getattr("dtype").and_then(|d| d.repr()).map(|r| r.to_string()).unwrap_or_else(|_| "?".into())
}
