//! # cellucid-datasets
//!
//! Where datasets come from. [`h5ad`] reads and writes AnnData's on-disk format into a
//! [`cellucid_core::Dataset`]; [`synthetic`] generates realistic, seeded datasets of any
//! size from a `DatasetSpec`; [`golden`] loads the golden conformance inputs as a `Dataset`.
//! Nothing here exports or measures.

pub mod golden;
pub mod h5ad;
pub mod synthetic;
