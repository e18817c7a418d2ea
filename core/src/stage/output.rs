//! Writing payload files into the staging directory: raw, or as one gzip member,
//! with byte and file accounting.

use crate::codec::{GzipEncoder, PayloadEncoder, PayloadKind, ZstdEncoder};
use crate::error::{IoContext, Result};
use crate::options::{Durability, ExportOptions, GzipBackend};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The staging directory plus how payloads are encoded into it.
pub struct Output {
    root: PathBuf,
    level: Option<u32>,
    backend: GzipBackend,
    zstd: Option<i32>,
    durable: bool,
    files: AtomicU64,
    dirs: AtomicU64,
    raw_bytes: AtomicU64,
    bytes: AtomicU64,
}

/// What a write added: files, raw payload bytes, bytes on disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Written {
    pub files: u64,
    pub raw_bytes: u64,
    pub bytes: u64,
}

impl std::ops::AddAssign for Written {
    fn add_assign(&mut self, o: Written) {
        self.files += o.files;
        self.raw_bytes += o.raw_bytes;
        self.bytes += o.bytes;
    }
}

impl Output {
    pub fn new(root: &Path, options: &ExportOptions) -> Self {
        Output {
            root: root.to_path_buf(),
            level: options.gzip_level(),
            backend: options.gzip_backend,
            zstd: options.zstd_what_if,
            durable: options.durability == Durability::Durable,
            files: AtomicU64::new(0),
            dirs: AtomicU64::new(0),
            raw_bytes: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
        }
    }

    /// `".gz"` when payloads are gzipped, `".zst"` for the zstd what-if, else `""`.
    pub fn suffix(&self) -> &'static str {
        if self.level.is_some() {
            ".gz"
        } else if self.zstd.is_some() {
            ".zst"
        } else {
            ""
        }
    }

    /// A new encoder for this output's codec, if compressing.
    pub fn encoder(&self) -> Option<PayloadEncoder> {
        if let Some(l) = self.level {
            return Some(PayloadEncoder::Gzip(GzipEncoder::new(l, self.backend)));
        }
        // A zstd context that cannot be created (out of memory) leaves payloads raw;
        // the level itself was validated with the options.
        self.zstd.and_then(|z| ZstdEncoder::new(z).ok()).map(PayloadEncoder::Zstd)
    }

    /// Create a directory below the root.
    pub fn mkdir(&self, rel: &str) -> Result<()> {
        let p = self.root.join(rel);
        fs::create_dir(&p).ctx("cannot create directory", &p)?;
        self.dirs.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Write a payload at `rel` (which already carries `.gz` when compressing), using a
    /// fresh encoder. For many payloads on one thread use [`Output::write_with`].
    pub fn write(&self, rel: &str, payload: &[u8]) -> Result<Written> {
        let mut enc = self.encoder();
        let mut scratch = Vec::new();
        self.write_with(rel, payload, enc.as_mut(), &mut scratch)
    }

    /// Write a payload, compressing with `enc` (if compressing) into `scratch`.
    pub fn write_with(
        &self,
        rel: &str,
        payload: &[u8],
        enc: Option<&mut PayloadEncoder>,
        scratch: &mut Vec<u8>,
    ) -> Result<Written> {
        let bytes: &[u8] = match enc {
            Some(enc) => {
                let p = self.root.join(rel);
                enc.encode(PayloadKind::of_path(rel), payload, scratch).ctx("cannot compress", &p)?;
                scratch
            }
            None => payload,
        };
        self.write_file(rel, bytes)?;
        let w = Written { files: 1, raw_bytes: payload.len() as u64, bytes: bytes.len() as u64 };
        self.account(w);
        Ok(w)
    }

    /// Write a JSON document (never compressed).
    pub fn write_json(&self, rel: &str, text: &str) -> Result<Written> {
        self.write_file(rel, text.as_bytes())?;
        let n = text.len() as u64;
        let w = Written { files: 1, raw_bytes: n, bytes: n };
        self.account(w);
        Ok(w)
    }

    fn account(&self, w: Written) {
        self.files.fetch_add(w.files, Ordering::Relaxed);
        self.raw_bytes.fetch_add(w.raw_bytes, Ordering::Relaxed);
        self.bytes.fetch_add(w.bytes, Ordering::Relaxed);
    }

    fn write_file(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        let p = self.root.join(rel);
        let mut f = File::create(&p).ctx("cannot create", &p)?;
        f.write_all(bytes).ctx("cannot write", &p)?;
        if self.durable {
            f.sync_all().ctx("cannot fsync", &p)?;
        }
        Ok(())
    }

    /// Totals so far: (files, directories, raw bytes, bytes on disk).
    pub fn totals(&self) -> (u64, u64, u64, u64) {
        (
            self.files.load(Ordering::Relaxed),
            self.dirs.load(Ordering::Relaxed),
            self.raw_bytes.load(Ordering::Relaxed),
            self.bytes.load(Ordering::Relaxed),
        )
    }
}

/// Little-endian bytes of f32 values.
pub fn f32_bytes(v: &[f32], out: &mut Vec<u8>) {
    out.clear();
    out.reserve(v.len() * 4);
    for x in v {
        out.extend_from_slice(&x.to_le_bytes());
    }
}

/// Little-endian bytes of f64 values.
pub fn f64_bytes(v: &[f64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len() * 8);
    for x in v {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}
