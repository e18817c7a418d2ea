//! `obs_manifest.json` and the obs payloads it advertises (VIEWER.md B.4, B.11, B.12).

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::json::{self, idx, key, Scalar};
use super::values::{Content, Job};
use super::{paths, Problem, Sink, OBS_MANIFEST};

const KEYS: &[&str] = &[
    "_format",
    "n_points",
    "centroid_outlier_quantile",
    "latent_key",
    "compression",
    "_obsSchemas",
    "_continuousFields",
    "_categoricalFields",
];
const CONTINUOUS_SCHEMA: &[&str] = &["pathPattern", "ext", "dtype", "quantized"];
const CATEGORICAL_SCHEMA: &[&str] = &[
    "codesPathPattern",
    "outlierPathPattern",
    "outlierExt",
    "outlierDtype",
    "outlierQuantized",
];
const CENTROID: &[&str] = &["category", "position", "n_points"];

/// A continuous field as the manifest lists it (for the identity cross-check).
#[derive(Clone, Debug)]
pub(crate) struct ContinuousField {
    pub key: Option<String>,
}

/// A categorical field as the manifest lists it.
#[derive(Clone, Debug)]
pub(crate) struct CategoricalField {
    pub key: Option<String>,
    pub n_categories: Option<u64>,
    /// 8 or 16, from `codesDtype`.
    pub codes_bits: Option<u32>,
}

/// The continuous schema: `None` bits means float32.
#[derive(Clone, Debug)]
struct ValueSchema {
    pattern: Option<String>,
    bits: Option<Option<u32>>,
}

/// The categorical schema; `outlier_bits` is `Some(None)` for float32, and the whole
/// outlier part is `None` when the trio is null or invalid.
#[derive(Clone, Debug)]
struct CategorySchema {
    codes_pattern: Option<String>,
    outlier_pattern: Option<String>,
    outlier_bits: Option<Option<u32>>,
    outlier_quantized: Option<bool>,
    /// The outlier trio is validly null: no outlier files exist.
    outliers_null: bool,
}

/// What the rest of the validator needs from the obs manifest.
#[derive(Clone, Debug, Default)]
pub(crate) struct Obs {
    pub n_points: Option<u64>,
    pub compression: Option<Option<u32>>,
    /// The continuous schema's quantization (`Some(None)`: float32), if the schema is valid.
    pub continuous_bits: Option<Option<u32>>,
    /// The outlier quantization (`Some(None)`: float32), if the schema is valid and not null.
    pub outlier_bits: Option<Option<u32>>,
    pub continuous: Vec<ContinuousField>,
    pub categorical: Vec<CategoricalField>,
    /// Whether every payload the manifest means could be derived; when not, files under
    /// `obs/` cannot be judged "undeclared".
    pub complete: bool,
    jobs: Vec<Job>,
}

impl Obs {
    pub(crate) fn payload_jobs(&self) -> Vec<Job> {
        self.jobs.clone()
    }
}

/// Width in bytes of a payload element: float32, or 8/16-bit codes.
fn width(bits: Option<u32>) -> u64 {
    match bits {
        None => 4,
        Some(16) => 2,
        Some(_) => 1,
    }
}

fn ext_of(bits: Option<u32>) -> &'static str {
    match bits {
        None => "f32",
        Some(16) => "u16",
        Some(_) => "u8",
    }
}

/// Checks the manifest and builds its payload jobs.
pub(crate) fn check(doc: &Value, problems: &mut Vec<Problem>) -> Obs {
    let mut out = Obs::default();
    let mut s = Sink::new(OBS_MANIFEST, problems);
    let Some(top) = json::object(&mut s, "", doc) else { return out };
    json::exact_keys(&mut s, "", top, KEYS, &[]);
    json::expect_str(&mut s, "", top, "_format", "compact_v1");
    out.n_points = json::positive_count(&mut s, "", top, "n_points");
    out.compression = json::compression(&mut s, "", top, "compression");
    if let Some(v) = top.get("centroid_outlier_quantile") {
        if !v.is_null() && !v.as_f64().is_some_and(|q| q.is_finite() && q > 0.0 && q < 1.0) {
            s.report(
                "centroid_outlier_quantile",
                format!("must be null or a number strictly between 0 and 1, found {v}"),
            );
        }
    }
    if let Some(v) = top.get("latent_key") {
        if !v.is_null() && v.as_str().is_none_or(|k| k.is_empty()) {
            s.report("latent_key", format!("must be null or a non-empty string, found {v}"));
        }
    }
    let compressed = out.compression.map(|c| c.is_some());
    out.complete = true;

    let cont_items = top
        .get("_continuousFields")
        .and_then(|v| json::array(&mut s, "_continuousFields", v));
    let cat_items = top
        .get("_categoricalFields")
        .and_then(|v| json::array(&mut s, "_categoricalFields", v));

    let mut value_schema = None;
    let mut category_schema = None;
    if let Some(schemas) = top.get("_obsSchemas").and_then(|v| json::object(&mut s, "_obsSchemas", v)) {
        let mut required = Vec::new();
        if cont_items.is_some_and(|a| !a.is_empty()) {
            required.push("continuous");
        }
        if cat_items.is_some_and(|a| !a.is_empty()) {
            required.push("categorical");
        }
        // Without the arrays the required set is unknown: only refuse unknown keys.
        let optional: &[&str] = if cont_items.is_some() && cat_items.is_some() {
            &[]
        } else {
            &["continuous", "categorical"]
        };
        json::exact_keys(&mut s, "_obsSchemas", schemas, &required, optional);
        if let Some(v) = schemas
            .get("continuous")
            .and_then(|v| json::object(&mut s, "_obsSchemas.continuous", v))
        {
            value_schema = Some(check_value_schema(&mut s, v, compressed));
        }
        if let Some(v) = schemas
            .get("categorical")
            .and_then(|v| json::object(&mut s, "_obsSchemas.categorical", v))
        {
            category_schema = Some(check_category_schema(&mut s, v, compressed));
        }
    }
    if cont_items.is_none() || cat_items.is_none() {
        out.complete = false;
    }
    out.continuous_bits = value_schema.as_ref().and_then(|v| v.bits);
    out.outlier_bits = category_schema.as_ref().and_then(|c| c.outlier_bits);

    // Indices of both arrays share one space 0..N-1; keys are unique across both.
    let mut indices: Vec<(u64, String)> = Vec::new();
    let mut keys: HashSet<String> = HashSet::new();
    let n = out.n_points;

    for (i, item) in cont_items.map(Vec::as_slice).unwrap_or(&[]).iter().enumerate() {
        let path = idx("_continuousFields", i);
        let Some(tuple) = json::array(&mut s, &path, item) else {
            out.complete = false;
            out.continuous.push(ContinuousField { key: None });
            continue;
        };
        let bits = value_schema.as_ref().and_then(|v| v.bits);
        let expected_len = bits.map(|b| if b.is_some() { 4 } else { 2 });
        if !matches!((tuple.len(), expected_len), (2 | 4, None)) && Some(tuple.len()) != expected_len {
            s.report(
                &path,
                format!(
                    "must have {} elements, found {}",
                    expected_len.map_or("2 or 4".into(), |l| l.to_string()),
                    tuple.len()
                ),
            );
        }
        let index = tuple_index(&mut s, &path, tuple, &mut indices);
        let field_key = tuple_key(&mut s, &path, tuple, &mut keys);
        if tuple.len() == 4 {
            bounds(&mut s, &path, tuple, 2, false);
        }
        if let (Some(index), Some(Some(pattern)), Some(bits)) = (index, value_schema.as_ref().map(|v| v.pattern.clone()), bits) {
            let content = match bits {
                None => Content::Continuous,
                Some(bits) => Content::ContinuousQuantized { bits },
            };
            out.jobs
                .push(job(paths::expand(&pattern, index, ""), n, width(bits), content, &field_key, path));
        } else {
            out.complete = false;
        }
        out.continuous.push(ContinuousField { key: field_key });
    }

    for (i, item) in cat_items.map(Vec::as_slice).unwrap_or(&[]).iter().enumerate() {
        let path = idx("_categoricalFields", i);
        let Some(tuple) = json::array(&mut s, &path, item) else {
            out.complete = false;
            out.categorical.push(CategoricalField {
                key: None,
                n_categories: None,
                codes_bits: None,
            });
            continue;
        };
        let field = check_category_field(&mut s, &path, tuple, category_schema.as_ref(), n, &mut indices, &mut keys);
        let (Some(index), Some(schema)) = (field.index, category_schema.as_ref()) else {
            out.complete = false;
            out.categorical.push(field.entry);
            continue;
        };
        if let (Some(pattern), Some(bits)) = (&schema.codes_pattern, field.entry.codes_bits) {
            // Unknown categories still leave the length and envelope to check.
            let content = match field.entry.n_categories {
                Some(n_categories) => Content::Codes { bits, n_categories },
                None => Content::Opaque,
            };
            out.jobs.push(job(
                paths::expand(pattern, index, ext_of(Some(bits))),
                n,
                width(Some(bits)),
                content,
                &field.entry.key,
                key(&path, "codes"),
            ));
        } else {
            out.complete = false;
        }
        if let (Some(pattern), Some(bits)) = (&schema.outlier_pattern, schema.outlier_bits) {
            let content = match (bits, field.outlier_bounds) {
                (None, _) => Content::Outliers,
                (Some(bits), Some((min, max))) => Content::OutliersQuantized { bits, min, max },
                (Some(_), None) => Content::Opaque,
            };
            out.jobs.push(job(
                paths::expand(pattern, index, ""),
                n,
                width(bits),
                content,
                &field.entry.key,
                key(&path, "outliers"),
            ));
        } else if !schema.outliers_null {
            out.complete = false;
        }
        out.categorical.push(field.entry);
    }

    check_dense(&mut s, &indices);
    out
}

fn job(path: String, n: Option<u64>, width: u64, content: Content, field_key: &Option<String>, source_field: String) -> Job {
    Job {
        path,
        len: n.and_then(|n| n.checked_mul(width)),
        content,
        label: format!("obs field {:?}", field_key.as_deref().unwrap_or("?")),
        source: OBS_MANIFEST,
        source_field,
    }
}

/// The continuous schema (B.4): exact keys, a consistent (bits, dtype, ext) triple, the pattern.
fn check_value_schema(s: &mut Sink, obj: &Map<String, Value>, compressed: Option<bool>) -> ValueSchema {
    let path = "_obsSchemas.continuous";
    let quantized = json::boolean(s, path, obj, "quantized");
    let optional: &[&str] = if quantized.is_none() { &["quantizationBits"] } else { &[] };
    let mut required = CONTINUOUS_SCHEMA.to_vec();
    if quantized == Some(true) {
        required.push("quantizationBits");
    }
    json::exact_keys(s, path, obj, &required, optional);
    let bits = quantized.and_then(|q| storage(s, path, obj, q, "ext", "dtype", Some("quantizationBits")));
    let pattern = json::string(s, path, obj, "pathPattern").and_then(|p| {
        let ending = format!("{{index}}.values.{}", ext_of(bits.flatten()));
        let ok = bits.is_some() && paths::check_pattern(s, &key(path, "pathPattern"), p, false, &ending, compressed);
        ok.then(|| p.to_string())
    });
    ValueSchema { pattern, bits }
}

/// The storage triple: unquantized is float32/f32; quantized is (8, uint8, u8) or
/// (16, uint16, u16). Returns `Some(None)` for float32, `Some(Some(bits))` when quantized.
pub(crate) fn storage(
    s: &mut Sink,
    path: &str,
    obj: &Map<String, Value>,
    quantized: bool,
    ext_key: &str,
    dtype_key: &str,
    bits_key: Option<&str>,
) -> Option<Option<u32>> {
    let ext = obj.get(ext_key).and_then(Value::as_str);
    let dtype = obj.get(dtype_key).and_then(Value::as_str);
    let bits = bits_key.and_then(|k| obj.get(k)).and_then(Value::as_u64);
    let found = format!(
        "{dtype_key} {:?}, {ext_key} {:?}{}",
        dtype.unwrap_or("?"),
        ext.unwrap_or("?"),
        bits_key.map_or(String::new(), |k| format!(", {k} {}", bits.map_or("?".into(), |b| b.to_string())))
    );
    if !quantized {
        if dtype == Some("float32") && ext == Some("f32") {
            return Some(None);
        }
        s.report(
            key(path, dtype_key),
            format!("unquantized storage must be float32/f32, found {found}"),
        );
        return None;
    }
    let b = match (dtype, ext) {
        (Some("uint8"), Some("u8")) => 8,
        (Some("uint16"), Some("u16")) => 16,
        _ => {
            s.report(
                key(path, dtype_key),
                format!("quantized storage must be uint8/u8 or uint16/u16, found {found}"),
            );
            return None;
        }
    };
    if bits_key.is_some() && bits != Some(b as u64) {
        s.report(key(path, bits_key.unwrap_or_default()), format!("must be {b} to match {found}"));
        return None;
    }
    Some(Some(b))
}

/// The categorical schema (B.4).
fn check_category_schema(s: &mut Sink, obj: &Map<String, Value>, compressed: Option<bool>) -> CategorySchema {
    let path = "_obsSchemas.categorical";
    json::exact_keys(s, path, obj, CATEGORICAL_SCHEMA, &[]);
    let codes_pattern = json::string(s, path, obj, "codesPathPattern").and_then(|p| {
        paths::check_pattern(s, &key(path, "codesPathPattern"), p, true, "{index}.codes.{ext}", compressed).then(|| p.to_string())
    });
    let mut out = CategorySchema {
        codes_pattern,
        outlier_pattern: None,
        outlier_bits: None,
        outlier_quantized: None,
        outliers_null: false,
    };
    out.outlier_quantized = json::boolean(s, path, obj, "outlierQuantized");
    let trio = ["outlierPathPattern", "outlierExt", "outlierDtype"];
    let nulls = trio.iter().filter(|k| obj.get(**k).is_some_and(Value::is_null)).count();
    if nulls == 3 {
        if out.outlier_quantized == Some(true) {
            s.report(
                key(path, "outlierQuantized"),
                "must be false when the outlier path, ext and dtype are null",
            );
        }
        out.outliers_null = true;
        return out;
    }
    if nulls > 0 {
        s.report(
            key(path, "outlierPathPattern"),
            "outlierPathPattern, outlierExt and outlierDtype must be all null or all present",
        );
        return out;
    }
    let Some(quantized) = out.outlier_quantized else { return out };
    out.outlier_bits = storage(s, path, obj, quantized, "outlierExt", "outlierDtype", None);
    if let (Some(p), Some(bits)) = (json::string(s, path, obj, "outlierPathPattern"), out.outlier_bits) {
        let ending = format!("{{index}}.outliers.{}", ext_of(bits));
        if paths::check_pattern(s, &key(path, "outlierPathPattern"), p, false, &ending, compressed) {
            out.outlier_pattern = Some(p.to_string());
        }
    }
    out
}

/// A categorical tuple's parts that the payload jobs need.
struct CheckedCategory {
    entry: CategoricalField,
    index: Option<u64>,
    outlier_bounds: Option<(f64, f64)>,
}

/// `[index, key, categories, codesDtype, codesMissingValue, centroidsByDim(, omin, omax)]`.
fn check_category_field(
    s: &mut Sink,
    path: &str,
    tuple: &[Value],
    schema: Option<&CategorySchema>,
    n_points: Option<u64>,
    indices: &mut Vec<(u64, String)>,
    keys: &mut HashSet<String>,
) -> CheckedCategory {
    let quantized = schema.and_then(|c| c.outlier_quantized);
    let expected_len = quantized.map(|q| if q { 8 } else { 6 });
    let len_ok = match expected_len {
        Some(l) => tuple.len() == l,
        None => tuple.len() == 6 || tuple.len() == 8,
    };
    if !len_ok {
        s.report(
            path,
            format!(
                "must have {} elements, found {}",
                expected_len.map_or("6 or 8".into(), |l| l.to_string()),
                tuple.len()
            ),
        );
    }
    let index = tuple_index(s, path, tuple, indices);
    let field_key = tuple_key(s, path, tuple, keys);

    let codes_bits = match tuple.get(3) {
        Some(v) => match v.as_str() {
            Some("uint8") => Some(8),
            Some("uint16") => Some(16),
            _ => {
                s.report(idx(path, 3), format!("codesDtype must be \"uint8\" or \"uint16\", found {v}"));
                None
            }
        },
        None => None,
    };
    if let (Some(bits), Some(v)) = (codes_bits, tuple.get(4)) {
        let marker = if bits == 16 { 65535 } else { 255 };
        if v.as_u64() != Some(marker) {
            s.report(
                idx(path, 4),
                format!("codesMissingValue must be {marker} for uint{bits}, found {v}"),
            );
        }
    }

    let mut labels: HashMap<Scalar, ()> = HashMap::new();
    let mut n_categories = None;
    if let Some(cats) = tuple.get(2).and_then(|v| json::array(s, &idx(path, 2), v)) {
        let mut ok = true;
        for (j, c) in cats.iter().enumerate() {
            match json::scalar(c) {
                Some(label) => {
                    if labels.insert(label, ()).is_some() {
                        s.report(idx(&idx(path, 2), j), format!("duplicate category {c}"));
                        ok = false;
                    }
                }
                None => {
                    s.report(
                        idx(&idx(path, 2), j),
                        format!("category must be a string, boolean or finite number, found {c}"),
                    );
                    ok = false;
                }
            }
        }
        if let Some(bits) = codes_bits {
            let max = if bits == 16 { 65535 } else { 255 };
            if cats.len() > max {
                s.report(
                    idx(path, 2),
                    format!("has {} categories; uint{bits} codes hold at most {max}", cats.len()),
                );
                ok = false;
            }
        }
        n_categories = ok.then_some(cats.len() as u64);
    }

    if let Some(v) = tuple.get(5) {
        check_centroids(s, &idx(path, 5), v, &labels, n_points);
    }
    let outlier_bounds = if tuple.len() == 8 { bounds(s, path, tuple, 6, true) } else { None };
    CheckedCategory {
        entry: CategoricalField {
            key: field_key,
            n_categories,
            codes_bits,
        },
        index,
        outlier_bounds,
    }
}

/// `centroidsByDim`: keys "1".."3"; entries exactly {category, position, n_points}.
fn check_centroids(s: &mut Sink, path: &str, v: &Value, labels: &HashMap<Scalar, ()>, n_points: Option<u64>) {
    let Some(by_dim) = json::object(s, path, v) else { return };
    for (dim_key, entries) in by_dim {
        let dim_path = key(path, dim_key);
        let dim: usize = match dim_key.as_str() {
            "1" => 1,
            "2" => 2,
            "3" => 3,
            _ => {
                s.report(&dim_path, "unsupported key; centroid dimensions are \"1\", \"2\" and \"3\"");
                continue;
            }
        };
        let Some(entries) = json::array(s, &dim_path, entries) else {
            continue;
        };
        let mut seen = HashSet::new();
        for (j, entry) in entries.iter().enumerate() {
            let entry_path = idx(&dim_path, j);
            let Some(obj) = json::object(s, &entry_path, entry) else { continue };
            json::exact_keys(s, &entry_path, obj, CENTROID, &[]);
            if let Some(c) = obj.get("category") {
                match json::scalar(c) {
                    Some(label) if labels.contains_key(&label) => {
                        if !seen.insert(label) {
                            s.report(
                                key(&entry_path, "category"),
                                format!("category {c} has more than one centroid in dimension {dim}"),
                            );
                        }
                    }
                    _ => s.report(key(&entry_path, "category"), format!("{c} is not a declared category")),
                }
            }
            if let Some(pos) = obj.get("position").and_then(|p| json::array(s, &key(&entry_path, "position"), p)) {
                if pos.len() != dim {
                    s.report(key(&entry_path, "position"), format!("has {} values, expected {dim}", pos.len()));
                }
                for (k, x) in pos.iter().enumerate() {
                    json::finite(s, &idx(&key(&entry_path, "position"), k), x);
                }
            }
            if let (Some(count), Some(n)) = (json::count(s, &entry_path, obj, "n_points"), n_points) {
                if count > n {
                    s.report(
                        key(&entry_path, "n_points"),
                        format!("is {count}, more than the manifest's n_points {n}"),
                    );
                }
            }
        }
    }
}

/// Element 0: a non-negative safe integer index, recorded for the density check.
fn tuple_index(s: &mut Sink, path: &str, tuple: &[Value], indices: &mut Vec<(u64, String)>) -> Option<u64> {
    let v = tuple.first()?;
    let index = json::safe_count(v);
    match index {
        Some(i) => indices.push((i, idx(path, 0))),
        None => s.report(idx(path, 0), format!("index must be a non-negative safe integer, found {v}")),
    }
    index
}

/// Element 1: a non-empty key, unique across the manifest.
fn tuple_key(s: &mut Sink, path: &str, tuple: &[Value], keys: &mut HashSet<String>) -> Option<String> {
    let v = tuple.get(1)?;
    match v.as_str() {
        Some(k) if !k.is_empty() => {
            if !keys.insert(k.to_string()) {
                s.report(idx(path, 1), format!("duplicate field key {k:?}"));
            }
            Some(k.to_string())
        }
        _ => {
            s.report(idx(path, 1), format!("key must be a non-empty string, found {v}"));
            None
        }
    }
}

/// Two finite bounds at `at` and `at + 1` with min ≤ max (and inside [0, 1] for outliers).
pub(crate) fn bounds(s: &mut Sink, path: &str, tuple: &[Value], at: usize, unit: bool) -> Option<(f64, f64)> {
    let min = tuple.get(at).and_then(|v| json::finite(s, &idx(path, at), v));
    let max = tuple.get(at + 1).and_then(|v| json::finite(s, &idx(path, at + 1), v));
    let (min, max) = (min?, max?);
    if min > max {
        s.report(idx(path, at), format!("minimum {min} is greater than maximum {max}"));
        return None;
    }
    if unit && (min < 0.0 || max > 1.0) {
        s.report(idx(path, at), format!("outlier bounds [{min}, {max}] must lie inside [0, 1]"));
    }
    Some((min, max))
}

/// Indices must be exactly 0..N-1, each used once.
pub(crate) fn check_dense(s: &mut Sink, indices: &[(u64, String)]) {
    let n = indices.len() as u64;
    let mut used = vec![false; indices.len()];
    for (i, field) in indices {
        if *i >= n {
            s.report(field, format!("index {i} is outside 0..{n} (indices must be exactly 0..N-1)"));
        } else if std::mem::replace(&mut used[*i as usize], true) {
            s.report(field, format!("index {i} is used more than once"));
        }
    }
    if let Some(missing) = used.iter().position(|u| !u) {
        // Only worth saying when no out-of-range index already explains the gap.
        if indices.iter().all(|(i, _)| *i < n) {
            s.report("indices", format!("index {missing} is not used (indices must be exactly 0..N-1)"));
        }
    }
}
