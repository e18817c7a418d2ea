//! zstd payloads: a what-if codec. The viewer reads only gzip (VIEWER.md B.17), so a folder
//! written with zstd is **not loadable**; the harness uses it to measure what a zstd codec
//! would cost and save beside gzip.

/// A reusable per-thread zstd encoder at one level.
pub struct ZstdEncoder {
    level: i32,
    ctx: zstd::bulk::Compressor<'static>,
}

impl ZstdEncoder {
    /// An encoder at `level` (1–22; validated by `ExportOptions`).
    pub fn new(level: i32) -> std::io::Result<Self> {
        Ok(ZstdEncoder { level, ctx: zstd::bulk::Compressor::new(level)? })
    }

    pub fn level(&self) -> i32 {
        self.level
    }

    /// Replace `out` with one zstd frame holding `payload`.
    pub fn encode(&mut self, payload: &[u8], out: &mut Vec<u8>) -> std::io::Result<()> {
        out.clear();
        out.reserve(zstd::zstd_safe::compress_bound(payload.len()));
        self.ctx.compress_to_buffer(payload, out)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let payload: Vec<u8> = (0..50_000u32).map(|i| if i % 10 == 0 { (i % 251) as u8 } else { 0 }).collect();
        let mut enc = ZstdEncoder::new(3).expect("encoder");
        let mut out = Vec::new();
        enc.encode(&payload, &mut out).expect("encode");
        assert!(out.len() < payload.len() / 4);
        assert_eq!(zstd::bulk::decompress(&out, payload.len()).expect("decode"), payload);
    }
}
