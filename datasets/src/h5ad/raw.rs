//! Typed reads of single HDF5 datasets and attributes, whatever their stored dtype.
//!
//! The `hdf5` crate reads into a Rust type known at compile time; AnnData files decide
//! the dtype at run time (int8 codes, float32 or int64 matrices, fixed- or variable-length
//! strings, compound records in pre-0.8 files). This module looks at the stored type and
//! dispatches, so that the source dtype reaches [`cellucid_core::Values`] unchanged.
//! Fixed-length strings and compound fields have no crate-level reader for a type known
//! only at run time; those go through `hdf5-sys` with the file's own member type.

use cellucid_core::{DType, Values};
use hdf5::types::{TypeDescriptor, VarLenAscii, VarLenUnicode};
use hdf5::{Attribute, Dataset};
use hdf5_sys::h5i::hid_t;

pub(crate) use super::dtype::{descriptor, dtype_of, is_string};
use super::dtype::{attr_descriptor, is_integer};
use super::error::{H5adError, Result};
use super::strings::{self, Site};

/// Reads a numeric or bool dataset in full, flat, in its stored dtype.
pub(crate) fn values(ds: &Dataset, path: &str, encoding: &str) -> Result<Values> {
    let desc = descriptor(ds, path)?;
    let dtype = dtype_of(&desc).ok_or_else(|| {
        H5adError::unsupported(path, encoding, format!("element type {desc:?} is not a numeric or bool array"))
    })?;
    let e = H5adError::hdf5(path);
    Ok(match dtype {
        DType::Bool => Values::Bool(ds.read_raw().map_err(e)?),
        DType::I8 => Values::I8(ds.read_raw().map_err(e)?),
        DType::I16 => Values::I16(ds.read_raw().map_err(e)?),
        DType::I32 => Values::I32(ds.read_raw().map_err(e)?),
        DType::I64 => Values::I64(ds.read_raw().map_err(e)?),
        DType::U8 => Values::U8(ds.read_raw().map_err(e)?),
        DType::U16 => Values::U16(ds.read_raw().map_err(e)?),
        DType::U32 => Values::U32(ds.read_raw().map_err(e)?),
        DType::U64 => Values::U64(ds.read_raw().map_err(e)?),
        DType::F32 => Values::F32(ds.read_raw().map_err(e)?),
        DType::F64 => Values::F64(ds.read_raw().map_err(e)?),
    })
}

/// Reads an integer dataset (codes, indices, indptr) widened to i64.
pub(crate) fn ints(ds: &Dataset, path: &str) -> Result<Vec<i64>> {
    require_integers(ds, path)?;
    // HDF5 converts every integer width to i64 itself; u64 beyond i64::MAX would
    // overflow, which no index or code array can legitimately hold.
    ds.read_raw::<i64>().map_err(H5adError::hdf5(path))
}

/// Refuses a dataset that does not hold integers (index, indptr and code arrays).
pub(crate) fn require_integers(ds: &Dataset, path: &str) -> Result<()> {
    match descriptor(ds, path)? {
        d if is_integer(&d) => Ok(()),
        other => Err(H5adError::unsupported(path, "array", format!("expected integers, found {other:?}"))),
    }
}

/// Reads an integer attribute (`shape`) widened to i64.
pub(crate) fn attr_ints(attr: &Attribute, path: &str) -> Result<Vec<i64>> {
    match attr_descriptor(attr, path)? {
        d if is_integer(&d) => attr.read_raw::<i64>().map_err(H5adError::hdf5(path)),
        other => Err(H5adError::malformed(path, format!("expected integers, found {other:?}"))),
    }
}

/// Reads a string dataset (variable- or fixed-length, ASCII or UTF-8), flat, each
/// element decoded checked (see [`strings`]).
pub(crate) fn strings(ds: &Dataset, path: &str) -> Result<Vec<String>> {
    let e = H5adError::hdf5(path);
    let scalar = ds.ndim() == 0;
    match descriptor(ds, path)? {
        TypeDescriptor::VarLenUnicode => {
            decode_all(ds.read_raw::<VarLenUnicode>().map_err(e)?.iter().map(VarLenUnicode::as_bytes), path, scalar)
        }
        TypeDescriptor::VarLenAscii => {
            decode_all(ds.read_raw::<VarLenAscii>().map_err(e)?.iter().map(VarLenAscii::as_bytes), path, scalar)
        }
        TypeDescriptor::FixedAscii(n) | TypeDescriptor::FixedUnicode(n) => {
            let file_type = ds.dtype().map_err(e)?;
            let bytes = read_dataset_bytes(ds.id(), file_type.id(), byte_len(ds.size(), n, path)?, path)?;
            strings::decode_fixed_records(&bytes, n, path)
        }
        other => Err(H5adError::unsupported(path, "string-array", format!("expected strings, found {other:?}"))),
    }
}

/// Reads a string attribute's values (scalar → one element; empty numeric array → none),
/// each decoded checked.
pub(crate) fn attr_strings(attr: &Attribute, path: &str) -> Result<Vec<String>> {
    let e = H5adError::hdf5(path);
    let scalar = attr.ndim() == 0;
    match attr_descriptor(attr, path)? {
        TypeDescriptor::VarLenUnicode => {
            decode_all(attr.read_raw::<VarLenUnicode>().map_err(e)?.iter().map(VarLenUnicode::as_bytes), path, scalar)
        }
        TypeDescriptor::VarLenAscii => {
            decode_all(attr.read_raw::<VarLenAscii>().map_err(e)?.iter().map(VarLenAscii::as_bytes), path, scalar)
        }
        TypeDescriptor::FixedAscii(n) | TypeDescriptor::FixedUnicode(n) => {
            let file_type = attr.dtype().map_err(e)?;
            let mut buf = zeroed(byte_len(attr.size(), n, path)?, path)?;
            // SAFETY: `buf` holds exactly `size` elements of the attribute's own type.
            let status = hdf5::sync::sync(|| unsafe {
                hdf5_sys::h5a::H5Aread(attr.id(), file_type.id(), buf.as_mut_ptr().cast())
            });
            if status < 0 {
                return Err(H5adError::malformed(path, "H5Aread failed on a fixed-length string attribute"));
            }
            if scalar {
                return strings::decode_fixed(&buf, Site::scalar(path)).map(|s| vec![s]);
            }
            strings::decode_fixed_records(&buf, n, path)
        }
        // h5py stores an empty list (anndata's empty `column-order`) as a float64 array of length 0.
        _ if attr.size() == 0 => Ok(Vec::new()),
        other => Err(H5adError::malformed(path, format!("expected a string attribute, found {other:?}"))),
    }
}

/// Variable-length strings' bytes, decoded checked; elements are named `path[i]` unless
/// the object is a scalar.
fn decode_all<'a>(values: impl Iterator<Item = &'a [u8]>, path: &str, scalar: bool) -> Result<Vec<String>> {
    values
        .enumerate()
        .map(|(i, bytes)| strings::decode(bytes, if scalar { Site::scalar(path) } else { Site::element(path, i) }))
        .collect()
}

/// One field of a compound dataset (pre-0.8 obs/var/obsm records).
pub(crate) enum Field {
    /// A numeric field; `width` is 1 for scalars, k for a `(k,)` array member.
    Numeric { values: Values, width: usize },
    Strings(Vec<String>),
}

/// Names and types of a compound dataset's fields, in stored order.
pub(crate) fn compound_fields(ds: &Dataset, path: &str) -> Result<Vec<(String, TypeDescriptor)>> {
    match descriptor(ds, path)? {
        TypeDescriptor::Compound(c) => Ok(c.fields.into_iter().map(|f| (f.name, f.ty)).collect()),
        other => Err(H5adError::malformed(path, format!("expected a compound dataset, found {other:?}"))),
    }
}

/// Reads one field of a compound dataset by name.
///
/// HDF5 matches compound members by name during conversion, so reading with a memory
/// type that holds only this member extracts the column without loading the others.
pub(crate) fn compound_field(ds: &Dataset, name: &str, ty: &TypeDescriptor, path: &str) -> Result<Field> {
    let field_path = format!("{path}/{name}");
    let (scalar, width) = match ty {
        TypeDescriptor::FixedArray(inner, k) => (inner.as_ref().clone(), *k),
        other => (other.clone(), 1),
    };
    // Only fixed-length strings are bytes in the record; a variable-length member would
    // arrive as pointers (and old anndata never wrote one).
    if matches!(scalar, TypeDescriptor::VarLenAscii | TypeDescriptor::VarLenUnicode) || (is_string(&scalar) && width != 1) {
        return Err(H5adError::unsupported(&field_path, "compound field", format!("member type {ty:?}")));
    }
    let n = ds.size();
    let file_type = ds.dtype().map_err(H5adError::hdf5(path))?;
    let c_name = std::ffi::CString::new(name)
        .map_err(|_| H5adError::malformed(&field_path, "field name contains a NUL byte"))?;

    let bytes = hdf5::sync::sync(|| -> Result<Vec<u8>> {
        use hdf5_sys::h5t::*;
        // SAFETY: every id created here is closed before returning; the buffer is sized
        // from the memory type HDF5 reports.
        unsafe {
            let idx = H5Tget_member_index(file_type.id(), c_name.as_ptr());
            if idx < 0 {
                return Err(H5adError::malformed(&field_path, "no such compound member"));
            }
            let member = H5Tget_member_type(file_type.id(), idx as u32);
            let native = H5Tget_native_type(member, H5T_direction_t::H5T_DIR_ASCEND);
            H5Tclose(member);
            if native < 0 {
                return Err(H5adError::malformed(&field_path, "member type has no native equivalent"));
            }
            let size = H5Tget_size(native);
            let mem = H5Tcreate(H5T_class_t::H5T_COMPOUND, size);
            H5Tinsert(mem, c_name.as_ptr(), 0, native);
            let out = byte_len(n, size, &field_path).and_then(|len| read_dataset_bytes(ds.id(), mem, len, &field_path));
            H5Tclose(mem);
            H5Tclose(native);
            out
        }
    })?;

    if is_string(&scalar) {
        let w = bytes.len().checked_div(n).unwrap_or(0);
        return Ok(Field::Strings(strings::decode_fixed_records(&bytes, w, &field_path)?));
    }
    let dtype = dtype_of(&scalar)
        .ok_or_else(|| H5adError::unsupported(&field_path, "compound field", format!("member type {ty:?}")))?;
    Ok(Field::Numeric { values: values_from_ne_bytes(dtype, &bytes), width })
}

/// Reads `len` bytes of a dataset converted to memory type `mem`.
fn read_dataset_bytes(ds: hid_t, mem: hid_t, len: usize, path: &str) -> Result<Vec<u8>> {
    let mut buf = zeroed(len, path)?;
    if len == 0 {
        return Ok(buf);
    }
    let call = || unsafe {
        // SAFETY: `buf` is `len` bytes, the size of the whole selection in `mem`.
        hdf5_sys::h5d::H5Dread(
            ds,
            mem,
            hdf5_sys::h5s::H5S_ALL,
            hdf5_sys::h5s::H5S_ALL,
            hdf5_sys::h5p::H5P_DEFAULT,
            buf.as_mut_ptr().cast(),
        )
    };
    // The crate's lock is reentrant, so taking it again inside `compound_field` is fine.
    let status = hdf5::sync::sync(call);
    if status < 0 {
        return Err(H5adError::malformed(path, "H5Dread failed (truncated or corrupt file?)"));
    }
    Ok(buf)
}

/// `count` elements of `width` bytes, refused when a (corrupt) header's sizes overflow:
/// a wrapped product would hand HDF5 a buffer smaller than what it writes.
fn byte_len(count: usize, width: usize, path: &str) -> Result<usize> {
    count
        .checked_mul(width)
        .ok_or_else(|| H5adError::malformed(path, format!("{count} elements of {width} bytes overflow the address space")))
}

/// A zeroed buffer of `len` bytes, refused (not aborted on) when it cannot be allocated.
fn zeroed(len: usize, path: &str) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    buf.try_reserve_exact(len)
        .map_err(|_| H5adError::malformed(path, format!("needs a {len}-byte buffer, more than can be allocated")))?;
    buf.resize(len, 0);
    Ok(buf)
}

/// Native-endian bytes → typed values (bool is HDF5's int8 enum FALSE/TRUE).
fn values_from_ne_bytes(dtype: DType, bytes: &[u8]) -> Values {
    macro_rules! conv {
        ($t:ty, $v:ident) => {
            Values::$v(
                bytes
                    .chunks_exact(std::mem::size_of::<$t>())
                    .map(|c| {
                        let mut a = [0u8; std::mem::size_of::<$t>()];
                        a.copy_from_slice(c);
                        <$t>::from_ne_bytes(a)
                    })
                    .collect(),
            )
        };
    }
    match dtype {
        DType::Bool => Values::Bool(bytes.iter().map(|&b| b != 0).collect()),
        DType::I8 => conv!(i8, I8),
        DType::I16 => conv!(i16, I16),
        DType::I32 => conv!(i32, I32),
        DType::I64 => conv!(i64, I64),
        DType::U8 => conv!(u8, U8),
        DType::U16 => conv!(u16, U16),
        DType::U32 => conv!(u32, U32),
        DType::U64 => conv!(u64, U64),
        DType::F32 => conv!(f32, F32),
        DType::F64 => conv!(f64, F64),
    }
}
