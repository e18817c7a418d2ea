//! `var_manifest.json` and the gene payloads it advertises (VIEWER.md B.5, B.11).

use std::collections::HashSet;

use serde_json::Value;

use super::json::{self, idx, key};
use super::obs::{bounds, check_dense, storage};
use super::values::{Content, Job};
use super::{paths, Problem, Sink, VAR_MANIFEST};

const KEYS: &[&str] = &[
    "_format",
    "n_points",
    "var_gene_id_column",
    "compression",
    "quantization",
    "_varSchema",
    "fields",
];
const SCHEMA: &[&str] = &["kind", "pathPattern", "ext", "dtype", "quantized"];

/// What the rest of the validator needs from the var manifest.
#[derive(Clone, Debug, Default)]
pub(crate) struct Var {
    pub n_points: Option<u64>,
    pub compression: Option<Option<u32>>,
    /// The manifest's `quantization` (`Some(None)`: null).
    pub quantization: Option<Option<u32>>,
    pub n_fields: Option<u64>,
    /// Whether every gene's payload path could be derived (see `Obs::complete`).
    pub complete: bool,
    jobs: Vec<Job>,
}

impl Var {
    pub(crate) fn payload_jobs(&self) -> Vec<Job> {
        self.jobs.clone()
    }
}

/// Checks the manifest and builds one job per gene.
pub(crate) fn check(doc: &Value, problems: &mut Vec<Problem>) -> Var {
    let mut out = Var::default();
    let mut s = Sink::new(VAR_MANIFEST, problems);
    let Some(top) = json::object(&mut s, "", doc) else { return out };
    json::exact_keys(&mut s, "", top, KEYS, &[]);
    json::expect_str(&mut s, "", top, "_format", "compact_v1");
    out.n_points = json::positive_count(&mut s, "", top, "n_points");
    if let Some(v) = top.get("var_gene_id_column") {
        if !v.is_null() && v.as_str().is_none_or(|c| c.is_empty()) {
            s.report("var_gene_id_column", format!("must be null or a non-empty string, found {v}"));
        }
    }
    out.compression = json::compression(&mut s, "", top, "compression");
    out.quantization = json::bits_or_null(&mut s, "", top, "quantization");

    let mut pattern = None;
    let mut bits = None;
    if let Some(schema) = top.get("_varSchema").and_then(|v| json::object(&mut s, "_varSchema", v)) {
        let path = "_varSchema";
        let quantized = json::boolean(&mut s, path, schema, "quantized");
        let mut required = SCHEMA.to_vec();
        if quantized == Some(true) {
            required.push("quantizationBits");
        }
        let optional: &[&str] = if quantized.is_none() { &["quantizationBits"] } else { &[] };
        json::exact_keys(&mut s, path, schema, &required, optional);
        json::expect_str(&mut s, path, schema, "kind", "continuous");
        bits = quantized.and_then(|q| storage(&mut s, path, schema, q, "ext", "dtype", Some("quantizationBits")));
        if let (Some(b), Some(q)) = (bits, out.quantization) {
            if b != q {
                s.report("quantization", format!("is {} but _varSchema stores {}", show(q), show(b)));
            }
        }
        if let (Some(b), Some(p)) = (bits, json::string(&mut s, path, schema, "pathPattern")) {
            let ending = format!("{{index}}.values.{}", ext(b));
            let compressed = out.compression.map(|c| c.is_some());
            if paths::check_pattern(&mut s, &key(path, "pathPattern"), p, false, &ending, compressed) {
                pattern = Some(p.to_string());
            }
        }
    }

    let Some(fields) = top.get("fields").and_then(|v| json::array(&mut s, "fields", v)) else {
        return out;
    };
    out.n_fields = Some(fields.len() as u64);
    out.complete = true;
    let expected_len = bits.map(|b| if b.is_some() { 4 } else { 2 });
    let width = match bits {
        Some(None) => 4,
        Some(Some(16)) => 2,
        _ => 1,
    };
    let content = match bits {
        Some(Some(b)) => Content::ContinuousQuantized { bits: b },
        _ => Content::Continuous,
    };
    let mut indices = Vec::with_capacity(fields.len());
    let mut names: HashSet<&str> = HashSet::with_capacity(fields.len());
    for (i, item) in fields.iter().enumerate() {
        let path = idx("fields", i);
        let Some(tuple) = json::array(&mut s, &path, item) else {
            out.complete = false;
            continue;
        };
        let len_ok = match expected_len {
            Some(l) => tuple.len() == l,
            None => tuple.len() == 2 || tuple.len() == 4,
        };
        if !len_ok {
            s.report(
                &path,
                format!(
                    "must have {} elements, found {}",
                    expected_len.map_or("2 or 4".into(), |l| l.to_string()),
                    tuple.len()
                ),
            );
        }
        let index = tuple.first().and_then(|v| {
            let index = json::safe_count(v);
            match index {
                Some(n) => indices.push((n, idx(&path, 0))),
                None => s.report(idx(&path, 0), format!("index must be a non-negative safe integer, found {v}")),
            }
            index
        });
        let name = tuple.get(1).and_then(|v| match v.as_str() {
            Some(name) if !name.is_empty() => {
                if !names.insert(name) {
                    s.report(idx(&path, 1), format!("duplicate gene name {name:?}"));
                }
                Some(name)
            }
            _ => {
                s.report(idx(&path, 1), format!("gene name must be a non-empty string, found {v}"));
                None
            }
        });
        if tuple.len() == 4 {
            bounds(&mut s, &path, tuple, 2, false);
        }
        if let (Some(index), Some(pattern), Some(_)) = (index, &pattern, bits) {
            out.jobs.push(Job {
                path: paths::expand(pattern, index, ""),
                len: out.n_points.and_then(|n| n.checked_mul(width)),
                content,
                label: format!("gene {:?}", name.unwrap_or("?")),
                source: VAR_MANIFEST,
                source_field: path,
            });
        } else {
            out.complete = false;
        }
    }
    check_dense(&mut s, &indices);
    out
}

fn ext(bits: Option<u32>) -> &'static str {
    match bits {
        None => "f32",
        Some(16) => "u16",
        Some(_) => "u8",
    }
}

fn show(bits: Option<u32>) -> String {
    bits.map_or("null (float32)".into(), |b| format!("{b}-bit codes"))
}
