//! `obs/` and `obs_manifest.json` (FORMAT.md §7–8): field selection and kinds,
//! continuous values, categorical categories and codes, centroids and outlier quantiles.

use super::centroids::{centroids, Centroid};
use super::diagnosis::{diagnose, diagnose_f64_with_missing, thousands};
use super::embeddings::Normalized;
use super::latent::Latent;
use super::outliers::outlier_quantiles;
use super::output::{f32_bytes, Output, Written};
use crate::codec::json::Json;
use crate::codec::quantize::{self, Bounds};
use crate::dataset::{Dataset, Label, ObsData};
use crate::error::{ExportError, Result};
use crate::options::{check_display_as, ExportOptions};
use crate::text::{collapse_whitespace, display_text_defect, py_repr, py_repr_list};
use crate::fixed_hash::{FixedMap, FixedSet};

/// One exported obs field, ready to write.
pub enum Field {
    Continuous { index: usize, key: String, values: Vec<f32> },
    Categorical(Categorical),
}

/// A categorical field: categories in order, codes (-1 = missing), centroids per dimension,
/// and latent outlier quantiles.
pub struct Categorical {
    pub index: usize,
    pub key: String,
    pub categories: Vec<Label>,
    pub codes: Vec<i32>,
    /// `(dim, centroids)` for every embedding dimension, ascending.
    pub centroids: Vec<(usize, Vec<Centroid>)>,
    pub outliers: Vec<f32>,
}

/// The prepared obs fields, in obs_keys order.
pub struct Obs {
    pub fields: Vec<Field>,
}

fn field_of(key: &str) -> String {
    format!("obs[{}]", py_repr(key))
}

/// D.6: obs presence and length, obs_keys, then every field in obs_keys order.
pub fn prepare(
    ds: &Dataset,
    options: &ExportOptions,
    n_cells: usize,
    norms: &[Normalized],
    latent: &Latent,
) -> Result<Obs> {
    let Some(frame) = &ds.obs else {
        return Err(ExportError::value("obs", "obs DataFrame is required."));
    };
    if frame.n_rows != n_cells {
        return Err(ExportError::value("obs", format!("obs has {} rows, but embeddings have {n_cells} cells.", frame.n_rows)));
    }
    let keys: Vec<String> = match &options.obs_keys {
        Some(k) => k.clone(),
        None => frame.columns.iter().map(|c| c.name.clone()).collect(),
    };
    for (i, k) in keys.iter().enumerate() {
        if k.is_empty() {
            return Err(ExportError::value("obs_keys", format!("Observation field identifier at position {i} must be non-empty.")));
        }
        check_display_as("obs_keys", &format!("Observation field identifier at position {i}"), k)?;
    }
    let mut seen = FixedSet::default();
    for k in &keys {
        if !seen.insert(k.as_str()) {
            return Err(ExportError::value("obs_keys", format!("Observation field key {} is duplicated.", py_repr(k))));
        }
    }
    let missing: Vec<&String> = keys.iter().filter(|k| frame.column(k).is_none()).collect();
    if !missing.is_empty() {
        let available: Vec<&str> = frame.columns.iter().map(|c| c.name.as_str()).collect();
        return Err(ExportError::key(
            "obs_keys",
            format!("obs_keys contain columns not in obs: {}. Available columns: {}", py_repr_list(&missing), py_repr_list(&available)),
        ));
    }

    let min_points = options.centroid_min_points as usize;
    let mut fields = Vec::with_capacity(keys.len());
    for (index, key) in keys.iter().enumerate() {
        let Some(col) = frame.column(key) else { continue };
        if col.data.len().is_some_and(|len| len != n_cells) {
            return Err(ExportError::value(field_of(key), format!("obs field {} has a length different from obs.", py_repr(key))));
        }
        let field = match &col.data {
            ObsData::Numeric(values) => {
                if !values.dtype().is_real_numeric() {
                    return Err(ExportError::type_(
                        field_of(key),
                        format!("Continuous obs field {} must contain real numeric values.", py_repr(key)),
                    ));
                }
                let diag = diagnose(values);
                if !diag.is_clean() {
                    return Err(continuous_error(key, &diag));
                }
                Field::Continuous { index, key: key.clone(), values: values.to_f32_vec() }
            }
            ObsData::NullableNumeric { values, missing } => {
                let v = values.to_f64_vec();
                let diag = diagnose_f64_with_missing(&v, Some(missing));
                if !diag.is_clean() {
                    return Err(continuous_error(key, &diag));
                }
                Field::Continuous { index, key: key.clone(), values: values.to_f32_vec() }
            }
            ObsData::Unsupported { dtype_repr } => {
                return Err(ExportError::type_(
                    field_of(key),
                    format!("obs field {} has unsupported dtype {dtype_repr}.", py_repr(key)),
                ));
            }
            data => {
                let (categories, codes) = categories_and_codes(data);
                check_labels(key, &categories)?;
                check_codes(key, &codes, categories.len())?;
                let members = members(&codes, categories.len());
                let outliers = outlier_quantiles(&members, latent, n_cells, min_points);
                let max = if options.categorical_bits() == 16 { 65_535 } else { 255 };
                if categories.len() > max {
                    return Err(ExportError::value(
                        field_of(key),
                        format!(
                            "Field {} has {} categories, but {} supports at most {}.",
                            py_repr(key),
                            categories.len(),
                            options.obs_categorical_dtype,
                            thousands(max)
                        ),
                    ));
                }
                let centroids = norms
                    .iter()
                    .map(|e| {
                        let c = match options.centroid_outlier_quantile {
                            Some(q) => centroids(&members, e, q, min_points),
                            None => Vec::new(),
                        };
                        (e.dim, c)
                    })
                    .collect();
                Field::Categorical(Categorical { index, key: key.clone(), categories, codes, centroids, outliers })
            }
        };
        fields.push(field);
    }
    Ok(Obs { fields })
}

fn continuous_error(key: &str, diag: &super::diagnosis::Diagnosis) -> ExportError {
    let k = py_repr(key);
    ExportError::non_finite(
        field_of(key),
        format!(
            "{} Repair the column before serving or exporting it -- `adata.obs[{k}] = adata.obs[{k}].replace([np.inf, -np.inf], np.nan).fillna(0)` -- then reload.",
            diag.cells_sentence(&format!("Continuous obs field {k}"))
        ),
    )
}

/// Categories (in the reference's order) and codes for a categorical-kind column.
fn categories_and_codes(data: &ObsData) -> (Vec<Label>, Vec<i32>) {
    match data {
        ObsData::Categorical { categories, codes } => (categories.clone(), codes.clone()),
        ObsData::Strings(values) => {
            // Code-point order of the distinct non-missing values (Rust's str Ord).
            let mut distinct: Vec<&str> = values.iter().flatten().map(|s| s.as_str()).collect();
            distinct.sort_unstable();
            distinct.dedup();
            let pos: FixedMap<&str, i32> = distinct.iter().enumerate().map(|(i, s)| (*s, i as i32)).collect();
            let codes = values.iter().map(|v| v.as_deref().map_or(-1, |s| pos[s])).collect();
            (distinct.into_iter().map(|s| Label::Str(s.to_string())).collect(), codes)
        }
        ObsData::Bool(values) => bool_categories(values.iter().map(|&b| Some(b))),
        ObsData::NullableBool(values) => bool_categories(values.iter().copied()),
        _ => (Vec::new(), Vec::new()),
    }
}

/// The sorted distinct booleans present (`[false, true]`, `[true]`, …) and codes.
fn bool_categories(values: impl Iterator<Item = Option<bool>> + Clone) -> (Vec<Label>, Vec<i32>) {
    let has_false = values.clone().any(|v| v == Some(false));
    let has_true = values.clone().any(|v| v == Some(true));
    let mut cats = Vec::new();
    if has_false {
        cats.push(Label::Bool(false));
    }
    if has_true {
        cats.push(Label::Bool(true));
    }
    let true_code = i32::from(has_false);
    let codes = values
        .map(|v| match v {
            None => -1,
            Some(false) => 0,
            Some(true) => true_code,
        })
        .collect();
    (cats, codes)
}

/// Codes must be -1 (missing) or index a category. pandas guarantees it; a corrupt
/// file or a hand-built `Dataset` may not, and the viewer refuses such codes.
fn check_codes(key: &str, codes: &[i32], n_categories: usize) -> Result<()> {
    match codes.iter().position(|&c| c < -1 || c >= n_categories as i32) {
        None => Ok(()),
        Some(cell) => Err(ExportError::value(
            field_of(key),
            format!(
                "Categorical field {} has code {} at cell {cell}, but only {n_categories} categories (codes must be -1 for missing or 0..{}).",
                py_repr(key),
                codes[cell],
                n_categories as i64 - 1
            ),
        )),
    }
}

/// The cells of each category, ascending.
fn members(codes: &[i32], n_categories: usize) -> Vec<Vec<usize>> {
    let mut m = vec![Vec::new(); n_categories];
    for (cell, &c) in codes.iter().enumerate() {
        if c >= 0 && (c as usize) < n_categories {
            m[c as usize].push(cell);
        }
    }
    m
}

/// A label as JSON (its exact representation decides uniqueness).
pub fn label_json(l: &Label) -> Json {
    match l {
        Label::Str(s) => Json::Str(s.clone()),
        Label::Int(i) => Json::Int(*i),
        Label::Float(f) => Json::Float(*f),
        Label::Bool(b) => Json::Bool(*b),
    }
}

/// The category label rules of FORMAT.md §7.3.
fn check_labels(key: &str, categories: &[Label]) -> Result<()> {
    let k = py_repr(key);
    let field = field_of(key);
    const MAX_SAFE: i64 = (1 << 53) - 1;
    for l in categories {
        match l {
            Label::Float(f) if !f.is_finite() => {
                return Err(ExportError::value(&field, format!("Categorical field {k} labels must be finite JSON scalars.")));
            }
            Label::Int(i) if !(-MAX_SAFE..=MAX_SAFE).contains(i) => {
                return Err(ExportError::value(
                    &field,
                    format!("Categorical field {k} contains integer label {i} outside JavaScript's exact integer range."),
                ));
            }
            _ => {}
        }
    }
    let mut seen = FixedSet::default();
    for l in categories {
        if !seen.insert(label_json(l).to_compact()) {
            return Err(ExportError::value(&field, format!("Categorical field {k} labels must be unique after exact JSON representation.")));
        }
    }
    let mut defects = Vec::new();
    for l in categories {
        if let Label::Str(s) = l {
            if s.is_empty() {
                defects.push("  - '' is empty".to_string());
            } else if let Some(d) = display_text_defect(s) {
                defects.push(format!("  - {} {d}", py_repr(s)));
            }
        }
    }
    if !defects.is_empty() {
        let n = defects.len();
        let more = n.saturating_sub(10);
        defects.truncate(10);
        if more > 0 {
            defects.push(format!("  - … and {more} more"));
        }
        return Err(ExportError::value(
            &field,
            format!(
                "Categorical field {k} has {} the viewer cannot show as written:\n{}\n\
                 Labels are drawn verbatim in the legend, the field selector, and exported figures, so these characters are invisible on screen while still making the label a different value from the one it looks like. \
                 Cellucid does not clean them for you: trimming a label rewrites your annotation and can merge two categories into one, moving cells between them. \
                 Clean the column and export again, for example:\n    obs[{k}] = obs[{k}].astype('string').str.strip()\n    obs[{k}] = obs[{k}].astype('category')",
                if n == 1 { "1 label".to_string() } else { format!("{n} labels") },
                defects.join("\n")
            ),
        ));
    }
    let mut drawn: FixedMap<String, &str> = FixedMap::default();
    for l in categories {
        if let Label::Str(s) = l {
            if let Some(prev) = drawn.insert(collapse_whitespace(s), s) {
                return Err(ExportError::value(
                    &field,
                    format!(
                        "Categorical field {k} labels {} and {} are stored as different categories but are drawn identically: \
                         a run of whitespace collapses to a single space in the legend, the field selector, and exported figures. \
                         Rename one of them so the two categories can be told apart, then export again.",
                        py_repr(prev),
                        py_repr(s)
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// D.9 (second half): with quantized outliers, every field whose quantiles are all NaN
/// is reported together.
pub fn check_outlier_sets(obs: &Obs, options: &ExportOptions) -> Result<()> {
    let Some(bits) = options.obs_continuous_quantization else { return Ok(()) };
    let bad: Vec<&str> = obs
        .fields
        .iter()
        .filter_map(|f| match f {
            Field::Categorical(c) if c.outliers.iter().all(|x| x.is_nan()) => Some(c.key.as_str()),
            _ => None,
        })
        .collect();
    if bad.is_empty() {
        return Ok(());
    }
    let n = bad.len();
    let lines: Vec<String> = bad
        .iter()
        .map(|k| {
            format!(
                "    {}: no category holds at least centroid_min_points={} cells, so every generated quantile is missing",
                py_repr(k),
                options.centroid_min_points
            )
        })
        .collect();
    Err(ExportError::value(
        "obs_continuous_quantization",
        format!(
            "{n} generated categorical outlier quantile set(s) cannot be encoded: a set with no quantile at all has no value to publish.\n  \
             {n} set(s) with obs_continuous_quantization={bits}:\n{}\n  \
             Fix: lower centroid_min_points so a category qualifies, drop the field from obs_keys=, or pass obs_continuous_quantization=None to export the generated quantiles as full-precision float32.",
            lines.join("\n")
        ),
    ))
}

/// Extension and dtype name for a quantization setting.
pub fn ext_dtype(bits: Option<i64>) -> (&'static str, &'static str) {
    match bits {
        Some(16) => ("u16", "uint16"),
        Some(_) => ("u8", "uint8"),
        None => ("f32", "float32"),
    }
}

fn bounds_json(b: Bounds) -> [Json; 2] {
    [Json::Float(b.min), Json::Float(b.max)]
}

/// Write `obs/` payloads and `obs_manifest.json`.
pub fn write(obs: &Obs, options: &ExportOptions, n_cells: usize, output: &Output) -> Result<Written> {
    output.mkdir("obs")?;
    let gz = output.suffix();
    let qbits = options.obs_continuous_quantization;
    let (ext, dtype) = ext_dtype(qbits);
    let cat_bits = options.categorical_bits();
    let (cat_ext, cat_dtype, marker) = if cat_bits == 16 { ("u16", "uint16", 65_535) } else { ("u8", "uint8", 255) };
    let mut total = Written::default();
    let mut buf = Vec::new();
    let mut continuous = Vec::new();
    let mut categorical = Vec::new();
    for field in &obs.fields {
        match field {
            Field::Continuous { index, key, values } => {
                let mut tuple = vec![Json::Int(*index as i64), Json::Str(key.clone())];
                buf.clear();
                match qbits {
                    Some(b) => {
                        let bounds = quantize::quantize(values, b as u32, &mut buf);
                        tuple.extend(bounds_json(bounds));
                    }
                    None => f32_bytes(values, &mut buf),
                }
                total += output.write(&format!("obs/{index}.values.{ext}{gz}"), &buf)?;
                continuous.push(Json::Array(tuple));
            }
            Field::Categorical(c) => {
                buf.clear();
                for &code in &c.codes {
                    let v = if code < 0 { marker } else { code as u32 };
                    if cat_bits == 16 {
                        buf.extend_from_slice(&(v as u16).to_le_bytes());
                    } else {
                        buf.push(v as u8);
                    }
                }
                total += output.write(&format!("obs/{}.codes.{cat_ext}{gz}", c.index), &buf)?;
                buf.clear();
                let out_bounds = match qbits {
                    Some(b) => quantize::quantize_with_missing(&c.outliers, b as u32, &mut buf),
                    None => {
                        f32_bytes(&c.outliers, &mut buf);
                        None
                    }
                };
                total += output.write(&format!("obs/{}.outliers.{ext}{gz}", c.index), &buf)?;
                let by_dim = c
                    .centroids
                    .iter()
                    .map(|(d, list)| {
                        let entries = list
                            .iter()
                            .map(|e| {
                                Json::Object(vec![
                                    ("category".into(), label_json(&c.categories[e.category])),
                                    ("position".into(), Json::Array(e.position.iter().map(|&x| Json::Float(x)).collect())),
                                    ("n_points".into(), Json::Int(e.n_points as i64)),
                                ])
                            })
                            .collect();
                        (d.to_string(), Json::Array(entries))
                    })
                    .collect();
                let mut tuple = vec![
                    Json::Int(c.index as i64),
                    Json::Str(c.key.clone()),
                    Json::Array(c.categories.iter().map(label_json).collect()),
                    Json::Str(cat_dtype.into()),
                    Json::Int(marker as i64),
                    Json::Object(by_dim),
                ];
                if let Some(b) = out_bounds {
                    tuple.extend(bounds_json(b));
                }
                categorical.push(Json::Array(tuple));
            }
        }
    }
    let mut schemas = Vec::new();
    if !continuous.is_empty() {
        let mut s = vec![
            ("pathPattern".to_string(), Json::Str(format!("obs/{{index}}.values.{ext}{gz}"))),
            ("ext".into(), Json::Str(ext.into())),
            ("dtype".into(), Json::Str(dtype.into())),
            ("quantized".into(), Json::Bool(qbits.is_some())),
        ];
        if let Some(b) = qbits {
            s.push(("quantizationBits".into(), Json::Int(b)));
        }
        schemas.push(("continuous".to_string(), Json::Object(s)));
    }
    if !categorical.is_empty() {
        schemas.push((
            "categorical".to_string(),
            Json::Object(vec![
                ("codesPathPattern".into(), Json::Str(format!("obs/{{index}}.codes.{{ext}}{gz}"))),
                ("outlierPathPattern".into(), Json::Str(format!("obs/{{index}}.outliers.{ext}{gz}"))),
                ("outlierExt".into(), Json::Str(ext.into())),
                ("outlierDtype".into(), Json::Str(dtype.into())),
                ("outlierQuantized".into(), Json::Bool(qbits.is_some())),
            ]),
        ));
    }
    let manifest = Json::Object(vec![
        ("_format".into(), Json::Str("compact_v1".into())),
        ("n_points".into(), Json::Int(n_cells as i64)),
        ("centroid_outlier_quantile".into(), options.centroid_outlier_quantile.map_or(Json::Null, Json::Float)),
        ("latent_key".into(), Json::Str("latent_space".into())),
        ("compression".into(), options.compression.map_or(Json::Null, Json::Int)),
        ("_obsSchemas".into(), Json::Object(schemas)),
        ("_continuousFields".into(), Json::Array(continuous)),
        ("_categoricalFields".into(), Json::Array(categorical)),
    ]);
    total += output.write_json("obs_manifest.json", &manifest.to_compact())?;
    Ok(total)
}
