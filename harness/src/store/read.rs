//! Reading a result file, tolerating the one kind of damage a crash can cause: an
//! unterminated last line (the writer was killed inside `write`).

use super::error::{io, StoreError};
use super::record::{Header, Sample, FORMAT, VERSION};
use std::path::Path;

/// The ignored partial last line of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Truncated {
    /// 1-based line number.
    pub line: usize,
    pub bytes: usize,
}

/// Everything in a result file.
#[derive(Clone, Debug)]
pub struct Contents {
    pub header: Header,
    pub samples: Vec<Sample>,
    /// A partial last line that was ignored.
    pub truncated: Option<Truncated>,
    /// Length of the file up to the end of the last record kept.
    pub(crate) valid_len: u64,
    /// The last record kept has no newline after it (complete JSON, cut before `\n`).
    pub(crate) missing_newline: bool,
}

/// Why a file has no usable header; resume starts such a file afresh.
pub(crate) enum Parsed {
    Ok(Box<Contents>),
    /// Empty, or only a partial first line: a writer died while creating the file.
    NoHeader,
}

pub(crate) fn parse(path: &Path, bytes: &[u8]) -> Result<Parsed, StoreError> {
    let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    // After the last '\n' comes either nothing or an unterminated tail.
    let tail = lines.pop().filter(|t| !t.is_empty());
    let Some(first) = lines.first() else { return Ok(Parsed::NoHeader) };
    let header: Header = serde_json::from_slice(first)
        .map_err(|e| StoreError::BadHeader { path: path.to_path_buf(), reason: e.to_string() })?;
    if header.format != FORMAT {
        return Err(StoreError::BadHeader { path: path.to_path_buf(), reason: format!("format is {:?}, not {FORMAT:?}", header.format) });
    }
    if header.version > VERSION {
        return Err(StoreError::BadHeader {
            path: path.to_path_buf(),
            reason: format!("version {} is newer than this harness reads ({VERSION})", header.version),
        });
    }
    let mut samples = Vec::with_capacity(lines.len());
    let mut offset = first.len() + 1;
    for (i, line) in lines.iter().enumerate().skip(1) {
        offset += line.len() + 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let mut s: Sample = serde_json::from_slice(line)
            .map_err(|e| StoreError::BadLine { path: path.to_path_buf(), line: i + 1, reason: e.to_string() })?;
        s.normalize_writer();
        samples.push(s);
    }
    let mut truncated = None;
    let mut missing_newline = false;
    let mut valid_len = offset as u64;
    if let Some(t) = tail {
        match serde_json::from_slice::<Sample>(t) {
            Ok(mut s) => {
                s.normalize_writer();
                samples.push(s);
                missing_newline = true;
                valid_len += t.len() as u64;
            }
            Err(_) => truncated = Some(Truncated { line: lines.len() + 1, bytes: t.len() }),
        }
    }
    Ok(Parsed::Ok(Box::new(Contents { header, samples, truncated, valid_len, missing_newline })))
}

/// Reads a whole result file. A partial last line is ignored and reported in
/// [`Contents::truncated`]; any other damage is an error naming the line.
pub fn read_contents(path: &Path) -> Result<Contents, StoreError> {
    let bytes = std::fs::read(path).map_err(io(path))?;
    match parse(path, &bytes)? {
        Parsed::Ok(c) => Ok(*c),
        Parsed::NoHeader => Err(StoreError::NoHeader { path: path.to_path_buf() }),
    }
}

/// Reads a result file: its header and samples. A partial last line (a run interrupted
/// mid-write) is ignored with a warning on stderr, never an error.
pub fn read(path: &Path) -> Result<(Header, Vec<Sample>), StoreError> {
    let c = read_contents(path)?;
    if let Some(t) = &c.truncated {
        eprintln!(
            "warning: {}: ignored a partial last line ({} bytes at line {}): a run was interrupted while it was being stored",
            path.display(),
            t.bytes,
            t.line
        );
    }
    Ok((c.header, c.samples))
}
