//! `dataset_identity.json` (VIEWER.md B.3, with the local-folder id rule of B.14).

use serde_json::{Map, Value};

use super::json::{self, key, Doc};
use super::values::{Content, Job};
use super::{paths, vectors, Problem, Sink, IDENTITY};

const REQUIRED: &[&str] = &[
    "version",
    "id",
    "name",
    "description",
    "cellucid_data_version",
    "stats",
    "embeddings",
    "obs_fields",
];
const OPTIONAL: &[&str] = &["created_at", "export_settings", "source", "vector_fields"];
const STATS: &[&str] = &[
    "n_cells",
    "n_genes",
    "n_obs_fields",
    "n_categorical_fields",
    "n_continuous_fields",
    "has_connectivity",
    "n_edges",
];
const EMBEDDINGS: &[&str] = &["available_dimensions", "default_dimension", "files"];
const SETTINGS: &[&str] = &[
    "compression",
    "var_quantization",
    "obs_continuous_quantization",
    "obs_categorical_dtype",
];

/// The kind of an obs field as the identity lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Continuous,
    Category,
}

/// One `obs_fields` entry; `None` parts were invalid (and reported).
#[derive(Clone, Debug)]
pub(crate) struct ObsFieldEntry {
    pub key: Option<String>,
    pub kind: Option<Kind>,
    pub n_categories: Option<u64>,
}

/// `export_settings`; each part is `None` when invalid.
#[derive(Clone, Debug, Default)]
pub(crate) struct Settings {
    pub compression: Option<Option<u32>>,
    pub var_quantization: Option<Option<u32>>,
    pub obs_continuous_quantization: Option<Option<u32>>,
    /// 8 for `uint8`, 16 for `uint16`.
    pub obs_categorical_bits: Option<u32>,
}

/// An advertised embedding or vector payload.
#[derive(Clone, Debug)]
pub(crate) struct Advert {
    pub path: String,
    pub field: String,
    pub dim: u32,
    pub label: String,
}

/// What the rest of the validator needs from the identity.
#[derive(Clone, Debug, Default)]
pub(crate) struct Identity {
    pub n_cells: Option<u64>,
    pub n_genes: Option<u64>,
    pub has_connectivity: Option<bool>,
    /// `Some(None)`: null (no graph).
    pub n_edges: Option<Option<u64>>,
    pub dims: Option<Vec<u32>>,
    pub points: Vec<Advert>,
    pub obs_fields: Option<Vec<ObsFieldEntry>>,
    pub settings: Option<Settings>,
    pub vectors: Vec<Advert>,
    pub has_vector_fields: bool,
}

impl Identity {
    /// Points and vector payloads: float32, `n_cells × d × 4` bytes, all finite.
    pub(crate) fn payload_jobs(&self) -> Vec<Job> {
        let adverts = self.points.iter().chain(&self.vectors);
        adverts
            .filter(|a| paths::unsafe_reason(&a.path).is_none())
            .map(|a| Job {
                path: a.path.clone(),
                len: self.n_cells.and_then(|n| n.checked_mul(a.dim as u64 * 4)),
                content: Content::Finite,
                label: a.label.clone(),
                source: IDENTITY,
                source_field: a.field.clone(),
            })
            .collect()
    }
}

/// Checks the identity and extracts what other checks need.
pub(crate) fn check(doc: &Doc, problems: &mut Vec<Problem>) -> Identity {
    let mut out = Identity::default();
    let mut s = Sink::new(IDENTITY, problems);
    let Some(top) = json::object(&mut s, "", &doc.value) else {
        return out;
    };
    json::exact_keys(&mut s, "", top, REQUIRED, OPTIONAL);

    if let Some(v) = top.get("version") {
        if v.as_u64() != Some(2) {
            s.report("version", format!("must be 2, found {v}"));
        }
    }
    if let Some(id) = json::string(&mut s, "", top, "id") {
        check_id(&mut s, id);
    }
    if let Some(name) = json::string(&mut s, "", top, "name") {
        if name.trim().is_empty() {
            s.report("name", "must be non-empty after trimming");
        }
    }
    json::string(&mut s, "", top, "description");
    json::nonempty_string(&mut s, "", top, "cellucid_data_version");
    if let Some(created) = json::string(&mut s, "", top, "created_at") {
        if let Err(message) = crate::text::check_created_at(created) {
            s.report("created_at", message);
        }
    }

    let mut counts = (None, None, None);
    if let Some(stats) = top.get("stats").and_then(|v| json::object(&mut s, "stats", v)) {
        counts = check_stats(&mut s, stats, &mut out);
    }
    if let Some(emb) = top.get("embeddings").and_then(|v| json::object(&mut s, "embeddings", v)) {
        check_embeddings(&mut s, emb, &mut out);
    }
    if let Some(fields) = top.get("obs_fields").and_then(|v| json::array(&mut s, "obs_fields", v)) {
        out.obs_fields = Some(check_obs_fields(&mut s, fields, counts));
    }
    if let Some(settings) = top.get("export_settings").and_then(|v| json::object(&mut s, "export_settings", v)) {
        out.settings = Some(check_settings(&mut s, settings));
    }
    if let Some(source) = top.get("source").and_then(|v| json::object(&mut s, "source", v)) {
        check_source(&mut s, source);
    }
    if let Some(vf) = top.get("vector_fields") {
        out.has_vector_fields = true;
        let order = vectors::field_order(&doc.text);
        out.vectors = vectors::check(&mut s, vf, out.dims.as_deref(), order.as_deref());
    }
    out
}

/// B.3 and B.14: non-empty, unpadded, no control characters, and a portable local id.
fn check_id(s: &mut Sink, id: &str) {
    if id.is_empty() {
        s.report("id", "must be non-empty");
        return;
    }
    if id.trim() != id {
        s.report("id", format!("{id:?} must not have leading or trailing whitespace"));
    }
    if id.chars().any(char::is_control) {
        s.report("id", format!("{id:?} must not contain control characters"));
    }
    let portable = id.as_bytes()[0].is_ascii_alphanumeric()
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && !id.ends_with('.');
    if !portable {
        s.report(
            "id",
            format!("{id:?} must match ^[A-Za-z0-9][A-Za-z0-9._-]*$ and not end in '.' for a local folder"),
        );
    }
}

/// The 7 stats keys and their internal consistency. Returns (n_obs, n_categorical, n_continuous).
fn check_stats(s: &mut Sink, stats: &Map<String, Value>, out: &mut Identity) -> (Option<u64>, Option<u64>, Option<u64>) {
    json::exact_keys(s, "stats", stats, STATS, &[]);
    out.n_cells = json::count(s, "stats", stats, "n_cells");
    out.n_genes = json::count(s, "stats", stats, "n_genes");
    let n_obs = json::count(s, "stats", stats, "n_obs_fields");
    let n_cat = json::count(s, "stats", stats, "n_categorical_fields");
    let n_cont = json::count(s, "stats", stats, "n_continuous_fields");
    if let (Some(total), Some(cat), Some(cont)) = (n_obs, n_cat, n_cont) {
        if cat.checked_add(cont) != Some(total) {
            s.report(
                "stats.n_obs_fields",
                format!("is {total}, but n_categorical_fields + n_continuous_fields = {cat} + {cont}"),
            );
        }
    }
    out.has_connectivity = json::boolean(s, "stats", stats, "has_connectivity");
    if let Some(v) = stats.get("n_edges") {
        match out.has_connectivity {
            Some(true) => match json::safe_count(v) {
                Some(n) => out.n_edges = Some(Some(n)),
                None => s.report("stats.n_edges", format!("must be a count when has_connectivity is true, found {v}")),
            },
            Some(false) => {
                if v.is_null() {
                    out.n_edges = Some(None);
                } else {
                    s.report("stats.n_edges", format!("must be null when has_connectivity is false, found {v}"));
                }
            }
            None => {}
        }
    }
    (n_obs, n_cat, n_cont)
}

/// `embeddings`: strictly increasing dimensions from 1–3, a listed default, one safe path per dimension.
fn check_embeddings(s: &mut Sink, emb: &Map<String, Value>, out: &mut Identity) {
    json::exact_keys(s, "embeddings", emb, EMBEDDINGS, &[]);
    let dims = emb
        .get("available_dimensions")
        .and_then(|v| dimension_list(s, "embeddings.available_dimensions", v));
    if let (Some(dims), Some(v)) = (&dims, emb.get("default_dimension")) {
        if !v.as_u64().is_some_and(|d| dims.contains(&(d as u32))) {
            s.report(
                "embeddings.default_dimension",
                format!("{v} is not one of the available dimensions {dims:?}"),
            );
        }
    }
    if let (Some(dims), Some(files)) = (&dims, emb.get("files").and_then(|v| json::object(s, "embeddings.files", v))) {
        out.points = files_per_dimension(s, "embeddings.files", files, dims, "embedding");
    }
    out.dims = dims;
}

/// A non-empty, strictly increasing list of dimensions from 1–3.
pub(crate) fn dimension_list(s: &mut Sink, path: &str, v: &Value) -> Option<Vec<u32>> {
    let items = json::array(s, path, v)?;
    let mut dims = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item.as_u64() {
            Some(d @ 1..=3) => dims.push(d as u32),
            _ => {
                s.report(json::idx(path, i), format!("must be 1, 2 or 3, found {item}"));
                return None;
            }
        }
    }
    if dims.is_empty() {
        s.report(path, "must not be empty");
        return None;
    }
    if dims.windows(2).any(|w| w[0] >= w[1]) {
        s.report(path, format!("must be strictly increasing, found {dims:?}"));
        return None;
    }
    Some(dims)
}

/// `files`: exactly one key `"<d>d"` per dimension, each a safe path.
pub(crate) fn files_per_dimension(s: &mut Sink, path: &str, files: &Map<String, Value>, dims: &[u32], what: &str) -> Vec<Advert> {
    let names: Vec<String> = dims.iter().map(|d| format!("{d}d")).collect();
    let required: Vec<&str> = names.iter().map(String::as_str).collect();
    json::exact_keys(s, path, files, &required, &[]);
    let mut adverts = Vec::new();
    for (d, name) in dims.iter().zip(&names) {
        let Some(p) = json::string(s, path, files, name) else { continue };
        let field = key(path, name);
        paths::check_safe(s, &field, p);
        adverts.push(Advert {
            path: p.to_string(),
            field,
            dim: *d,
            label: format!("{what} {name}"),
        });
    }
    adverts
}

/// `obs_fields`: exact entry keys, unique non-empty keys, and counts matching stats.
fn check_obs_fields(s: &mut Sink, fields: &[Value], counts: (Option<u64>, Option<u64>, Option<u64>)) -> Vec<ObsFieldEntry> {
    let (n_obs, n_cat, n_cont) = counts;
    if let Some(n) = n_obs {
        if fields.len() as u64 != n {
            s.report("obs_fields", format!("has {} entries, but stats.n_obs_fields is {n}", fields.len()));
        }
    }
    let mut entries = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, v) in fields.iter().enumerate() {
        let path = json::idx("obs_fields", i);
        let mut entry = ObsFieldEntry {
            key: None,
            kind: None,
            n_categories: None,
        };
        if let Some(obj) = json::object(s, &path, v) {
            entry.kind = match obj.get("kind").and_then(Value::as_str) {
                Some("continuous") => Some(Kind::Continuous),
                Some("category") => Some(Kind::Category),
                _ => {
                    s.report(
                        key(&path, "kind"),
                        format!(
                            "must be \"continuous\" or \"category\", found {}",
                            obj.get("kind").unwrap_or(&Value::Null)
                        ),
                    );
                    None
                }
            };
            match entry.kind {
                Some(Kind::Continuous) => json::exact_keys(s, &path, obj, &["key", "kind"], &[]),
                Some(Kind::Category) => json::exact_keys(s, &path, obj, &["key", "kind", "n_categories"], &[]),
                None => {}
            }
            entry.key = json::nonempty_string(s, &path, obj, "key").map(str::to_string);
            if let Some(k) = &entry.key {
                if !seen.insert(k.clone()) {
                    s.report(key(&path, "key"), format!("duplicate obs field key {k:?}"));
                }
            }
            if entry.kind == Some(Kind::Category) {
                entry.n_categories = json::count(s, &path, obj, "n_categories");
            }
        }
        entries.push(entry);
    }
    let tally = |kind| entries.iter().filter(|e| e.kind == Some(kind)).count() as u64;
    if entries.iter().all(|e| e.kind.is_some()) {
        for (kind, stat, n) in [
            (Kind::Continuous, "stats.n_continuous_fields", n_cont),
            (Kind::Category, "stats.n_categorical_fields", n_cat),
        ] {
            if let Some(n) = n {
                if tally(kind) != n {
                    s.report(stat, format!("is {n}, but obs_fields lists {} such fields", tally(kind)));
                }
            }
        }
    }
    entries
}

/// `export_settings`: the 4 keys with their allowed values (`"auto"` is refused).
fn check_settings(s: &mut Sink, obj: &Map<String, Value>) -> Settings {
    json::exact_keys(s, "export_settings", obj, SETTINGS, &[]);
    let mut out = Settings {
        compression: json::compression(s, "export_settings", obj, "compression"),
        var_quantization: json::bits_or_null(s, "export_settings", obj, "var_quantization"),
        obs_continuous_quantization: json::bits_or_null(s, "export_settings", obj, "obs_continuous_quantization"),
        obs_categorical_bits: None,
    };
    if let Some(v) = obj.get("obs_categorical_dtype") {
        out.obs_categorical_bits = match v.as_str() {
            Some("uint8") => Some(8),
            Some("uint16") => Some(16),
            _ => {
                s.report(
                    "export_settings.obs_categorical_dtype",
                    format!("must be \"uint8\" or \"uint16\", found {v}"),
                );
                None
            }
        };
    }
    out
}

/// `source`: a required non-empty `name`, optional non-empty `url`, `citation`, `filename`.
fn check_source(s: &mut Sink, obj: &Map<String, Value>) {
    json::exact_keys(s, "source", obj, &["name"], &["url", "citation", "filename"]);
    for k in ["name", "url", "citation", "filename"] {
        json::nonempty_string(s, "source", obj, k);
    }
}
