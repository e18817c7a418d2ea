//! Content rules for decoded payloads (VIEWER.md B.7, B.8, B.11, B.12, B.14).
//!
//! A [`Job`] is one advertised payload with its exact decoded length and the rule its
//! values follow. Points and vectors must be finite; continuous obs and genes may hold
//! NaN but not ±Infinity and not only NaN; categorical codes must be below the category
//! count or the marker; outlier quantiles must decode into [0, 1] or NaN.

use std::path::Path;

use crate::codec::quantize::{dequantize, marker, Bounds};

use super::{payload, problem, Problem};

/// How many offending cells a message lists (the viewer names the first 5).
const SHOWN: usize = 5;

/// One advertised payload to check.
#[derive(Clone, Debug)]
pub(crate) struct Job {
    /// Path relative to the root (already known to be safe).
    pub path: String,
    /// Exact decoded length in bytes; `None` when the cell count is unknown (already
    /// reported), in which case only the file's presence is checked.
    pub len: Option<u64>,
    pub content: Content,
    /// What the payload belongs to (field key, gene name, embedding), for messages.
    pub label: String,
    /// The JSON file and key path that advertise it (for duplicate-path reports).
    pub source: &'static str,
    pub source_field: String,
}

/// The value rule of a payload.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Content {
    /// float32, every value finite (points, vectors).
    Finite,
    /// float32 continuous obs or gene: NaN allowed, ±Inf refused, not all NaN.
    Continuous,
    /// Quantized continuous obs or gene: the marker decodes to NaN, so not all markers.
    ContinuousQuantized { bits: u32 },
    /// Categorical codes: below `n_categories` or the marker.
    Codes { bits: u32, n_categories: u64 },
    /// float32 outlier quantiles: NaN or within [0, 1].
    Outliers,
    /// Quantized outlier quantiles: every code decodes to NaN or into [0, 1].
    OutliersQuantized { bits: u32, min: f64, max: f64 },
    /// Only the length or envelope: the value rule is unknown because the manifest
    /// entry that defines it is invalid (and already reported).
    Opaque,
}

/// Reads and checks one payload. Returns whether the file was read, and its problems.
pub(crate) fn check_job(dir: &Path, job: &Job) -> (bool, Vec<Problem>) {
    let Some(len) = job.len else {
        let path = job.path.split('/').fold(dir.to_path_buf(), |p, seg| p.join(seg));
        if path.is_file() {
            return (false, Vec::new());
        }
        return (false, vec![problem(&job.path, "exists", "advertised payload is missing")]);
    };
    let read = payload::read(dir, &job.path, len);
    let mut problems: Vec<Problem> = read
        .problems
        .iter()
        .map(|(aspect, message)| problem(&job.path, *aspect, message.clone()))
        .collect();
    if let Some(data) = &read.data {
        if let Some((aspect, message)) = check_content(data, job.content, &job.label) {
            problems.push(problem(&job.path, aspect, message));
        }
    }
    (read.read, problems)
}

/// The first rule `data` breaks, as `(aspect, message)`.
pub(crate) fn check_content(data: &[u8], content: Content, label: &str) -> Option<(&'static str, String)> {
    match content {
        Content::Opaque => None,
        Content::Finite => {
            let bad = positions(floats(data), |v| !v.is_finite());
            (!bad.is_empty()).then(|| {
                (
                    "values",
                    format!("{label}: {} non-finite values; first at {}", bad.len(), shown(&bad)),
                )
            })
        }
        Content::Continuous => {
            let inf = positions(floats(data), |v| v.is_infinite());
            if !inf.is_empty() {
                return Some(("values", format!("{label}: ±Infinity in {} cells ({})", inf.len(), shown(&inf))));
            }
            all_missing(floats(data).all(|v| v.is_nan()), data.len() / 4, label)
        }
        Content::ContinuousQuantized { bits } => {
            let mark = marker(bits);
            all_missing(codes(data, bits).all(|c| c == mark), data.len() / width(bits), label)
        }
        Content::Codes { bits, n_categories } => {
            let mark = marker(bits) as u64;
            let mut first = None;
            let mut count = 0usize;
            let mut cells = Vec::new();
            for (cell, code) in codes(data, bits).enumerate() {
                let code = code as u64;
                if code >= n_categories && code != mark {
                    count += 1;
                    first.get_or_insert(code);
                    if cells.len() < SHOWN {
                        cells.push(cell);
                    }
                }
            }
            first.map(|code| {
                ("codes", format!("{label}: {count} codes are neither below n_categories = {n_categories} nor the marker {mark} (first code {code}; cells {})", shown(&cells)))
            })
        }
        Content::Outliers => {
            let bad = positions(floats(data), |v| !v.is_nan() && !(0.0..=1.0).contains(&v));
            (!bad.is_empty()).then(|| {
                (
                    "values",
                    format!(
                        "{label}: {} outlier quantiles outside [0, 1] and not NaN ({})",
                        bad.len(),
                        shown(&bad)
                    ),
                )
            })
        }
        Content::OutliersQuantized { bits, min, max } => {
            // Decode each distinct code once: a table over the 256 or 65,536 possible codes.
            let bounds = Bounds { min, max };
            let valid: Vec<bool> = (0..=marker(bits))
                .map(|code| {
                    let v = dequantize(code, bounds, bits);
                    v.is_nan() || (0.0..=1.0).contains(&v)
                })
                .collect();
            let bad: Vec<usize> = codes(data, bits)
                .enumerate()
                .filter(|(_, c)| !valid[*c as usize])
                .map(|(cell, _)| cell)
                .collect();
            (!bad.is_empty()).then(|| {
                (
                    "values",
                    format!("{label}: {} outlier quantiles decode outside [0, 1] ({})", bad.len(), shown(&bad)),
                )
            })
        }
    }
}

fn width(bits: u32) -> usize {
    if bits == 16 {
        2
    } else {
        1
    }
}

fn floats(data: &[u8]) -> impl Iterator<Item = f32> + '_ {
    data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn codes(data: &[u8], bits: u32) -> Box<dyn Iterator<Item = u32> + '_> {
    if bits == 16 {
        Box::new(data.chunks_exact(2).map(|b| u16::from_le_bytes([b[0], b[1]]) as u32))
    } else {
        Box::new(data.iter().map(|b| *b as u32))
    }
}

/// Every position where `bad` holds (values are element indices).
fn positions(values: impl Iterator<Item = f32>, bad: impl Fn(f32) -> bool) -> Vec<usize> {
    values.enumerate().filter(|(_, v)| bad(*v)).map(|(i, _)| i).collect()
}

fn shown(cells: &[usize]) -> String {
    let list: Vec<String> = cells.iter().take(SHOWN).map(|c| c.to_string()).collect();
    format!("cells {}", list.join(", "))
}

fn all_missing(all_nan: bool, n: usize, label: &str) -> Option<(&'static str, String)> {
    (all_nan && n > 0).then(|| ("values", format!("{label}: has no value in any of {n} cells")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f32s(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn continuous_rules() {
        assert!(check_content(&f32s(&[1.0, f32::NAN]), Content::Continuous, "x").is_none());
        assert!(check_content(&f32s(&[1.0, f32::INFINITY]), Content::Continuous, "x").is_some());
        assert!(check_content(&f32s(&[f32::NAN, f32::NAN]), Content::Continuous, "x").is_some());
        assert!(check_content(&f32s(&[1.0, f32::NAN]), Content::Finite, "x").is_some());
        assert!(check_content(&[255, 255], Content::ContinuousQuantized { bits: 8 }, "x").is_some());
        assert!(check_content(&[255, 0], Content::ContinuousQuantized { bits: 8 }, "x").is_none());
    }

    #[test]
    fn code_rules() {
        let c = Content::Codes { bits: 8, n_categories: 3 };
        assert!(check_content(&[0, 2, 255], c, "x").is_none());
        let (aspect, message) = check_content(&[0, 3, 255, 7], c, "x").unwrap();
        assert_eq!(aspect, "codes");
        assert!(message.contains("2 codes"), "{message}");
        let c16 = Content::Codes {
            bits: 16,
            n_categories: 300,
        };
        assert!(check_content(&[43, 1, 255, 255], c16, "x").is_none());
        assert!(check_content(&[44, 1], c16, "x").is_some());
    }

    #[test]
    fn outlier_rules() {
        assert!(check_content(&f32s(&[0.5, 1.0, f32::NAN]), Content::Outliers, "x").is_none());
        assert!(check_content(&f32s(&[1.5]), Content::Outliers, "x").is_some());
        let q = Content::OutliersQuantized {
            bits: 8,
            min: 0.02,
            max: 1.0,
        };
        assert!(check_content(&[0, 254, 255], q, "x").is_none());
        let q = Content::OutliersQuantized {
            bits: 8,
            min: 0.5,
            max: 1.5,
        };
        assert!(check_content(&[0, 255], q, "x").is_none());
        assert!(check_content(&[254], q, "x").is_some());
    }
}
