//! `H5adError`: everything reading or writing an `.h5ad` file can fail with.
//!
//! Every variant that concerns an element names its HDF5 path (`obs/cell type`,
//! `obsm/X_umap`, …) so that a CLI can print one line that says where the file is
//! wrong; unsupported elements also name their AnnData encoding.

use std::path::PathBuf;

use super::strings::{site_text, EscapedBytes};

#[derive(Debug, thiserror::Error)]
pub enum H5adError {
    // The HDF5 error is part of the message and deliberately not a `source()`: a caller
    // printing the chain (anyhow's `{:#}`) would otherwise show it twice.
    /// The file could not be opened or created (missing, truncated, not HDF5).
    #[error("cannot open {file} as HDF5: {cause}")]
    Open { file: PathBuf, cause: hdf5::Error },
    /// An HDF5 call failed on the element at `path`.
    #[error("HDF5 error at {path}: {cause}")]
    Hdf5 { path: String, cause: hdf5::Error },
    /// The element at `path` exists but uses an encoding or dtype this reader does not handle.
    #[error("unsupported element {path} (encoding-type {encoding:?}): {detail}")]
    Unsupported { path: String, encoding: String, detail: String },
    /// A required element is absent.
    #[error("missing element {path}: {detail}")]
    Missing { path: String, detail: String },
    /// The element at `path` is present but inconsistent (shape attribute, index bounds, …).
    #[error("malformed element {path}: {detail}")]
    Malformed { path: String, detail: String },
    /// A string in the file (a value, label, name or attribute) is not valid UTF-8;
    /// `index` is its position when it is an element of an array.
    #[error("{}: not valid UTF-8: {bytes}", site_text(.path, .index))]
    NotUtf8 { path: String, index: Option<usize>, bytes: EscapedBytes },
    /// A fixed-length string has a NUL byte followed by more bytes: not padding, and
    /// reading it as a C string would drop the rest of the value.
    #[error("{}: fixed-length string has a NUL byte inside it: {bytes} (the bytes after the NUL would be lost)", site_text(.path, .index))]
    EmbeddedNul { path: String, index: Option<usize>, bytes: EscapedBytes },
    /// A mapping (`inputs` object) names something that is not an AnnData location.
    #[error("invalid mapping: {0}")]
    Mapping(String),
    /// The dataset handed to `write` cannot be expressed in AnnData's format.
    #[error("cannot write {path}: {detail}")]
    Unwritable { path: String, detail: String },
    /// The out-of-core transposition could not write its spill files.
    #[error("spilling the gene matrix: {0}")]
    Spill(String),
}

impl H5adError {
    pub(crate) fn hdf5(path: impl Into<String>) -> impl FnOnce(hdf5::Error) -> H5adError {
        let path = path.into();
        move |cause| H5adError::Hdf5 { path, cause }
    }

    pub(crate) fn malformed(path: impl Into<String>, detail: impl Into<String>) -> H5adError {
        H5adError::Malformed { path: path.into(), detail: detail.into() }
    }

    pub(crate) fn unsupported(path: impl Into<String>, encoding: impl Into<String>, detail: impl Into<String>) -> H5adError {
        H5adError::Unsupported { path: path.into(), encoding: encoding.into(), detail: detail.into() }
    }

    pub(crate) fn unwritable(path: impl Into<String>, detail: impl Into<String>) -> H5adError {
        H5adError::Unwritable { path: path.into(), detail: detail.into() }
    }

    /// The HDF5 path the error concerns, when it concerns one element.
    pub fn h5_path(&self) -> Option<&str> {
        match self {
            H5adError::Hdf5 { path, .. }
            | H5adError::Unsupported { path, .. }
            | H5adError::Missing { path, .. }
            | H5adError::Malformed { path, .. }
            | H5adError::NotUtf8 { path, .. }
            | H5adError::EmbeddedNul { path, .. }
            | H5adError::Unwritable { path, .. } => Some(path),
            H5adError::Open { .. } | H5adError::Mapping(_) | H5adError::Spill(_) => None,
        }
    }
}

pub type Result<T, E = H5adError> = std::result::Result<T, E>;
