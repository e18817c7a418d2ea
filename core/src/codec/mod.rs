//! Byte-level encodings of the export: Python-compatible JSON, gzip members, quantization,
//! and the zstd what-if codec.

pub mod gzip;
pub mod json;
pub mod pyfloat;
pub mod quantize;
pub mod run_deflate;
pub mod zstd_what_if;

pub use gzip::GzipEncoder;
pub use zstd_what_if::ZstdEncoder;
pub use json::Json;
pub use quantize::Bounds;

/// What a payload holds, so that the encoder can pick the coding that suits it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayloadKind {
    /// A quantized gene (`var/<g>.values.u8` or `.u16`): mostly one code repeated, the
    /// code of zero, with the expressing cells' codes scattered through it.
    GeneCodes,
    /// Any other payload.
    Other,
}

impl PayloadKind {
    /// The kind of the payload published at `rel`, its path in the export (with or
    /// without the codec's suffix). The floor measurement reads kinds back from paths
    /// the same way, so both code the same payload alike.
    pub fn of_path(rel: &str) -> PayloadKind {
        let Some(name) = rel.strip_prefix("var/") else {
            return PayloadKind::Other;
        };
        let name = name.strip_suffix(".gz").or_else(|| name.strip_suffix(".zst")).unwrap_or(name);
        if name.ends_with(".values.u8") || name.ends_with(".values.u16") {
            PayloadKind::GeneCodes
        } else {
            PayloadKind::Other
        }
    }
}

/// The compressor of one worker: gzip (what the viewer reads) or the zstd what-if.
pub enum PayloadEncoder {
    Gzip(GzipEncoder),
    Zstd(ZstdEncoder),
}

impl PayloadEncoder {
    /// Replace `out` with the compressed `payload`, a payload of kind `kind`.
    pub fn encode(&mut self, kind: PayloadKind, payload: &[u8], out: &mut Vec<u8>) -> std::io::Result<()> {
        match self {
            PayloadEncoder::Gzip(g) => {
                match kind {
                    PayloadKind::GeneCodes => g.encode_codes(payload, out),
                    PayloadKind::Other => g.encode(payload, out),
                }
                Ok(())
            }
            PayloadEncoder::Zstd(z) => z.encode(payload, out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PayloadKind::{self, GeneCodes, Other};

    #[test]
    fn kinds_of_paths() {
        for (rel, kind) in [
            ("var/0.values.u8", GeneCodes),
            ("var/12.values.u8.gz", GeneCodes),
            ("var/3.values.u16.gz", GeneCodes),
            ("var/3.values.u16.zst", GeneCodes),
            ("var/3.values.f32.gz", Other),
            ("obs/1.values.u8.gz", Other),
            ("obs/1.codes.u8", Other),
            ("points_3d.bin.gz", Other),
            ("var_manifest.json", Other),
            ("var/x.values.u8.bak", Other),
        ] {
            assert_eq!(PayloadKind::of_path(rel), kind, "{rel}");
        }
    }
}
