//! One module per part of the export folder, each with a `prepare` step (validation
//! and computation, before anything is written, in the reference's order) and a
//! `write` step (payloads and manifest into the staging directory).

pub mod blocks;
pub mod centroids;
pub mod clock;
pub mod csc;
pub mod dense;
pub mod diagnosis;
pub mod embeddings;
pub mod gene_blocks;
pub mod genes;
pub mod graph;
pub mod identity;
pub mod latent;
pub mod obs;
pub mod outliers;
pub mod output;
#[cfg(feature = "slowdown")]
pub mod slowdown;
pub mod side;
pub mod vectors;
