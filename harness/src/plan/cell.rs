//! `Cell`: one point of a sweep (a dataset, exporter settings, a target, a writer), and
//! its stable id.
//!
//! The id is FNV-1a-64 over a canonical JSON serialisation of everything that defines
//! what is measured, printed as 16 hex digits. It is identical on every machine and in
//! every run, so stored samples can be resumed, merged across shards and compared across
//! plans (the same cell in two plans has the same id). It deliberately leaves out the
//! block a cell came from and the plan's seed, repeats and name. Any change to the
//! canonical form (including a new `DatasetSpec` field) changes ids; the test suite pins
//! one literal id so that such a change is noticed.

use super::axis::{graph_label, Durability, Settings};
use cellucid_datasets::synthetic::DatasetSpec;
use serde_json::{json, Value};

/// `4G`, `512M`, or bytes: a memory limit as a label shows it.
fn memory_label(bytes: u64) -> String {
    for (unit, shift) in [("T", 40), ("G", 30), ("M", 20), ("K", 10)] {
        if bytes >= 1 << shift && bytes % (1 << shift) == 0 {
            return format!("{}{unit}", bytes >> shift);
        }
    }
    bytes.to_string()
}

/// Version of the canonical form; bump it when the serialisation changes on purpose.
const ID_VERSION: u32 = 1;

/// One configuration to measure.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    pub dataset: DatasetSpec,
    pub settings: Settings,
    /// A filesystem target name (`tmpfs`, `disk`, `sshfs:20ms`, `name=/path`, ...),
    /// resolved by `crate::target`.
    pub target: String,
    /// The writer's name (see `crate::writer`).
    pub writer: String,
    pub durability: Durability,
    /// Drop the page cache (the input's and the target's) before each run.
    pub cold_cache: bool,
    /// Our exporter's `--memory-limit` in bytes (a block's `memory_limit`); `None`: its
    /// default (half the RAM available when the run starts).
    pub memory_limit: Option<u64>,
    /// The `[[block]]` (or `[[cell]]`) this cell came from; informative, not in the id.
    pub block: String,
}

impl Cell {
    /// Canonical JSON of the dataset spec (also stored in every sample).
    pub fn dataset_json(&self) -> Value {
        dataset_json(&self.dataset)
    }

    /// Canonical JSON of the whole cell, the input of [`Cell::id`].
    pub fn canonical(&self) -> Value {
        let mut v = json!({
            "v": ID_VERSION,
            "dataset": self.dataset_json(),
            "settings": self.settings.to_json(),
            "target": self.target,
            "durability": self.durability.as_str(),
            "cold_cache": self.cold_cache,
        });
        // Only when set, so that every cell without one keeps its id.
        if let Some(limit) = self.memory_limit {
            v["memory_limit"] = json!(limit);
        }
        // The two built-in writers keep the key and values they had as "subjects", so
        // that their cells keep the ids of every store written before writers were data
        // (resume, merge and comparisons across stores go by id).
        match self.writer.as_str() {
            crate::writer::OURS => v["subject"] = json!("ours"),
            crate::writer::REFERENCE => v["subject"] = json!("reference"),
            other => v["writer"] = json!(other),
        }
        v
    }

    /// Stable short id: 16 hex digits of FNV-1a-64 of [`Cell::canonical`].
    pub fn id(&self) -> String {
        format!("{:016x}", fnv1a64(canonical_text(&self.canonical()).as_bytes()))
    }

    /// Id of what is exported, every writer alike (the cell without its writer): it names
    /// the export in the params, so that two writers of one cell get the same params and
    /// their outputs can be compared byte for byte.
    pub fn export_id(&self) -> String {
        let mut v = self.canonical();
        if let Some(m) = v.as_object_mut() {
            m.remove("subject");
            m.remove("writer");
        }
        format!("{:016x}", fnv1a64(canonical_text(&v).as_bytes()))
    }

    /// The label without the writer.
    pub fn export_label(&self) -> String {
        let label = self.label();
        label.rsplit_once(' ').map_or(label.clone(), |(k, _)| k.to_string())
    }

    /// Id of the dataset alone, the key of the generated-dataset cache.
    pub fn dataset_id(&self) -> String {
        let canonical = json!({ "v": ID_VERSION, "dataset": self.dataset_json() });
        format!("{:016x}", fnv1a64(canonical_text(&canonical).as_bytes()))
    }

    /// Human label: `20000x2000 d=0.10 q8 gz6 tmpfs cellucid-bench`, plus whatever differs from
    /// the defaults (graph, obs quantization, panel, obs mix, durability, cold cache).
    pub fn label(&self) -> String {
        let d = &self.dataset;
        let mut parts = vec![format!("{}x{}", d.cells, d.genes), format!("d={}", density_text(d.density))];
        let g = graph_label(&d.graph);
        if !g.is_empty() {
            parts.push(g);
        }
        let obs = super::axis::ObsFields { continuous: d.continuous_fields.count, categorical: d.categorical_fields.clone() };
        if obs.label() != "default" {
            parts.push(format!("obs={}", obs.label()));
        }
        let s = &self.settings;
        parts.push(match s.var_quantization {
            Some(b) => format!("q{b}"),
            None => "f32".into(),
        });
        if let Some(b) = s.obs_continuous_quantization {
            parts.push(format!("oq{b}"));
        }
        parts.push(s.compression.label());
        if let Some(n) = s.gene_panel {
            parts.push(format!("panel={n}"));
        }
        parts.push(self.target.clone());
        if self.durability == Durability::Durable {
            parts.push("durable".into());
        }
        if self.cold_cache {
            parts.push("cold".into());
        }
        if let Some(limit) = self.memory_limit {
            parts.push(format!("mem={}", memory_label(limit)));
        }
        parts.push(self.writer.clone());
        parts.join(" ")
    }

    /// Number of genes the export writes.
    pub fn genes_exported(&self) -> usize {
        self.settings.gene_panel.map_or(self.dataset.genes, |p| p.min(self.dataset.genes))
    }
}

/// Canonical JSON of a dataset spec.
pub fn dataset_json(spec: &DatasetSpec) -> Value {
    // DatasetSpec's own serde form: field order is the struct's, floats are shortest
    // round-trip (ryu), so the text is the same everywhere.
    serde_json::to_value(spec).unwrap_or(Value::Null)
}

/// Two decimals for the usual densities (`0.10`), all digits otherwise (`0.005`).
fn density_text(d: f64) -> String {
    let two = format!("{d:.2}");
    if two.parse::<f64>().ok() == Some(d) {
        two
    } else {
        format!("{d}")
    }
}

/// Compact JSON with object keys sorted at every level, so the text does not depend on
/// whether serde_json keeps insertion order (its `preserve_order` feature can be switched
/// on by any crate in the build).
pub fn canonical_text(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&m[k], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(x, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// FNV-1a, 64 bit.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    #[test]
    fn canonical_text_sorts_keys() {
        let v = serde_json::json!({"b": 1, "a": {"d": [1, 2.5], "c": null}});
        assert_eq!(super::canonical_text(&v), r#"{"a":{"c":null,"d":[1,2.5]},"b":1}"#);
    }

    #[test]
    fn fnv_matches_published_vectors() {
        assert_eq!(super::fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(super::fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(super::fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
