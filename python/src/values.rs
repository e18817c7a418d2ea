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

/// A 1-D int32/int64 array (sparse indices and pointers) converted straight into
/// `Out` from numpy's buffer, each element checked; `Err(x)` carries the first element
/// (in storage order) that does not fit. On this thread, not rayon's global pool: a
/// process forked after a conversion would inherit that pool without its threads (see
/// `run` in lib.rs).
pub fn indices<Out>(obj: &Bound<'_, PyAny>, what: &str) -> Result<Result<Vec<Out>, i64>, ConvertError>
where
    Out: TryFrom<i64>,
{
    if let Some(r) = convert_indices::<i32, Out>(obj, what) {
        return r;
    }
    if let Some(r) = convert_indices::<i64, Out>(obj, what) {
        return r;
    }
    let dtype = values(obj, what)?.1.dtype().name();
    Err(ConvertError::Type(format!("{what}: integer indices expected, got {dtype}")))
}

fn convert_indices<In, Out>(obj: &Bound<'_, PyAny>, what: &str) -> Option<Result<Result<Vec<Out>, i64>, ConvertError>>
where
    In: numpy::Element + Copy + Into<i64>,
    Out: TryFrom<i64>,
{
    let array = obj.cast::<PyArrayDyn<In>>().ok()?;
    let readonly = match array.try_readonly() {
        Ok(r) => r,
        Err(e) => return Some(Err(ConvertError::Value(format!("{what}: cannot read the array: {e}")))),
    };
    let Ok(slice) = readonly.as_slice() else {
        return Some(Err(ConvertError::Value(format!("{what}: the array is not contiguous"))));
    };
    let converted = slice.iter().map(|&x| Out::try_from(x.into()).map_err(|_| x.into())).collect();
    Some(Ok(converted))
}

pub fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into())
}

fn dtype_repr(obj: &Bound<'_, PyAny>) -> String {
    obj.getattr("dtype").and_then(|d| d.repr()).map(|r| r.to_string()).unwrap_or_else(|_| "?".into())
}
