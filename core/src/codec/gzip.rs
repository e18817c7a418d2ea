//! Single-member gzip with the reference's header (FORMAT.md §13), and a strict reader.
//!
//! The reference compresses every payload with `gzip.GzipFile(filename="", mtime=0)` and
//! one `write`, so a member is always: the fixed 10-byte header
//! `1f 8b 08 00 00000000 XFL ff` (XFL `04` at level 1, `02` at level 9, `00` otherwise),
//! one raw deflate stream of the whole payload, then CRC-32 and ISIZE little-endian.
//!
//! [`GzipEncoder`] writes that framing around one of three deflate backends
//! ([`GzipBackend`]), or around a run-length stream for quantized genes
//! ([`GzipEncoder::encode_codes`]). The decompressed bytes never depend on the backend;
//! the deflate bytes may. It is built once per worker thread and reused for many payloads, so it
//! keeps the backend's compressor state (and the caller keeps `out`'s allocation).
//!
//! [`gunzip_single_member`] is the reader the validator and tests use: it accepts the
//! optional header fields any gzip writer may add, but insists on exactly one member
//! with a correct CRC and ISIZE and nothing after it.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use miniz_oxide::deflate::core::{
    compress as miniz_compress, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush,
    TDEFLStatus,
};

use super::run_deflate::RunDeflate;
use crate::options::GzipBackend;

/// Length of the fixed header the reference writes.
pub const HEADER_LEN: usize = 10;

/// The exact 10-byte header the reference writes for `level` (FORMAT.md §13).
pub fn header(level: u32) -> [u8; HEADER_LEN] {
    let xfl = match level {
        1 => 0x04,
        9 => 0x02,
        _ => 0x00,
    };
    [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, xfl, 0xff]
}

/// The backend's reusable compressor, built for one `(level, backend)` pair.
enum State {
    ZlibRs(Compress),
    Libdeflate(libdeflater::Compressor),
    /// Boxed: the miniz compressor carries ~100 KB of inline tables.
    Miniz(Box<CompressorOxide>),
}

/// A reusable per-thread gzip encoder for one level and backend.
///
/// `level` is the reference's `compression` (1–9, validated by the options); values
/// above 9 are treated as 9. Changing the public fields between calls is allowed: the
/// compressor is rebuilt on the next `encode`.
pub struct GzipEncoder {
    pub level: u32,
    pub backend: GzipBackend,
    /// Compressor state and the `(level, backend)` it was built for.
    state: Option<(u32, GzipBackend, State)>,
    /// The run-length coder of [`GzipBackend::Auto`], and a second buffer for the
    /// levels at which both codings are tried.
    runs: RunDeflate,
    other: Vec<u8>,
}

impl GzipEncoder {
    pub fn new(level: u32, backend: GzipBackend) -> Self {
        GzipEncoder { level, backend, state: None, runs: RunDeflate::new(), other: Vec::new() }
    }

    /// Replace `out` with one gzip member holding `payload`, quantized gene codes.
    ///
    /// With [`GzipBackend::Auto`] the stream is run-length deflate at levels 1–6; at 7–9,
    /// where the user asked for the smallest file, it is the smaller of run-length and
    /// libdeflate at that level. Other backends code it like any payload.
    pub fn encode_codes(&mut self, payload: &[u8], out: &mut Vec<u8>) {
        if self.backend != GzipBackend::Auto {
            return self.encode(payload, out);
        }
        if self.level >= 7 {
            let mut lz = std::mem::take(&mut self.other);
            self.encode(payload, &mut lz);
            self.encode_runs(payload, out);
            if lz.len() < out.len() {
                std::mem::swap(out, &mut lz);
            }
            self.other = lz;
            return;
        }
        self.encode_runs(payload, out);
    }

    /// One gzip member whose stream is run-length deflate.
    fn encode_runs(&mut self, payload: &[u8], out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(&header(self.level));
        self.runs.compress(payload, out);
        push_trailer(payload, out);
    }

    /// Replace `out` with one gzip member holding `payload`.
    pub fn encode(&mut self, payload: &[u8], out: &mut Vec<u8>) {
        let level = self.level.min(9);
        out.clear();
        out.extend_from_slice(&header(self.level));
        let state = self.state_for(level);
        let ok = match state {
            State::ZlibRs(c) => deflate_zlib_rs(c, payload, out),
            State::Libdeflate(c) => deflate_libdeflate(c, payload, out),
            State::Miniz(c) => deflate_miniz(c, payload, out),
        };
        if !ok {
            // None of the backends can fail on a well-formed state with enough output
            // room; if one ever does, a stored-block stream keeps the member valid
            // (same payload, different deflate bytes) instead of aborting an export.
            debug_assert!(false, "deflate backend {:?} failed", self.backend);
            out.truncate(HEADER_LEN);
            deflate_stored(payload, out);
        }
        push_trailer(payload, out);
    }

    /// The compressor for the current fields, reset and ready for a new stream.
    fn state_for(&mut self, level: u32) -> &mut State {
        let backend = self.backend;
        if !matches!(&self.state, Some((l, b, _)) if *l == level && *b == backend) {
            self.state = None;
        }
        let (_, _, st) = self.state.get_or_insert_with(|| (level, backend, State::build(level, backend)));
        match st {
            // A finished stream must be reset before the next one; a fresh one is
            // already clean, and resetting is cheap (no reallocation).
            State::ZlibRs(c) => c.reset(),
            State::Miniz(c) => c.reset(),
            State::Libdeflate(_) => {} // one-shot API, no stream state
        }
        st
    }
}

/// The member's trailer: CRC-32 and ISIZE of the payload, little-endian.
fn push_trailer(payload: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    // ISIZE is the length modulo 2^32 by definition (RFC 1952); truncation intended.
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
}

impl State {
    fn build(level: u32, backend: GzipBackend) -> State {
        match backend {
            GzipBackend::ZlibRs => State::ZlibRs(Compress::new(Compression::new(level), false)),
            GzipBackend::Libdeflate | GzipBackend::Auto => State::Libdeflate(libdeflater::Compressor::new(
                // 0..=9 is always inside libdeflate's 0..=12 range.
                libdeflater::CompressionLvl::new(level as i32).unwrap_or_default(),
            )),
            GzipBackend::Miniz => State::Miniz(Box::new(CompressorOxide::new(
                // Negative window bits: raw deflate, no zlib wrapper.
                create_comp_flags_from_zip_params(level as i32, -15, 0),
            ))),
        }
    }
}

/// A generous first guess at the deflate size; the loops below grow it if needed.
fn initial_room(n: usize) -> usize {
    n + (n >> 4) + 64
}

/// zlib-rs through flate2: one `deflate(Z_FINISH)` over the whole payload, written
/// straight into `out`'s spare capacity.
fn deflate_zlib_rs(c: &mut Compress, payload: &[u8], out: &mut Vec<u8>) -> bool {
    out.reserve(initial_room(payload.len()) + 8);
    loop {
        let consumed = c.total_in() as usize;
        let input = payload.get(consumed..).unwrap_or(&[]);
        let before_out = c.total_out();
        match c.compress_vec(input, out, FlushCompress::Finish) {
            Ok(Status::StreamEnd) => return true,
            Ok(Status::Ok) | Ok(Status::BufError) => {
                if out.len() == out.capacity() {
                    out.reserve(out.capacity() / 2 + 1024);
                } else if c.total_out() == before_out && c.total_in() as usize == consumed {
                    return false; // no progress with room to spare: cannot happen
                }
            }
            Err(_) => return false,
        }
    }
}

/// libdeflate, one-shot into a buffer sized by its own worst-case bound.
fn deflate_libdeflate(c: &mut libdeflater::Compressor, payload: &[u8], out: &mut Vec<u8>) -> bool {
    let bound = c.deflate_compress_bound(payload.len());
    let start = out.len();
    out.resize(start + bound, 0);
    match c.deflate_compress(payload, &mut out[start..]) {
        Ok(n) => {
            out.truncate(start + n);
            true
        }
        Err(_) => false,
    }
}

/// miniz_oxide's core compressor (the same flags as `compress_to_vec`, but the
/// compressor and output buffer are reused).
fn deflate_miniz(c: &mut CompressorOxide, payload: &[u8], out: &mut Vec<u8>) -> bool {
    let start = out.len();
    out.resize(start + initial_room(payload.len()), 0);
    let (mut in_pos, mut out_pos) = (0usize, start);
    loop {
        let (status, read, written) =
            miniz_compress(c, &payload[in_pos..], &mut out[out_pos..], TDEFLFlush::Finish);
        in_pos += read;
        out_pos += written;
        match status {
            TDEFLStatus::Done => {
                out.truncate(out_pos);
                return true;
            }
            TDEFLStatus::Okay => {
                if out_pos == out.len() {
                    let grow = out.len() / 2 + 1024;
                    out.resize(out.len() + grow, 0);
                } else if read == 0 && written == 0 {
                    return false;
                }
            }
            TDEFLStatus::BadParam | TDEFLStatus::PutBufFailed => return false,
        }
    }
}

/// Stored (uncompressed) deflate blocks: the fallback that cannot fail (and what
/// run-length deflate writes for incompressible payloads).
pub(super) fn deflate_stored(payload: &[u8], out: &mut Vec<u8>) {
    let mut chunks = payload.chunks(0xffff).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[0x01, 0x00, 0x00, 0xff, 0xff]);
        return;
    }
    while let Some(chunk) = chunks.next() {
        let last = chunks.peek().is_none();
        let len = chunk.len() as u16; // chunks are at most 0xffff bytes
        out.push(u8::from(last));
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
}

/// Why bytes are not exactly one valid gzip member.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GzipError {
    #[error("gzip data is truncated ({0})")]
    Truncated(&'static str),
    #[error("not gzip: magic bytes are {0:02x} {1:02x}, expected 1f 8b")]
    BadMagic(u8, u8),
    #[error("unsupported gzip compression method {0} (only 8, deflate)")]
    UnsupportedMethod(u8),
    #[error("reserved gzip flag bits are set (FLG = {0:#04x})")]
    ReservedFlags(u8),
    #[error("gzip header CRC16 mismatch: stored {stored:#06x}, computed {computed:#06x}")]
    HeaderCrc { stored: u16, computed: u16 },
    #[error("invalid deflate stream: {0}")]
    Deflate(String),
    #[error("gzip CRC-32 mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    Crc { stored: u32, computed: u32 },
    #[error("gzip ISIZE mismatch: stored {stored}, actual length mod 2^32 is {actual}")]
    Isize { stored: u32, actual: u32 },
    #[error("a second gzip member follows the first (the writer emits exactly one)")]
    SecondMember,
    #[error("{0} unexpected byte(s) after the gzip member")]
    TrailingBytes(usize),
}

const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;
const FRESERVED: u8 = 0xe0;

/// Length of the gzip header at the start of `bytes`, after checking it.
pub fn parse_header(bytes: &[u8]) -> Result<usize, GzipError> {
    let fixed = bytes.get(..HEADER_LEN).ok_or(GzipError::Truncated("header"))?;
    if fixed[0] != 0x1f || fixed[1] != 0x8b {
        return Err(GzipError::BadMagic(fixed[0], fixed[1]));
    }
    if fixed[2] != 8 {
        return Err(GzipError::UnsupportedMethod(fixed[2]));
    }
    let flg = fixed[3];
    if flg & FRESERVED != 0 {
        return Err(GzipError::ReservedFlags(flg));
    }
    let mut pos = HEADER_LEN;
    if flg & FEXTRA != 0 {
        let xlen = bytes.get(pos..pos + 2).ok_or(GzipError::Truncated("FEXTRA length"))?;
        pos += 2 + usize::from(u16::from_le_bytes([xlen[0], xlen[1]]));
        if pos > bytes.len() {
            return Err(GzipError::Truncated("FEXTRA"));
        }
    }
    for (flag, what) in [(FNAME, "FNAME"), (FCOMMENT, "FCOMMENT")] {
        if flg & flag != 0 {
            let rest = bytes.get(pos..).unwrap_or(&[]);
            let nul = rest.iter().position(|&b| b == 0).ok_or(GzipError::Truncated(what))?;
            pos += nul + 1;
        }
    }
    if flg & FHCRC != 0 {
        let c = bytes.get(pos..pos + 2).ok_or(GzipError::Truncated("FHCRC"))?;
        let stored = u16::from_le_bytes([c[0], c[1]]);
        let computed = (crc32fast::hash(&bytes[..pos]) & 0xffff) as u16;
        if stored != computed {
            return Err(GzipError::HeaderCrc { stored, computed });
        }
        pos += 2;
    }
    Ok(pos)
}

/// Decompress `bytes`, which must be exactly one gzip member: valid header (optional
/// FEXTRA/FNAME/FCOMMENT/FHCRC accepted), one raw deflate stream, matching CRC-32 and
/// ISIZE, and nothing after the trailer.
pub fn gunzip_single_member(bytes: &[u8]) -> Result<Vec<u8>, GzipError> {
    let body_start = parse_header(bytes)?;
    let body = &bytes[body_start..];
    // If the member is well formed, the last 4 bytes are ISIZE: a good capacity hint,
    // capped by deflate's maximum ratio (~1032:1) so a lying trailer cannot force a
    // huge allocation.
    let hint = bytes
        .get(bytes.len().saturating_sub(4)..)
        .filter(|t| t.len() == 4)
        .map_or(0, |t| u32::from_le_bytes([t[0], t[1], t[2], t[3]]) as usize)
        .min(body.len().saturating_mul(1032));
    let mut out = Vec::with_capacity(hint.max(64));
    let mut d = Decompress::new(false);
    loop {
        if out.len() == out.capacity() {
            out.reserve(out.capacity().max(4096));
        }
        let consumed = d.total_in() as usize;
        let before_out = d.total_out();
        let input = body.get(consumed..).unwrap_or(&[]);
        let status = d
            .decompress_vec(input, &mut out, FlushDecompress::None)
            .map_err(|e| GzipError::Deflate(e.to_string()))?;
        if status == Status::StreamEnd {
            break;
        }
        let progressed = d.total_in() as usize != consumed || d.total_out() != before_out;
        if !progressed {
            if d.total_in() as usize >= body.len() {
                return Err(GzipError::Truncated("deflate stream"));
            }
            if out.len() < out.capacity() {
                return Err(GzipError::Deflate("decoder made no progress".into()));
            }
        }
    }
    let trailer_start = d.total_in() as usize;
    let trailer = body
        .get(trailer_start..trailer_start + 8)
        .ok_or(GzipError::Truncated("trailer"))?;
    let stored_crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    let stored_isize = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
    let computed = crc32fast::hash(&out);
    if stored_crc != computed {
        return Err(GzipError::Crc { stored: stored_crc, computed });
    }
    let actual = out.len() as u32; // mod 2^32, as ISIZE is defined
    if stored_isize != actual {
        return Err(GzipError::Isize { stored: stored_isize, actual });
    }
    let rest = &body[trailer_start + 8..];
    if rest.starts_with(&[0x1f, 0x8b]) {
        return Err(GzipError::SecondMember);
    }
    if !rest.is_empty() {
        return Err(GzipError::TrailingBytes(rest.len()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const BACKENDS: [GzipBackend; 4] =
        [GzipBackend::Auto, GzipBackend::ZlibRs, GzipBackend::Libdeflate, GzipBackend::Miniz];

    fn gz(level: u32, backend: GzipBackend, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![0xaa; 7]; // stale content must be replaced, not appended to
        GzipEncoder::new(level, backend).encode(payload, &mut out);
        out
    }

    #[test]
    fn header_per_level() {
        for level in 1..=9u32 {
            let xfl = match level {
                1 => 4,
                9 => 2,
                _ => 0,
            };
            for b in BACKENDS {
                let m = gz(level, b, b"hello hello hello");
                assert_eq!(m[..10], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 0xff], "level {level} {b:?}");
            }
        }
    }

    #[test]
    fn empty_payload_zlib_rs_is_the_20_byte_member() {
        let m = gz(6, GzipBackend::ZlibRs, b"");
        assert_eq!(
            m,
            [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        for b in BACKENDS {
            for level in 1..=9 {
                assert_eq!(gunzip_single_member(&gz(level, b, b"")).unwrap(), Vec::<u8>::new());
            }
        }
    }

    #[test]
    fn stored_fallback_is_valid() {
        for n in [0usize, 1, 65535, 65536, 140_000] {
            let payload: Vec<u8> = (0..n).map(|i| (i * 7 % 251) as u8).collect();
            let mut out = header(6).to_vec();
            deflate_stored(&payload, &mut out);
            out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
            out.extend_from_slice(&(n as u32).to_le_bytes());
            assert_eq!(gunzip_single_member(&out).unwrap(), payload);
        }
    }

    #[test]
    fn miniz_matches_compress_to_vec() {
        let payload: Vec<u8> = (0..50_000u32).map(|i| ((i * i) % 13) as u8).collect();
        let mut enc = GzipEncoder::new(6, GzipBackend::Miniz);
        let mut out = Vec::new();
        for _ in 0..2 {
            // second round exercises the reset path
            enc.encode(&payload, &mut out);
            let want = miniz_oxide::deflate::compress_to_vec(&payload, 6);
            assert_eq!(&out[10..out.len() - 8], &want[..]);
        }
    }

    #[test]
    fn reuse_and_field_changes_rebuild_state() {
        let mut enc = GzipEncoder::new(1, GzipBackend::ZlibRs);
        let mut out = Vec::new();
        let a: Vec<u8> = (0..10_000u32).map(|i| (i % 7) as u8).collect();
        enc.encode(&a, &mut out);
        let first = out.clone();
        enc.encode(&a, &mut out);
        assert_eq!(out, first, "reused encoder gives identical bytes");
        enc.level = 9;
        enc.backend = GzipBackend::Libdeflate;
        enc.encode(&a, &mut out);
        assert_eq!(out[8], 2);
        assert_eq!(gunzip_single_member(&out).unwrap(), a);
    }

    #[test]
    fn codes_are_run_length_coded_by_auto_only_and_the_smaller_kept_above_6() {
        let codes: Vec<u8> = (0..20_000u32).map(|i| if i % 11 == 0 { (i % 97) as u8 + 1 } else { 0 }).collect();
        let mut runs = header(6).to_vec();
        RunDeflate::new().compress(&codes, &mut runs);
        push_trailer(&codes, &mut runs);
        let mut out = Vec::new();
        GzipEncoder::new(6, GzipBackend::Auto).encode_codes(&codes, &mut out);
        assert_eq!(out, runs, "auto at level 6: the run-length stream");
        let mut lz = Vec::new();
        GzipEncoder::new(6, GzipBackend::Libdeflate).encode_codes(&codes, &mut out);
        GzipEncoder::new(6, GzipBackend::Libdeflate).encode(&codes, &mut lz);
        assert_eq!(out, lz, "an explicit backend codes genes like anything else");
        for level in 7..=9 {
            let mut enc = GzipEncoder::new(level, GzipBackend::Auto);
            enc.encode_codes(&codes, &mut out);
            let mut both = [Vec::new(), Vec::new()];
            enc.encode(&codes, &mut both[0]);
            enc.encode_runs(&codes, &mut both[1]);
            assert_eq!(out.len(), both[0].len().min(both[1].len()), "level {level}");
            assert_eq!(gunzip_single_member(&out).unwrap(), codes);
        }
    }

    #[test]
    fn rejects_second_member_trailing_bytes_and_bad_trailer() {
        let m = gz(6, GzipBackend::ZlibRs, b"payload");
        let mut two = m.clone();
        two.extend_from_slice(&m);
        assert_eq!(gunzip_single_member(&two), Err(GzipError::SecondMember));
        let mut junk = m.clone();
        junk.push(0);
        assert_eq!(gunzip_single_member(&junk), Err(GzipError::TrailingBytes(1)));
        let mut bad_isize = m.clone();
        let n = bad_isize.len();
        bad_isize[n - 4] ^= 1;
        assert_eq!(gunzip_single_member(&bad_isize), Err(GzipError::Isize { stored: 6, actual: 7 }));
        let mut bad_crc = m.clone();
        bad_crc[n - 8] ^= 1;
        assert!(matches!(gunzip_single_member(&bad_crc), Err(GzipError::Crc { .. })));
        assert!(matches!(gunzip_single_member(&m[..n - 1]), Err(GzipError::Truncated(_))));
        assert!(matches!(gunzip_single_member(&m[..12]), Err(GzipError::Truncated(_))));
        assert_eq!(gunzip_single_member(b"PK\x03\x04zzzzzzzz"), Err(GzipError::BadMagic(0x50, 0x4b)));
        let mut reserved = m.clone();
        reserved[3] = 0x20;
        assert_eq!(gunzip_single_member(&reserved), Err(GzipError::ReservedFlags(0x20)));
    }

    #[test]
    fn accepts_optional_header_fields() {
        let m = gz(6, GzipBackend::ZlibRs, b"abc abc abc");
        let mut h = vec![0x1f, 0x8b, 8, FEXTRA | FNAME | FCOMMENT | FHCRC, 0, 0, 0, 0, 0, 3];
        h.extend_from_slice(&[3, 0, b'x', b'y', b'z']);
        h.extend_from_slice(b"name.bin\0");
        h.extend_from_slice(b"a comment\0");
        let crc16 = (crc32fast::hash(&h) & 0xffff) as u16;
        h.extend_from_slice(&crc16.to_le_bytes());
        let mut full = h.clone();
        full.extend_from_slice(&m[10..]);
        assert_eq!(gunzip_single_member(&full).unwrap(), b"abc abc abc");
        let hl = h.len();
        full[hl - 1] ^= 0xff;
        assert!(matches!(gunzip_single_member(&full), Err(GzipError::HeaderCrc { .. })));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn round_trip_every_backend_and_level(
            payload in prop::collection::vec(prop::sample::select(vec![0u8, 0, 0, 1, 2, 3, 200, 255]), 0..20_000),
            noise in prop::collection::vec(any::<u8>(), 0..2_000),
        ) {
            let mut payload = payload;
            payload.extend_from_slice(&noise);
            for b in BACKENDS {
                let mut enc = GzipEncoder::new(1, b);
                let mut out = Vec::new();
                for level in 1..=9u32 {
                    enc.level = level;
                    enc.encode(&payload, &mut out);
                    prop_assert_eq!(&out[..10], &header(level)[..]);
                    prop_assert_eq!(gunzip_single_member(&out).unwrap(), payload.clone());
                    enc.encode_codes(&payload, &mut out);
                    prop_assert_eq!(&out[..10], &header(level)[..]);
                    prop_assert_eq!(gunzip_single_member(&out).unwrap(), payload.clone());
                }
            }
        }
    }
}
