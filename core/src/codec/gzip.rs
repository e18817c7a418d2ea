//! Single-member gzip with the reference's header (FORMAT.md §13). INTERFACE STUB.

use crate::options::GzipBackend;

/// A reusable per-thread gzip encoder for one level and backend.
pub struct GzipEncoder {
    pub level: u32,
    pub backend: GzipBackend,
}

impl GzipEncoder {
    pub fn new(level: u32, backend: GzipBackend) -> Self {
        GzipEncoder { level, backend }
    }
    /// Replace `out` with one gzip member holding `payload`.
    pub fn encode(&mut self, payload: &[u8], out: &mut Vec<u8>) {
        let _ = (payload, out);
        todo!("gzip::encode")
    }
}
