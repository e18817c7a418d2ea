//! AnnData's element encodings: the `encoding-type` / `encoding-version` attributes
//! (and the other attributes a reader dispatches on: `_index`, `column-order`, `shape`,
//! `ordered`), read tolerant of every string storage h5py has used, written as anndata
//! 0.8+ writes them (variable-length UTF-8 strings, int64 shapes).
//!
//! Pre-0.8 files carry no encoding attributes at all; [`Encoding::of`] returns `None`
//! for those and the reader infers the layout from the object type instead.

use hdf5::types::VarLenUnicode;
use hdf5::Location;

use super::error::{H5adError, Result};
use super::raw;

pub const ENCODING_TYPE: &str = "encoding-type";
pub const ENCODING_VERSION: &str = "encoding-version";

/// Encoding versions written, per encoding type (anndata 0.8 – 0.12 write these).
pub fn version_for(kind: &str) -> &'static str {
    match kind {
        "anndata" | "dict" | "csr_matrix" | "csc_matrix" | "nullable-integer" | "nullable-boolean"
        | "nullable-string-array" => "0.1.0",
        // dataframe, categorical, array, string-array
        _ => "0.2.0",
    }
}

/// An element's declared encoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encoding {
    pub kind: String,
    pub version: String,
}

impl Encoding {
    /// The encoding declared on `loc`, or `None` when it has no `encoding-type` attribute.
    pub fn of(loc: &Location, path: &str) -> Result<Option<Encoding>> {
        let Some(kind) = attr_string(loc, ENCODING_TYPE, path)? else {
            return Ok(None);
        };
        let version = attr_string(loc, ENCODING_VERSION, path)?.unwrap_or_default();
        Ok(Some(Encoding { kind, version }))
    }
}

/// The encoding type of `loc` as text for error messages (`"none"` when undeclared).
pub fn kind_or_none(enc: &Option<Encoding>) -> String {
    enc.as_ref().map_or_else(|| "none".to_string(), |e| e.kind.clone())
}

fn has_attr(loc: &Location, name: &str) -> bool {
    loc.attr_names().map(|names| names.iter().any(|n| n == name)).unwrap_or(false)
}

/// A string attribute (first element if stored as an array), `None` if absent.
pub fn attr_string(loc: &Location, name: &str, path: &str) -> Result<Option<String>> {
    Ok(attr_strings(loc, name, path)?.and_then(|v| v.into_iter().next()))
}

/// A string-list attribute (`column-order`), `None` if absent.
pub fn attr_strings(loc: &Location, name: &str, path: &str) -> Result<Option<Vec<String>>> {
    if !has_attr(loc, name) {
        return Ok(None);
    }
    let apath = format!("{path}@{name}");
    let attr = loc.attr(name).map_err(H5adError::hdf5(&apath))?;
    raw::attr_strings(&attr, &apath).map(Some)
}

/// An integer-list attribute (`shape`, `h5sparse_shape`), `None` if absent.
pub fn attr_ints(loc: &Location, name: &str, path: &str) -> Result<Option<Vec<i64>>> {
    if !has_attr(loc, name) {
        return Ok(None);
    }
    let apath = format!("{path}@{name}");
    let attr = loc.attr(name).map_err(H5adError::hdf5(&apath))?;
    raw::attr_ints(&attr, &apath).map(Some)
}

fn vlen(s: &str, path: &str) -> Result<VarLenUnicode> {
    s.parse::<VarLenUnicode>()
        .map_err(|_| H5adError::unwritable(path, format!("string {s:?} contains a NUL byte")))
}

/// Writes a scalar variable-length UTF-8 string attribute.
pub fn set_string(loc: &Location, name: &str, value: &str, path: &str) -> Result<()> {
    let v = vlen(value, path)?;
    loc.new_attr::<VarLenUnicode>()
        .create(name)
        .and_then(|a| a.write_scalar(&v))
        .map_err(H5adError::hdf5(format!("{path}@{name}")))
}

/// Writes a 1-D variable-length UTF-8 string attribute (possibly empty).
pub fn set_strings(loc: &Location, name: &str, values: &[String], path: &str) -> Result<()> {
    let v = values.iter().map(|s| vlen(s, path)).collect::<Result<Vec<_>>>()?;
    loc.new_attr::<VarLenUnicode>()
        .shape(v.len())
        .create(name)
        .and_then(|a| a.write_raw(&v))
        .map_err(H5adError::hdf5(format!("{path}@{name}")))
}

/// Writes a 1-D int64 attribute (`shape`).
pub fn set_ints(loc: &Location, name: &str, values: &[i64], path: &str) -> Result<()> {
    loc.new_attr::<i64>()
        .shape(values.len())
        .create(name)
        .and_then(|a| a.write_raw(values))
        .map_err(H5adError::hdf5(format!("{path}@{name}")))
}

/// Writes a scalar bool attribute (`ordered`), stored as h5py stores numpy bools.
pub fn set_bool(loc: &Location, name: &str, value: bool, path: &str) -> Result<()> {
    loc.new_attr::<bool>()
        .create(name)
        .and_then(|a| a.write_scalar(&value))
        .map_err(H5adError::hdf5(format!("{path}@{name}")))
}

/// Writes `encoding-type` and `encoding-version` on `loc`.
pub fn set_encoding(loc: &Location, kind: &str, path: &str) -> Result<()> {
    set_string(loc, ENCODING_TYPE, kind, path)?;
    set_string(loc, ENCODING_VERSION, version_for(kind), path)
}
