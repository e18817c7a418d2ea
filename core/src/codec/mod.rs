//! Byte-level encodings of the export: Python-compatible JSON, gzip members, quantization,
//! and the zstd what-if codec.

pub mod gzip;
pub mod json;
pub mod pyfloat;
pub mod quantize;
pub mod zstd_what_if;

pub use gzip::GzipEncoder;
pub use zstd_what_if::ZstdEncoder;

/// The compressor of one worker: gzip (what the viewer reads) or the zstd what-if.
pub enum PayloadEncoder {
    Gzip(GzipEncoder),
    Zstd(ZstdEncoder),
}

impl PayloadEncoder {
    /// Replace `out` with the compressed `payload`.
    pub fn encode(&mut self, payload: &[u8], out: &mut Vec<u8>) -> std::io::Result<()> {
        match self {
            PayloadEncoder::Gzip(g) => {
                g.encode(payload, out);
                Ok(())
            }
            PayloadEncoder::Zstd(z) => z.encode(payload, out),
        }
    }
}
pub use json::Json;
pub use quantize::Bounds;
