//! Byte-level encodings of the export: Python-compatible JSON, gzip members, quantization.

pub mod gzip;
pub mod json;
pub mod pyfloat;
pub mod quantize;

pub use gzip::GzipEncoder;
pub use json::Json;
pub use quantize::Bounds;
