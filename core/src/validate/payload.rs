//! Reading one payload the way the viewer does (VIEWER.md B.10, B.13, B.14).
//!
//! Compression is decided by the file name only. A raw payload must be exactly the
//! manifest-derived length. A `.gz` payload must pass the envelope check (≥ 18 bytes,
//! `1f 8b`, CM 8, reserved FLG bits zero, ISIZE equal to the expected decoded size), hold
//! exactly one member and nothing after it, and inflate to exactly the expected length
//! with a matching CRC-32. The header is parsed here and the body inflated with a raw
//! `flate2::Decompress`, so the bytes the member consumed are known and a second member
//! or trailing garbage is seen. Unlike `codec::gzip::gunzip_single_member`, the inflater
//! writes into a buffer of exactly the expected size and never grows it, so a hostile or
//! broken file cannot make validation allocate more than the manifest promises, and every
//! problem of the envelope is reported rather than the first.

use std::path::Path;

use flate2::{Decompress, FlushDecompress, Status};

use super::MAX_PAYLOAD_BYTES;

/// Reserved FLG bits (RFC 1952), which the viewer refuses.
const RESERVED: u8 = 0xE0;

/// The outcome of reading one payload.
pub(crate) struct Payload {
    /// The decoded bytes, present only when they have exactly the expected length.
    pub data: Option<Vec<u8>>,
    /// `(aspect, message)` for every problem found.
    pub problems: Vec<(&'static str, String)>,
    /// Whether the file existed and was examined (its size or its bytes).
    pub read: bool,
}

impl Payload {
    fn failed(aspect: &'static str, message: String, read: bool) -> Self {
        Payload {
            data: None,
            problems: vec![(aspect, message)],
            read,
        }
    }
}

/// Reads `rel` (a safe relative path) under `dir`; `expected` is the decoded length in bytes.
pub(crate) fn read(dir: &Path, rel: &str, expected: u64) -> Payload {
    let path = rel.split('/').fold(dir.to_path_buf(), |p, seg| p.join(seg));
    let meta = match std::fs::metadata(&path) {
        Ok(meta) if meta.is_file() => meta,
        Ok(_) => return Payload::failed("exists", "is not a regular file".into(), false),
        Err(_) => return Payload::failed("exists", "advertised payload is missing".into(), false),
    };
    if expected > MAX_PAYLOAD_BYTES {
        return Payload::failed(
            "length",
            format!("decodes to {expected} bytes; payloads may not exceed 512 MiB"),
            true,
        );
    }
    if meta.len() > MAX_PAYLOAD_BYTES {
        return Payload::failed("length", format!("is {} bytes; files may not exceed 512 MiB", meta.len()), true);
    }
    if !rel.ends_with(".gz") && meta.len() != expected {
        return Payload::failed("length", format!("is {} bytes, expected exactly {expected}", meta.len()), true);
    }
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) => return Payload::failed("read", format!("cannot be read: {e}"), true),
    };
    if !rel.ends_with(".gz") {
        // The length was checked from the metadata; re-check in case the file changed.
        if bytes.len() as u64 != expected {
            return Payload::failed("length", format!("is {} bytes, expected exactly {expected}", bytes.len()), true);
        }
        return Payload {
            data: Some(bytes),
            problems: Vec::new(),
            read: true,
        };
    }
    let mut out = gunzip(&bytes, expected as usize);
    out.read = true;
    out
}

/// Decodes a single-member gzip file whose decoded size must be `expected`.
pub(crate) fn gunzip(bytes: &[u8], expected: usize) -> Payload {
    let mut problems = Vec::new();
    if bytes.len() < 18 {
        return Payload::failed(
            "gzip.header",
            format!("is {} bytes; a gzip member has at least 18", bytes.len()),
            false,
        );
    }
    if bytes[0] != 0x1f || bytes[1] != 0x8b {
        return Payload::failed("gzip.header", "does not start with the gzip magic 1f 8b".into(), false);
    }
    if bytes[2] != 8 {
        return Payload::failed(
            "gzip.header",
            format!("compression method is {}, expected 8 (deflate)", bytes[2]),
            false,
        );
    }
    let flg = bytes[3];
    if flg & RESERVED != 0 {
        return Payload::failed("gzip.header", format!("reserved FLG bits are set (FLG = {flg:#04x})"), false);
    }
    let tail = bytes.len() - 4;
    let isize = u32::from_le_bytes([bytes[tail], bytes[tail + 1], bytes[tail + 2], bytes[tail + 3]]);
    if isize != expected as u32 {
        problems.push((
            "gzip.isize",
            format!("ISIZE trailer is {isize}, expected {} (decoded size mod 2^32)", expected as u32),
        ));
    }

    let body_start = match header_end(bytes) {
        Ok(end) => end,
        Err(message) => {
            problems.push(("gzip.header", message));
            return Payload {
                data: None,
                problems,
                read: false,
            };
        }
    };

    let mut out = vec![0u8; expected];
    let (produced, consumed) = match inflate(&bytes[body_start..], &mut out) {
        Ok(Inflated::Ended { produced, consumed }) => (produced, consumed),
        Ok(Inflated::TooLong) => {
            problems.push(("length", format!("decodes to more than {expected} bytes")));
            return Payload {
                data: None,
                problems,
                read: false,
            };
        }
        Ok(Inflated::Truncated { produced }) => {
            problems.push((
                "gzip.deflate",
                format!("deflate stream is truncated after {produced} decoded bytes"),
            ));
            return Payload {
                data: None,
                problems,
                read: false,
            };
        }
        Err(message) => {
            problems.push(("gzip.deflate", message));
            return Payload {
                data: None,
                problems,
                read: false,
            };
        }
    };
    let mut data_ok = produced == expected;
    if !data_ok {
        problems.push(("length", format!("decodes to {produced} bytes, expected exactly {expected}")));
    }

    let trailer = body_start + consumed;
    if bytes.len() < trailer + 8 {
        problems.push(("gzip.trailer", "the 8-byte CRC-32/ISIZE trailer is truncated".into()));
        return Payload {
            data: None,
            problems,
            read: false,
        };
    }
    let crc = u32::from_le_bytes([bytes[trailer], bytes[trailer + 1], bytes[trailer + 2], bytes[trailer + 3]]);
    if data_ok && crc != crc32fast::hash(&out) {
        problems.push(("gzip.crc", format!("CRC-32 trailer {crc:#010x} does not match the decoded data")));
        data_ok = false;
    }
    let after = &bytes[trailer + 8..];
    if after.len() >= 2 && after[0] == 0x1f && after[1] == 0x8b {
        problems.push(("gzip.members", "contains more than one gzip member; exactly one is allowed".into()));
    } else if !after.is_empty() {
        problems.push(("gzip.trailing", format!("has {} trailing bytes after the gzip member", after.len())));
    }
    Payload {
        data: data_ok.then_some(out),
        problems,
        read: false,
    }
}

/// The offset of the deflate body (the header walk is `codec::gzip::parse_header`'s),
/// leaving room for a body and the 8-byte trailer.
fn header_end(bytes: &[u8]) -> Result<usize, String> {
    let pos = crate::codec::gzip::parse_header(bytes).map_err(|e| e.to_string())?;
    if pos + 8 > bytes.len() {
        return Err("the header leaves no room for a deflate body and trailer".into());
    }
    Ok(pos)
}

/// How a raw deflate stream ended.
enum Inflated {
    /// The final block was reached: bytes produced and input bytes consumed.
    Ended { produced: usize, consumed: usize },
    /// It produced more than the expected length.
    TooLong,
    /// The input ran out before the final block.
    Truncated { produced: usize },
}

/// Inflates a raw deflate stream into `out`. Output beyond `out.len()` is detected with a
/// scratch buffer, not kept, so an over-long payload costs no extra allocation.
fn inflate(input: &[u8], out: &mut [u8]) -> Result<Inflated, String> {
    let mut inflater = Decompress::new(false);
    let mut scratch = [0u8; 64];
    loop {
        let (in_before, out_before) = (inflater.total_in() as usize, inflater.total_out() as usize);
        let src = &input[in_before..];
        let status = if out_before < out.len() {
            inflater.decompress(src, &mut out[out_before..], FlushDecompress::None)
        } else {
            inflater.decompress(src, &mut scratch, FlushDecompress::None)
        }
        .map_err(|e| format!("corrupt deflate data: {e}"))?;
        let (in_after, out_after) = (inflater.total_in() as usize, inflater.total_out() as usize);
        if out_after > out.len() {
            return Ok(Inflated::TooLong);
        }
        if status == Status::StreamEnd {
            return Ok(Inflated::Ended {
                produced: out_after,
                consumed: in_after,
            });
        }
        if in_after == in_before && out_after == out_before {
            return Ok(Inflated::Truncated { produced: out_after });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{write::GzEncoder, Compression};
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::new(6));
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    fn aspects(p: &Payload) -> Vec<&'static str> {
        p.problems.iter().map(|(a, _)| *a).collect()
    }

    #[test]
    fn single_member_round_trips() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        let p = gunzip(&gz(&data), data.len());
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.data.as_deref(), Some(&data[..]));
    }

    #[test]
    fn empty_member_is_twenty_bytes_and_valid() {
        let bytes = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let p = gunzip(&bytes, 0);
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.data, Some(Vec::new()));
    }

    #[test]
    fn two_members_are_refused() {
        let data = b"hello world".repeat(10);
        let mut bytes = gz(&data);
        bytes.extend(gz(&data));
        let p = gunzip(&bytes, data.len());
        assert_eq!(aspects(&p), vec!["gzip.members"]);
    }

    #[test]
    fn wrong_isize_and_length() {
        let data = vec![7u8; 100];
        let p = gunzip(&gz(&data), 101);
        assert_eq!(aspects(&p), vec!["gzip.isize", "length"]);
        assert!(p.data.is_none());
    }

    #[test]
    fn longer_than_expected() {
        let data = vec![7u8; 100_000];
        let mut bytes = gz(&data);
        let n = bytes.len();
        bytes[n - 4..].copy_from_slice(&10u32.to_le_bytes());
        let p = gunzip(&bytes, 10);
        assert_eq!(aspects(&p), vec!["length"]);
    }

    #[test]
    fn bad_envelopes() {
        let data = vec![1u8; 50];
        let good = gz(&data);
        let mut bad_magic = good.clone();
        bad_magic[0] = 0;
        assert_eq!(aspects(&gunzip(&bad_magic, 50)), vec!["gzip.header"]);
        let mut reserved = good.clone();
        reserved[3] = 0x20;
        assert_eq!(aspects(&gunzip(&reserved, 50)), vec!["gzip.header"]);
        assert_eq!(aspects(&gunzip(&good[..12], 50)), vec!["gzip.header"]);
        let mut trailing = good.clone();
        trailing.extend([0, 0, 0]);
        // The ISIZE now reads the padding, and the padding is trailing data.
        assert_eq!(aspects(&gunzip(&trailing, 50)), vec!["gzip.isize", "gzip.trailing"]);
        let mut crc = good.clone();
        let n = crc.len();
        crc[n - 8] ^= 1;
        assert_eq!(aspects(&gunzip(&crc, 50)), vec!["gzip.crc"]);
        let truncated = &good[..good.len() - 9];
        assert!(gunzip(truncated, 50).data.is_none());
    }
}
