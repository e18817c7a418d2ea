//! The values an axis can take, their plan (TOML) spelling, their canonical JSON (what
//! cell ids and stored samples are made of) and their short labels.

use cellucid_datasets::synthetic::GraphSpec;
use serde_json::{json, Value};
use std::fmt;

/// How gene (and obs) payloads are compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Codec {
    /// Plain little-endian payloads (`compression = None` in `prepare()`).
    None,
    /// One gzip member at this level, 1–9 (`compression = level`).
    Gzip(u8),
    /// A what-if codec: measured, but the viewer cannot load it, so a cell with it is not
    /// a usable export and is kept out of comparisons with the reference.
    Zstd(i32),
}

/// zstd levels a plan may name (the library's positive levels).
pub const ZSTD_LEVELS: std::ops::RangeInclusive<i32> = 1..=22;

impl Codec {
    /// Whether Cellucid's viewer can load an export written with this codec.
    pub fn loadable(self) -> bool {
        !matches!(self, Codec::Zstd(_))
    }

    /// Plan syntax: `"none"`, an integer 1–9, `"gzip:N"` or `"zstd:N"`. Range checks are
    /// left to validation so that the message can say what is allowed.
    pub fn parse(v: &toml::Value) -> Result<Codec, String> {
        match v {
            toml::Value::Integer(i) => u8::try_from(*i).map(Codec::Gzip).map_err(|_| out_of_range()),
            toml::Value::String(s) if s == "none" => Ok(Codec::None),
            toml::Value::String(s) => {
                let (kind, level) = s.split_once(':').ok_or_else(out_of_range)?;
                let level: i32 = level.trim().parse().map_err(|_| out_of_range())?;
                match kind {
                    "zstd" => Ok(Codec::Zstd(level)),
                    "gzip" => u8::try_from(level).map(Codec::Gzip).map_err(|_| out_of_range()),
                    _ => Err(out_of_range()),
                }
            }
            _ => Err(out_of_range()),
        }
    }

    /// Why the value cannot be used, if it cannot.
    pub fn check(self) -> Result<(), String> {
        match self {
            Codec::None => Ok(()),
            Codec::Gzip(l) if (1..=9).contains(&l) => Ok(()),
            Codec::Zstd(l) if ZSTD_LEVELS.contains(&l) => Ok(()),
            _ => Err(out_of_range()),
        }
    }

    /// `null`, the gzip level (as `prepare()` takes it), or `"zstd:N"`.
    pub fn to_json(self) -> Value {
        match self {
            Codec::None => Value::Null,
            Codec::Gzip(l) => json!(l),
            Codec::Zstd(l) => json!(format!("zstd:{l}")),
        }
    }

    /// `plain`, `gz6`, `zstd3`.
    pub fn label(self) -> String {
        match self {
            Codec::None => "plain".into(),
            Codec::Gzip(l) => format!("gz{l}"),
            Codec::Zstd(l) => format!("zstd{l}"),
        }
    }
}

fn out_of_range() -> String {
    "must be \"none\", a gzip level 1..9 (or \"gzip:N\"), or \"zstd:N\" with N in 1..22".into()
}

/// Why `name` cannot be a writer name (it names writers in plans, samples and files).
pub fn check_writer_name(name: &str) -> Result<(), String> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
        return Err("must be a writer name (letters, digits, '.', '_' and '-'; e.g. \"cellucid-bench\", \"cellucid-py-0.9.2\")".into());
    }
    Ok(())
}

/// Whether the export is made power-loss durable (fsync of every payload and directory).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Durability {
    Buffered,
    Durable,
}

impl Durability {
    pub fn as_str(self) -> &'static str {
        match self {
            Durability::Buffered => "buffered",
            Durability::Durable => "durable",
        }
    }

    pub fn parse(s: &str) -> Option<Durability> {
        match s {
            "buffered" => Some(Durability::Buffered),
            "durable" => Some(Durability::Durable),
            _ => None,
        }
    }

    /// The exporter's own setting.
    pub fn to_core(self) -> cellucid_core::Durability {
        match self {
            Durability::Buffered => cellucid_core::Durability::Buffered,
            Durability::Durable => cellucid_core::Durability::Durable,
        }
    }
}

/// The obs field mix of a synthetic dataset: the number of continuous fields and the
/// cardinalities of the categorical ones (the first is the cluster labels, so it also
/// sets the number of clusters).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ObsFields {
    pub continuous: usize,
    pub categorical: Vec<usize>,
}

/// Named obs mixes: `default` is the synthetic generator's default.
pub const OBS_PRESETS: &[&str] = &["default", "none", "many"];

impl ObsFields {
    pub fn preset(name: &str) -> Option<ObsFields> {
        match name {
            "default" => Some(ObsFields { continuous: 3, categorical: vec![12, 3] }),
            "none" => Some(ObsFields { continuous: 0, categorical: Vec::new() }),
            // Many fields, including high-cardinality ones (centroids and outlier
            // quantiles are computed per category).
            "many" => Some(ObsFields { continuous: 12, categorical: vec![12, 3, 8, 40, 200] }),
            _ => None,
        }
    }

    /// A preset name or an inline table `{continuous = 3, categorical = [12, 3]}`.
    pub fn parse(v: &toml::Value) -> Result<ObsFields, String> {
        match v {
            toml::Value::String(s) => ObsFields::preset(s)
                .ok_or_else(|| format!("is not a preset (presets: {})", OBS_PRESETS.join(", "))),
            toml::Value::Table(t) => {
                let mut out = ObsFields { continuous: 0, categorical: Vec::new() };
                for (k, v) in t {
                    match (k.as_str(), v) {
                        ("continuous", toml::Value::Integer(i)) => {
                            out.continuous = usize::try_from(*i).map_err(|_| "`continuous` must be >= 0".to_string())?
                        }
                        ("categorical", toml::Value::Array(a)) => {
                            out.categorical = a
                                .iter()
                                .map(|x| x.as_integer().and_then(|i| usize::try_from(i).ok()))
                                .collect::<Option<Vec<_>>>()
                                .ok_or_else(|| "`categorical` must be a list of non-negative integers".to_string())?
                        }
                        _ => {
                            return Err(format!(
                                "has an unknown or mistyped key `{k}` (an obs mix is {{continuous = N, categorical = [..]}})"
                            ))
                        }
                    }
                }
                Ok(out)
            }
            _ => Err("must be a preset name or {continuous = N, categorical = [..]}".into()),
        }
    }

    /// The preset name when the mix is one, else `c3k12.3`.
    pub fn label(&self) -> String {
        for name in OBS_PRESETS {
            if ObsFields::preset(name).as_ref() == Some(self) {
                return (*name).to_string();
            }
        }
        let cats: Vec<String> = self.categorical.iter().map(usize::to_string).collect();
        format!("c{}k{}", self.continuous, cats.join("."))
    }
}

/// Plan syntax of a graph: `"none"`, `"knn:K"`, `"edges:E"` (edges per cell).
pub fn parse_graph(v: &toml::Value) -> Result<GraphSpec, String> {
    let msg = || "must be \"none\", \"knn:K\" or \"edges:E\" (E edges per cell)".to_string();
    let s = v.as_str().ok_or_else(msg)?;
    if s == "none" {
        return Ok(GraphSpec::None);
    }
    let (kind, n) = s.split_once(':').ok_or_else(msg)?;
    match kind {
        "knn" => n.trim().parse().map(|k| GraphSpec::Knn { k }).map_err(|_| msg()),
        "edges" => n.trim().parse().map(|e| GraphSpec::Density { edges_per_cell: e }).map_err(|_| msg()),
        _ => Err(msg()),
    }
}

/// `knn15`, `e100`, or empty for no graph.
pub fn graph_label(g: &GraphSpec) -> String {
    match g {
        GraphSpec::None => String::new(),
        GraphSpec::Knn { k } => format!("knn{k}"),
        GraphSpec::Density { edges_per_cell } => format!("e{edges_per_cell}"),
    }
}

/// The plan spelling of a graph, for error messages.
pub fn graph_text(g: &GraphSpec) -> String {
    match g {
        GraphSpec::None => "none".into(),
        GraphSpec::Knn { k } => format!("knn:{k}"),
        GraphSpec::Density { edges_per_cell } => format!("edges:{edges_per_cell}"),
    }
}

/// `none` or the quantization bits.
pub fn parse_quantization(v: &toml::Value) -> Result<Option<u8>, String> {
    match v {
        toml::Value::String(s) if s == "none" => Ok(None),
        toml::Value::Integer(i) => u8::try_from(*i).map(Some).map_err(|_| "must be \"none\", 8 or 16".to_string()),
        _ => Err("must be \"none\", 8 or 16".into()),
    }
}

/// `all` or a number of genes.
pub fn parse_panel(v: &toml::Value) -> Result<Option<usize>, String> {
    match v {
        toml::Value::String(s) if s == "all" => Ok(None),
        toml::Value::Integer(i) => {
            usize::try_from(*i).map(Some).map_err(|_| "must be \"all\" or a positive number of genes".to_string())
        }
        _ => Err("must be \"all\" or a positive number of genes".into()),
    }
}

/// The exporter settings a cell varies (the `prepare()` arguments under study).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Settings {
    pub var_quantization: Option<u8>,
    pub obs_continuous_quantization: Option<u8>,
    pub compression: Codec,
    /// Export only the first `n` genes (`gene_identifiers`); `None` exports all.
    pub gene_panel: Option<usize>,
}

impl Settings {
    /// Canonical JSON with `prepare()`'s argument names; part of every cell id and sample.
    pub fn to_json(&self) -> Value {
        json!({
            "var_quantization": self.var_quantization,
            "obs_continuous_quantization": self.obs_continuous_quantization,
            "compression": self.compression.to_json(),
            "gene_panel": self.gene_panel,
        })
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Codec::None => f.write_str("none"),
            Codec::Gzip(l) => write!(f, "{l}"),
            Codec::Zstd(l) => write!(f, "zstd:{l}"),
        }
    }
}
