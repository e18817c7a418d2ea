//! Checked decoding of the bytes of every string read from a file.
//!
//! Every string this reader takes from an `.h5ad` (values, index labels, categories,
//! attribute values such as `encoding-type`, `_index` and `column-order`, and the member
//! names of stored types) arrives as bytes and becomes a `String` here, through
//! `std::str::from_utf8`, or is refused with an error that names its HDF5 path and shows
//! the bytes escaped. Nothing else in the crate turns file bytes into text: the `hdf5`
//! crate's own conversions (`VarLenUnicode::as_str`, `string_from_cstr`, …) use
//! `from_utf8_unchecked`, which is undefined behaviour on bytes that are not UTF-8
//! (legacy tools store Latin-1 in "ASCII" strings). `tests/strings.rs` keeps it so.
//!
//! Fixed-length strings: numpy's `S` dtype (what h5py stores) pads a short value with
//! NUL bytes and drops them on reading, so trailing NULs are padding and are removed.
//! A NUL followed by other bytes is not padding: cutting there, as a C string would,
//! silently loses the rest of the value, so such a record is refused.

use std::fmt;

use super::error::{H5adError, Result};

/// Where a string was read: an HDF5 path and, for arrays, the element's position.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Site<'a> {
    pub path: &'a str,
    pub index: Option<usize>,
}

impl<'a> Site<'a> {
    /// A scalar (a scalar attribute, a name).
    pub fn scalar(path: &'a str) -> Site<'a> {
        Site { path, index: None }
    }

    /// Element `index` of an array.
    pub fn element(path: &'a str, index: usize) -> Site<'a> {
        Site { path, index: Some(index) }
    }
}

/// `path` or `path[index]`, as error messages name an element.
pub(crate) fn site_text(path: &str, index: &Option<usize>) -> String {
    match index {
        Some(i) => format!("{path}[{i}]"),
        None => path.to_string(),
    }
}

/// Bytes shown as a Python bytes literal, `b"M\xfcller"`, on one line: printable ASCII
/// as is, everything else escaped, at most [`EscapedBytes::SHOWN`] bytes shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EscapedBytes {
    head: Vec<u8>,
    len: usize,
}

impl EscapedBytes {
    /// Bytes shown before the rest is summarised by its length.
    pub const SHOWN: usize = 80;

    pub fn new(bytes: &[u8]) -> EscapedBytes {
        EscapedBytes { head: bytes[..bytes.len().min(Self::SHOWN)].to_vec(), len: bytes.len() }
    }
}

impl fmt::Display for EscapedBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `escape_ascii` escapes `"` as `\"`, so the literal stays well formed.
        write!(f, "b\"{}\"", self.head.escape_ascii())?;
        if self.len > self.head.len() {
            write!(f, "… ({} bytes)", self.len)?;
        }
        Ok(())
    }
}

/// The bytes as a `String` if they are UTF-8; otherwise the error naming `at`.
pub(crate) fn decode(bytes: &[u8], at: Site) -> Result<String> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_owned()),
        Err(_) => {
            Err(H5adError::NotUtf8 { path: at.path.to_string(), index: at.index, bytes: EscapedBytes::new(bytes) })
        }
    }
}

/// One fixed-length record: trailing NUL padding removed, an inner NUL refused, decoded.
pub(crate) fn decode_fixed(record: &[u8], at: Site) -> Result<String> {
    let end = record.iter().rposition(|&b| b != 0).map_or(0, |last| last + 1);
    let value = &record[..end];
    if value.contains(&0) {
        return Err(H5adError::EmbeddedNul {
            path: at.path.to_string(),
            index: at.index,
            bytes: EscapedBytes::new(value),
        });
    }
    decode(value, at)
}

/// Fixed-width records (`width` bytes each) as strings, element `i` named `path[i]`.
pub(crate) fn decode_fixed_records(bytes: &[u8], width: usize, path: &str) -> Result<Vec<String>> {
    if width == 0 {
        return Ok(Vec::new());
    }
    bytes.chunks(width).enumerate().map(|(i, rec)| decode_fixed(rec, Site::element(path, i))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(r: Result<String>) -> String {
        r.expect_err("must be refused").to_string()
    }

    #[test]
    fn utf8_passes_through_unchanged() {
        let s = "Müller 細胞 🧬";
        assert_eq!(decode(s.as_bytes(), Site::scalar("x")).unwrap(), s);
    }

    #[test]
    fn latin1_is_refused_with_path_index_and_escaped_bytes() {
        let m = message(decode(b"M\xfcller", Site::element("var/_index", 3)));
        assert_eq!(m, r#"var/_index[3]: not valid UTF-8: b"M\xfcller""#);
    }

    #[test]
    fn truncated_sequence_in_a_scalar_is_refused() {
        let m = message(decode(b"abc\xe2\x82", Site::scalar("obs@encoding-type")));
        assert_eq!(m, r#"obs@encoding-type: not valid UTF-8: b"abc\xe2\x82""#);
    }

    #[test]
    fn quotes_newlines_and_long_values_stay_on_one_readable_line() {
        let mut bytes = b"a\"b\n".to_vec();
        bytes.extend(std::iter::repeat_n(0xffu8, 200));
        let m = message(decode(&bytes, Site::element("obs/c", 0)));
        assert!(m.starts_with(r#"obs/c[0]: not valid UTF-8: b"a\"b\n\xff"#), "{m}");
        assert!(m.ends_with("… (204 bytes)"), "{m}");
        assert!(!m.contains('\n'));
    }

    #[test]
    fn fixed_records_lose_only_trailing_padding() {
        let bytes = b"ab\0\0abcdxyz\0";
        assert_eq!(decode_fixed_records(bytes, 4, "p").unwrap(), ["ab", "abcd", "xyz"]);
        assert_eq!(decode_fixed_records(b"\0\0\0\0", 4, "p").unwrap(), [""]);
        assert_eq!(decode_fixed_records(b"", 0, "p").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn a_nul_inside_a_fixed_record_is_refused() {
        let err = decode_fixed_records(b"okok\0ab\0cd", 5, "obs/__categories/x").unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"obs/__categories/x[1]: fixed-length string has a NUL byte inside it: b"ab\x00cd" (the bytes after the NUL would be lost)"#
        );
    }

    #[test]
    fn fixed_records_are_checked_utf8_too() {
        let err = decode_fixed_records(b"M\xfcller\0\0", 8, "var/_index").unwrap_err();
        assert_eq!(err.to_string(), r#"var/_index[0]: not valid UTF-8: b"M\xfcller""#);
    }
}
