//! Checked reads for code outside this module that inspects `.h5ad` files directly (the
//! harness's fuzzer): the same checked decoding the reader uses, so no crate needs the
//! hdf5 crate's unchecked string or type-name accessors.

use super::error::Result;
use hdf5::types::TypeDescriptor;
use hdf5::{Attribute, Dataset};

/// A dataset's stored type, refused if a name inside it is not UTF-8.
pub fn descriptor(ds: &Dataset, path: &str) -> Result<TypeDescriptor> {
    super::dtype::descriptor(ds, path)
}

/// A string attribute's values, each decoded checked (a scalar gives one value).
pub fn attr_strings(attr: &Attribute, path: &str) -> Result<Vec<String>> {
    super::raw::attr_strings(attr, path)
}
