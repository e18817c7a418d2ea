//! The stored type of a dataset or attribute, described only after its names were
//! decoded checked.
//!
//! A stored type can carry names: compound field names (pre-0.7 obs/var/obsm records) and
//! enum member names (HDF5's bool is the enum `FALSE`/`TRUE`). The `hdf5` crate turns
//! those into `String`s with `from_utf8_unchecked` whenever it describes the type
//! (`Datatype::to_descriptor`, its conversion checks before a read of an enum, its
//! `Display` in error messages). So every element's type passes [`checked`] first, which
//! walks the type with `hdf5-sys` and decodes each name with checked UTF-8; only then is
//! the crate allowed to describe it. Every read in this module tree starts with
//! [`descriptor`] or [`attr_descriptor`].

use std::ffi::CStr;

use cellucid_core::DType;
use hdf5::types::{FloatSize, IntSize, TypeDescriptor};
use hdf5::{Attribute, Dataset, Datatype};
use hdf5_sys::h5i::hid_t;
use hdf5_sys::h5t::H5T_class_t;

use super::error::{H5adError, Result};
use super::strings::{self, Site};

/// Deeper nesting than any AnnData type has (a compound of arrays is depth 2); a bound
/// so that a hostile type cannot exhaust the stack.
const MAX_DEPTH: usize = 16;

/// The stored type of a dataset, as a descriptor.
pub(crate) fn descriptor(ds: &Dataset, path: &str) -> Result<TypeDescriptor> {
    checked(&ds.dtype().map_err(H5adError::hdf5(path))?, path)
}

/// The stored type of an attribute, as a descriptor.
pub(crate) fn attr_descriptor(attr: &Attribute, path: &str) -> Result<TypeDescriptor> {
    checked(&attr.dtype().map_err(H5adError::hdf5(path))?, path)
}

/// `dt` as a descriptor, refused if any name inside it is not UTF-8.
fn checked(dt: &Datatype, path: &str) -> Result<TypeDescriptor> {
    let names_path = format!("{path} (names in its datatype)");
    hdf5::sync::sync(|| check_names(dt.id(), &names_path, 0))?;
    // The one call allowed (clippy.toml forbids it elsewhere): its names were just checked.
    #[allow(clippy::disallowed_methods)]
    let desc = dt.to_descriptor();
    desc.map_err(H5adError::hdf5(path))
}

/// Decodes every member name of the type `id` (recursively), refusing bad ones.
fn check_names(id: hid_t, path: &str, depth: usize) -> Result<()> {
    use hdf5_sys::h5t::{H5Tget_class, H5Tget_member_type, H5Tget_nmembers, H5Tget_super};
    if depth > MAX_DEPTH {
        return Err(H5adError::unsupported(path, "none", format!("datatype nested deeper than {MAX_DEPTH} levels")));
    }
    // SAFETY: `id` is an open datatype id (the caller's, or one opened below and closed
    // after use); these calls only read it and report failure as a negative value.
    let class = unsafe { H5Tget_class(id) };
    match class {
        H5T_class_t::H5T_COMPOUND | H5T_class_t::H5T_ENUM => {
            // SAFETY: as above.
            let n = unsafe { H5Tget_nmembers(id) };
            if n < 0 {
                return Err(H5adError::malformed(path, "cannot count the members of a datatype"));
            }
            for i in 0..n as u32 {
                strings::decode(&member_name(id, i, path)?, Site::element(path, i as usize))?;
                if class == H5T_class_t::H5T_COMPOUND {
                    // SAFETY: `i` < the member count; the returned id is closed below.
                    let member = unsafe { H5Tget_member_type(id, i) };
                    with_type(member, path, |m| check_names(m, path, depth + 1))?;
                }
            }
            Ok(())
        }
        H5T_class_t::H5T_ARRAY | H5T_class_t::H5T_VLEN => {
            // SAFETY: array and vlen types have a base type; the returned id is closed below.
            let base = unsafe { H5Tget_super(id) };
            with_type(base, path, |b| check_names(b, path, depth + 1))
        }
        // Scalars, strings, references and opaque types carry no names the crate decodes.
        _ => Ok(()),
    }
}

/// Runs `f` on a freshly opened type id and closes it, refusing a failed open.
fn with_type(id: hid_t, path: &str, f: impl FnOnce(hid_t) -> Result<()>) -> Result<()> {
    if id < 0 {
        return Err(H5adError::malformed(path, "cannot open a member of a datatype"));
    }
    let out = f(id);
    // SAFETY: `id` was returned open by HDF5 and is closed exactly once, here.
    unsafe { hdf5_sys::h5t::H5Tclose(id) };
    out
}

/// The raw bytes of member `i`'s name.
fn member_name(id: hid_t, i: u32, path: &str) -> Result<Vec<u8>> {
    // SAFETY: `i` < the member count of `id`. HDF5 returns a NUL-terminated copy it
    // allocated (or null on failure); we copy the bytes out and free it with H5free_memory.
    unsafe {
        let p = hdf5_sys::h5t::H5Tget_member_name(id, i);
        if p.is_null() {
            return Err(H5adError::malformed(path, format!("cannot read the name of datatype member {i}")));
        }
        let bytes = CStr::from_ptr(p).to_bytes().to_vec();
        hdf5_sys::h5::H5free_memory(p.cast());
        Ok(bytes)
    }
}

/// The numpy dtype of a stored scalar type, if it is one the model can hold.
pub(crate) fn dtype_of(desc: &TypeDescriptor) -> Option<DType> {
    Some(match desc {
        TypeDescriptor::Boolean => DType::Bool,
        TypeDescriptor::Integer(IntSize::U1) => DType::I8,
        TypeDescriptor::Integer(IntSize::U2) => DType::I16,
        TypeDescriptor::Integer(IntSize::U4) => DType::I32,
        TypeDescriptor::Integer(IntSize::U8) => DType::I64,
        TypeDescriptor::Unsigned(IntSize::U1) => DType::U8,
        TypeDescriptor::Unsigned(IntSize::U2) => DType::U16,
        TypeDescriptor::Unsigned(IntSize::U4) => DType::U32,
        TypeDescriptor::Unsigned(IntSize::U8) => DType::U64,
        TypeDescriptor::Float(FloatSize::U4) => DType::F32,
        TypeDescriptor::Float(FloatSize::U8) => DType::F64,
        _ => return None,
    })
}

/// Whether the stored type is a string (fixed or variable length).
pub(crate) fn is_string(desc: &TypeDescriptor) -> bool {
    matches!(
        desc,
        TypeDescriptor::FixedAscii(_)
            | TypeDescriptor::FixedUnicode(_)
            | TypeDescriptor::VarLenAscii
            | TypeDescriptor::VarLenUnicode
    )
}

/// Whether the stored type is an integer of any width.
pub(crate) fn is_integer(desc: &TypeDescriptor) -> bool {
    matches!(desc, TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_))
}
