//! The reports' own, tolerant reading of a harness result store (JSONL).
//!
//! The layering rule (harness → reports → core) forbids using the harness's record types,
//! so this is a second, read-only model of the same lines: one header line, then one
//! sample per line. Unknown fields are ignored (newer harnesses stay readable), missing
//! ones take defaults, and a last line that does not parse is taken to be a run that was
//! killed while writing and is skipped. Any other bad line is an error, with its number.
//!
//! A line with a `"scenario"` key is not a sample but a scenario's finding (the store of
//! `cellucid-bench scenario NAME`, plan `scenario:NAME`): a [`ScenarioRecord`], kept
//! whole for the rule it judges (`crate::scenarios`). Stores written before scenarios
//! existed simply have none.
//!
//! Some cell properties are not stored as fields (durability and cold cache appear only
//! in the sample's label, the graph only in the dataset spec); [`Sample`] derives them.

use crate::error::ReportError;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

/// The machine a store was measured on.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Machine {
    pub cpu_model: String,
    pub cores: usize,
    pub memory_bytes: u64,
    pub kernel: String,
    pub os: String,
    pub hostname: String,
}

impl Machine {
    /// `AMD EPYC, 2 cores, 24 GB, Linux (Debian GNU/Linux 12)`.
    pub fn describe(&self) -> String {
        let cpu = if self.cpu_model.is_empty() { "unknown CPU" } else { &self.cpu_model };
        format!("{cpu}, {} cores, {:.0} GB RAM, {}", self.cores, self.memory_bytes as f64 / 1e9, self.os)
    }
}

/// The first line of a store.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Header {
    pub format: String,
    pub version: u32,
    pub plan: String,
    /// UTC `YYYY-MM-DDTHH:MM:SSZ`.
    pub started: String,
    pub machine: Machine,
    pub git_commit: Option<String>,
    /// A merged store's machines and commits when its shards differed in them (empty
    /// otherwise: then `machine` and `git_commit` are the only ones).
    pub machines: Vec<Machine>,
    pub git_commits: Vec<String>,
    /// The writers the sweep ran (new stores; old ones have none).
    pub writers: Vec<WriterInfo>,
}

/// A writer as the store's header declares it.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct WriterInfo {
    pub name: String,
    /// The version probe's first line, if the writer has a probe.
    pub version: Option<String>,
    /// `compact_v1`, `compact_v1_key_era`, `anndata` or `other` (empty in stores
    /// older than writers).
    pub output: String,
}

/// The built-in writer names old stores' `subject` values stand for.
pub const OURS: &str = "cellucid-bench";
pub const REFERENCE_092: &str = "cellucid-py-0.9.2";

/// The writer an old store's `subject` means (`ours`, `reference`); other values are
/// taken as writer names.
pub fn writer_of_subject(subject: &str) -> &str {
    match subject {
        "ours" => OURS,
        "reference" => REFERENCE_092,
        other => other,
    }
}

/// One phase of an export as the exporter reported it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct PhaseRecord {
    pub phase: String,
    pub wall: f64,
    pub cpu: f64,
    pub bytes: u64,
    pub raw_bytes: u64,
    pub files: u64,
}

/// The bounds of a physical floor, in seconds: the floor is the largest.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct FloorBounds {
    pub floor_s: f64,
    pub codec_s: f64,
    pub create_s: f64,
    pub seq_write_s: f64,
}

impl FloorBounds {
    /// Each bound the lesser of the two (each is a lower bound on its own).
    pub fn least(self, o: FloorBounds) -> FloorBounds {
        let (codec_s, create_s, seq_write_s) =
            (self.codec_s.min(o.codec_s), self.create_s.min(o.create_s), self.seq_write_s.min(o.seq_write_s));
        FloorBounds { floor_s: codec_s.max(create_s).max(seq_write_s), codec_s, create_s, seq_write_s }
    }
}

/// The physical floor of a run's cell (what the target can do at best). As read, the
/// cell's floor when the sample was stored; after [`Store::parse`], the cell's floor
/// over the whole store: the least of each bound over its runs ([`cell_floors`]).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Floor {
    #[serde(flatten)]
    pub least: FloorBounds,
    /// The bounds measured beside this run (stores before 2026-12-03's floor per run
    /// have none: one floor per cell).
    pub this_run: Option<FloorBounds>,
}

/// Why a cell was not run: its writer's budget, and what the sizing model predicted.
/// A prediction, never a measurement.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Skipped {
    pub reason: String,
    pub predicted_wall_s: Option<f64>,
    pub predicted_rss_bytes: Option<u64>,
}

/// One measured run (or, with `skipped`, a run left out for its budget).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Sample {
    pub cell_id: String,
    pub label: String,
    pub repeat: u32,
    pub target: String,
    /// The writer that ran (normalised on reading: old stores' `subject` mapped).
    pub writer: String,
    /// Old stores only (`ours`, `reference`); see [`writer_of_subject`].
    pub subject: String,
    pub settings: Value,
    pub dataset: Value,
    pub wall_s: f64,
    pub user_s: f64,
    pub sys_s: f64,
    pub max_rss_bytes: u64,
    pub bytes_apparent: u64,
    pub files: u64,
    pub phases: Option<Vec<PhaseRecord>>,
    pub floor: Option<Floor>,
    /// Cell's floor / wall time, not capped: above 1 when a run was measured faster
    /// than its cell's floor (recomputed on reading, see [`cell_floors`]).
    pub efficiency: Option<f64>,
    pub ok: bool,
    pub error: Option<String>,
    pub skipped: Option<Skipped>,
    pub finished_at: String,
    /// Our exporter's `--memory-limit` for this run (absent: its default).
    pub memory_limit_bytes: Option<u64>,
    /// Bytes of the gene matrix spilled out of core (absent: nothing spilled, or a writer
    /// that does not say).
    pub spill_bytes: Option<u64>,
}

/// One finding of a scenario (a store line with a `"scenario"` key).
#[derive(Clone, Debug, PartialEq)]
pub struct ScenarioRecord {
    /// The scenario's name (`stale-export`, `too-many-files`, `cloud-sync`).
    pub scenario: String,
    pub writer: String,
    /// The target name, if the scenario ran on one.
    pub target: Option<String>,
    /// The whole line, with the scenario's own fields.
    pub data: Value,
}

impl ScenarioRecord {
    /// The record in `line`, if it is one (an object with a string `"scenario"`).
    fn from_line(line: &Value) -> Option<ScenarioRecord> {
        let scenario = line.get("scenario")?.as_str()?.to_string();
        let text = |k: &str| line.get(k).and_then(Value::as_str).map(str::to_string);
        Some(ScenarioRecord { scenario, writer: text("writer").unwrap_or_default(), target: text("target"), data: line.clone() })
    }
}

/// How gene payloads were compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Codec {
    None,
    Gzip(u8),
    /// The what-if codec the viewer cannot load.
    Zstd(i32),
}

impl Codec {
    /// `plain`, `gz6`, `zstd3`.
    pub fn label(self) -> String {
        match self {
            Codec::None => "plain".into(),
            Codec::Gzip(l) => format!("gz{l}"),
            Codec::Zstd(l) => format!("zstd{l}"),
        }
    }
}

/// Quantization label: `f32`, `q16`, `q8`.
pub fn quant_label(q: Option<u8>) -> String {
    match q {
        Some(b) => format!("q{b}"),
        None => "f32".into(),
    }
}

impl Sample {
    fn ds_u64(&self, key: &str) -> u64 {
        self.dataset.get(key).and_then(Value::as_u64).unwrap_or(0)
    }

    pub fn cells(&self) -> u64 {
        self.ds_u64("cells")
    }

    pub fn genes(&self) -> u64 {
        self.ds_u64("genes")
    }

    pub fn density(&self) -> f64 {
        self.dataset.get("density").and_then(Value::as_f64).unwrap_or(0.0)
    }

    /// Genes the export wrote (the panel, or every gene).
    pub fn genes_exported(&self) -> u64 {
        match self.settings.get("gene_panel").and_then(Value::as_u64) {
            Some(p) => p.min(self.genes()),
            None => self.genes(),
        }
    }

    pub fn gene_panel(&self) -> Option<u64> {
        self.settings.get("gene_panel").and_then(Value::as_u64)
    }

    pub fn var_quantization(&self) -> Option<u8> {
        self.settings.get("var_quantization").and_then(Value::as_u64).and_then(|b| u8::try_from(b).ok())
    }

    pub fn obs_quantization(&self) -> Option<u8> {
        self.settings.get("obs_continuous_quantization").and_then(Value::as_u64).and_then(|b| u8::try_from(b).ok())
    }

    pub fn codec(&self) -> Codec {
        match self.settings.get("compression") {
            Some(Value::Number(n)) => n.as_u64().and_then(|l| u8::try_from(l).ok()).map_or(Codec::None, Codec::Gzip),
            Some(Value::String(s)) => match s.split_once(':') {
                Some(("zstd", l)) => l.parse().map_or(Codec::None, Codec::Zstd),
                Some(("gzip", l)) => l.parse().map_or(Codec::None, Codec::Gzip),
                _ => Codec::None,
            },
            _ => Codec::None,
        }
    }

    /// Durability and cold cache are in the label only (`… durable ours`, `… cold ours`).
    pub fn durable(&self) -> bool {
        self.label.split_whitespace().any(|t| t == "durable")
    }

    pub fn cold(&self) -> bool {
        self.label.split_whitespace().any(|t| t == "cold")
    }

    /// Edges per cell of the dataset's graph: `knn:K` → K, `edges:E` → E/cells, none → 0.
    pub fn edges_per_cell(&self) -> f64 {
        let g = match self.dataset.get("graph") {
            Some(g) => g,
            None => return 0.0,
        };
        let num = |k: &str| g.get(k).and_then(Value::as_f64);
        match g.get("kind").and_then(Value::as_str) {
            Some("knn") => num("k").or_else(|| num("neighbors")).unwrap_or(0.0),
            Some("density") => num("edges_per_cell").unwrap_or(0.0),
            Some("edges") => num("edges").map_or(0.0, |e| e / self.cells().max(1) as f64),
            _ => 0.0,
        }
    }

    /// A short graph description: `none`, `knn15`.
    pub fn graph_label(&self) -> String {
        let g = self.dataset.get("graph");
        match g.and_then(|g| g.get("kind")).and_then(Value::as_str) {
            None | Some("none") => "none".into(),
            Some(kind) => format!("{kind} ({:.0} edges/cell)", self.edges_per_cell()),
        }
    }

    /// Number of obs fields (continuous + categorical).
    pub fn obs_fields(&self) -> u64 {
        let cont = self.dataset.get("continuous_fields").and_then(|c| c.get("count")).and_then(Value::as_u64).unwrap_or(0);
        let cat = self.dataset.get("categorical_fields").and_then(Value::as_array).map_or(0, |a| a.len() as u64);
        cont + cat
    }

    /// Embedding dimensions summed over the embeddings (a 2-D and a 3-D UMAP: 5).
    pub fn embedding_dims(&self) -> u64 {
        self.dataset.get("embedding_dims").and_then(Value::as_array).map_or(0, |a| a.iter().filter_map(Value::as_u64).sum())
    }

    /// The named phase, if the run reported phases.
    pub fn phase(&self, name: &str) -> Option<&PhaseRecord> {
        self.phases.as_ref()?.iter().find(|p| p.phase == name)
    }

    /// Uncompressed payload bytes (all phases).
    pub fn raw_bytes(&self) -> u64 {
        self.phases.as_ref().map_or(0, |ps| ps.iter().map(|p| p.raw_bytes).sum())
    }

    /// The setting as users name it: `q8 gz6`, `f32 plain panel=200`.
    pub fn setting_label(&self) -> String {
        let mut s = format!("{} {}", quant_label(self.var_quantization()), self.codec().label());
        if let Some(b) = self.obs_quantization() {
            s.push_str(&format!(" oq{b}"));
        }
        if let Some(p) = self.gene_panel() {
            s.push_str(&format!(" panel={p}"));
        }
        s
    }
}

/// One store: its header and its successful samples.
#[derive(Clone, Debug, Default)]
pub struct Store {
    pub header: Header,
    pub samples: Vec<Sample>,
    /// Samples whose run failed (`ok: false`), kept out of every table.
    pub failed: usize,
    /// Cells skipped for their writer's budget: predictions, kept out of every
    /// statistic (shown only as extrapolated).
    pub skipped: Vec<Sample>,
    /// Whether a torn last line was skipped.
    pub truncated: bool,
    /// Scenario findings (scenario stores; none in sweep stores).
    pub scenarios: Vec<ScenarioRecord>,
}

impl Store {
    /// Reads a store file.
    pub fn read(path: &Path) -> Result<Store, ReportError> {
        let text = std::fs::read_to_string(path).map_err(|e| ReportError::Io { path: path.to_path_buf(), source: e })?;
        Store::parse(&text).map_err(|e| match e {
            ReportError::Parse { line, message, .. } => ReportError::Parse { path: path.to_path_buf(), line, message },
            other => other,
        })
    }

    /// Parses a store's text (the path in errors is empty).
    pub fn parse(text: &str) -> Result<Store, ReportError> {
        let lines: Vec<(usize, &str)> =
            text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())).filter(|(_, l)| !l.is_empty()).collect();
        let parse_err = |line: usize, message: String| ReportError::Parse { path: Default::default(), line, message };
        let (first_no, first) = lines.first().copied().ok_or_else(|| parse_err(1, "empty result store".into()))?;
        let header: Header = serde_json::from_str(first).map_err(|e| parse_err(first_no, e.to_string()))?;
        if header.format != "cellucid-bench-results" {
            return Err(parse_err(first_no, format!("not a cellucid-bench result store (format {:?})", header.format)));
        }
        let mut store = Store { header, ..Store::default() };
        let last = lines.len() - 1;
        for (idx, &(no, line)) in lines.iter().enumerate().skip(1) {
            let parsed = serde_json::from_str::<Value>(line).and_then(|v| match ScenarioRecord::from_line(&v) {
                Some(r) => Ok(Line::Scenario(r)),
                None => serde_json::from_value::<Sample>(v).map(Line::Sample),
            });
            match parsed {
                Ok(Line::Scenario(r)) => store.scenarios.push(r),
                Ok(Line::Sample(mut s)) => {
                    if s.writer.is_empty() {
                        s.writer = writer_of_subject(&s.subject).to_string();
                    }
                    match (s.ok, &s.skipped) {
                        (_, Some(_)) => store.skipped.push(s),
                        (true, None) => store.samples.push(s),
                        (false, None) => store.failed += 1,
                    }
                }
                // A writer killed mid-line leaves a torn last line; the rest is intact.
                Err(_) if idx == last && !text.ends_with('\n') => store.truncated = true,
                Err(e) => return Err(parse_err(no, e.to_string())),
            }
        }
        cell_floors(&mut store.samples);
        Ok(store)
    }
}

/// Gives every sample with a floor its cell's floor over the whole store, the least of
/// each bound over the floors measured beside the cell's runs, and the raw efficiency
/// against it. A store holds each sample's floor as known when it was stored (the least
/// so far); older stores hold one floor per cell, which this leaves as it was, and
/// efficiencies some of them capped at 1, which this recomputes uncapped.
pub fn cell_floors(samples: &mut [Sample]) {
    let mut least: HashMap<String, FloorBounds> = HashMap::new();
    for s in samples.iter() {
        if let Some(f) = &s.floor {
            let b = f.this_run.unwrap_or(f.least);
            least.entry(s.cell_id.clone()).and_modify(|l| *l = l.least(b)).or_insert(b);
        }
    }
    for s in samples.iter_mut() {
        if let (Some(f), Some(l)) = (s.floor.as_mut(), least.get(&s.cell_id)) {
            f.least = *l;
            s.efficiency = Some(l.floor_s / s.wall_s.max(1e-9));
        }
    }
}

/// A store line after the header.
enum Line {
    Sample(Sample),
    Scenario(ScenarioRecord),
}

/// All samples of several stores, with the context every table states.
#[derive(Clone, Debug, Default)]
pub struct Results {
    pub stores: Vec<Store>,
}

impl Results {
    pub fn new(stores: Vec<Store>) -> Results {
        Results { stores }
    }

    pub fn samples(&self) -> impl Iterator<Item = &Sample> {
        self.stores.iter().flat_map(|s| s.samples.iter())
    }

    /// The machines, deduplicated, described (every shard's, for a merged store).
    pub fn machine(&self) -> String {
        let all = self.stores.iter().flat_map(|s| {
            let h = &s.header;
            if h.machines.is_empty() { std::slice::from_ref(&h.machine) } else { &h.machines[..] }
        });
        let seen = distinct(all.map(Machine::describe));
        if seen.is_empty() {
            "unknown machine".into()
        } else {
            seen.join("; ")
        }
    }

    /// The commits the measuring binaries were built from, deduplicated and shortened
    /// (`-dirty`: with uncommitted changes); every shard's, for a merged store.
    pub fn commits(&self) -> String {
        let all = self.stores.iter().flat_map(|s| {
            let h = &s.header;
            if h.git_commits.is_empty() {
                vec![h.git_commit.as_deref().unwrap_or("unknown")]
            } else {
                h.git_commits.iter().map(String::as_str).collect()
            }
        });
        let short = |c: &str| match c.split_once('-') {
            Some((hash, rest)) => format!("{}-{rest}", hash.chars().take(10).collect::<String>()),
            None => c.chars().take(10).collect(),
        };
        distinct(all.map(short)).join(", ")
    }

    /// The dates the stores were started (`YYYY-MM-DD`), deduplicated.
    pub fn date(&self) -> String {
        distinct(self.stores.iter().map(|s| s.header.started.chars().take(10).collect())).join(", ")
    }

    /// Every scenario record of every store.
    pub fn scenarios(&self) -> impl Iterator<Item = &ScenarioRecord> {
        self.stores.iter().flat_map(|s| s.scenarios.iter())
    }

    /// Skipped cells' samples (predictions only).
    pub fn skipped(&self) -> impl Iterator<Item = &Sample> {
        self.stores.iter().flat_map(|s| s.skipped.iter())
    }

    /// Every writer in the results: those the headers declare, then those only the
    /// samples name, in order of first appearance; `first` (the baseline) leads if present.
    pub fn writers(&self, first: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let declared = self.stores.iter().flat_map(|s| s.header.writers.iter().map(|w| w.name.as_str()));
        let sampled = self.samples().chain(self.skipped()).map(|s| s.writer.as_str());
        let seen = sampled.chain(self.scenarios().map(|r| r.writer.as_str()));
        for w in declared.chain(seen) {
            if !w.is_empty() && !out.iter().any(|o| o == w) {
                out.push(w.to_string());
            }
        }
        if let Some(i) = out.iter().position(|w| w == first) {
            let w = out.remove(i);
            out.insert(0, w);
        }
        out
    }

    /// `name 0.9.2` for writers whose header declares a version.
    pub fn writer_version(&self, name: &str) -> Option<String> {
        self.stores.iter().flat_map(|s| s.header.writers.iter()).find(|w| w.name == name).and_then(|w| w.version.clone())
    }

    /// Each declared writer's output kind, as its store header says (the first
    /// header that declares it wins).
    pub fn outputs(&self) -> std::collections::BTreeMap<String, String> {
        let mut out = std::collections::BTreeMap::new();
        for w in self.stores.iter().flat_map(|s| s.header.writers.iter()).filter(|w| !w.output.is_empty()) {
            out.entry(w.name.clone()).or_insert_with(|| w.output.clone());
        }
        out
    }

    pub fn plans(&self) -> String {
        self.stores.iter().map(|s| s.header.plan.as_str()).collect::<Vec<_>>().join(", ")
    }
}

/// `items` without repeats, in order of first appearance.
fn distinct(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for item in items {
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = r#"{"format":"cellucid-bench-results","version":1,"plan":"p","started":"2026-12-02T06:00:00Z","machine":{}}"#;
    const SAMPLE: &str = r#"{"cell_id":"c1","label":"300x40 d=0.10 q8 gz6 tmpfs ours","repeat":1,"subject":"ours","wall_s":0.5,"ok":true}"#;
    const RECORD: &str = r#"{"scenario":"stale-export","writer":"cellucid-py-0.0.9","target":null,"force":false,"exit_status":0,"folder_equals":"A"}"#;

    #[test]
    fn the_cell_floor_is_the_least_of_each_bound_over_the_store() {
        let run = |repeat: u32, wall: f64, this: &str, least: &str| {
            format!(
                r#"{{"cell_id":"c1","repeat":{repeat},"writer":"w","wall_s":{wall},"ok":true,"efficiency":0.1,"floor":{{{least},"runs":{repeat},"this_run":{{{this}}}}}}}"#
            )
        };
        // Run 1 measured create 0.4; run 2 codec 0.3 with create 0.6: the cell's floor is
        // max(0.3, 0.4, 0.1) = 0.4 for both, though run 2 was stored with a floor of 0.4
        // and run 1 with its own 0.5.
        let one = run(
            1,
            0.8,
            r#""codec_s":0.5,"create_s":0.4,"seq_write_s":0.1,"floor_s":0.5"#,
            r#""codec_s":0.5,"create_s":0.4,"seq_write_s":0.1,"floor_s":0.5"#,
        );
        let two = run(
            2,
            0.2,
            r#""codec_s":0.3,"create_s":0.6,"seq_write_s":0.1,"floor_s":0.6"#,
            r#""codec_s":0.3,"create_s":0.4,"seq_write_s":0.1,"floor_s":0.4"#,
        );
        let s = Store::parse(&format!("{HEADER}\n{one}\n{two}\n")).expect("parses");
        let want = FloorBounds { floor_s: 0.4, codec_s: 0.3, create_s: 0.4, seq_write_s: 0.1 };
        for x in &s.samples {
            assert_eq!(x.floor.as_ref().map(|f| f.least), Some(want));
        }
        let eff: Vec<f64> = s.samples.iter().filter_map(|x| x.efficiency).collect();
        assert!((eff[0] - 0.5).abs() < 1e-12, "recomputed, not the stored 0.1: {eff:?}");
        assert!((eff[1] - 2.0).abs() < 1e-12, "not capped: a run faster than its floor says so: {eff:?}");
    }

    #[test]
    fn an_old_store_keeps_its_one_floor_per_cell_uncapped() {
        let old = |repeat: u32| {
            format!(
                r#"{{"cell_id":"c1","repeat":{repeat},"writer":"w","wall_s":0.25,"ok":true,"efficiency":1.0,"floor":{{"codec_s":0.1,"create_s":0.5,"seq_write_s":0.2,"floor_s":0.5,"files":3}}}}"#
            )
        };
        let s = Store::parse(&format!("{HEADER}\n{}\n{}\n{SAMPLE}\n", old(1), old(2))).expect("parses");
        assert_eq!(s.samples[0].floor.as_ref().map(|f| f.least.floor_s), Some(0.5));
        assert_eq!(s.samples[1].efficiency, Some(2.0), "the stored cap is undone");
        assert_eq!(s.samples[2].efficiency, None, "no floor, no efficiency");
    }

    #[test]
    fn old_stores_have_no_scenario_records() {
        let s = Store::parse(&format!("{HEADER}\n{SAMPLE}\n")).expect("parses");
        assert_eq!((s.samples.len(), s.scenarios.len(), s.failed), (1, 0, 0));
        assert_eq!(s.samples[0].writer, OURS);
    }

    #[test]
    fn scenario_lines_are_records_not_samples() {
        let s = Store::parse(&format!("{HEADER}\n{SAMPLE}\n{RECORD}\n")).expect("parses");
        assert_eq!((s.samples.len(), s.scenarios.len(), s.failed), (1, 1, 0));
        let r = &s.scenarios[0];
        assert_eq!((r.scenario.as_str(), r.writer.as_str(), r.target.as_deref()), ("stale-export", "cellucid-py-0.0.9", None));
        assert_eq!(r.data["folder_equals"], "A", "the whole line is kept");
        let results = Results::new(vec![s]);
        assert_eq!(results.writers(OURS), [OURS, "cellucid-py-0.0.9"], "a writer with records only is reported on");
        assert_eq!(results.scenarios().count(), 1);
    }

    #[test]
    fn a_torn_last_record_is_skipped_and_a_torn_middle_one_is_an_error() {
        let torn = &RECORD[..40];
        let s = Store::parse(&format!("{HEADER}\n{RECORD}\n{torn}")).expect("parses");
        assert!(s.truncated);
        assert_eq!(s.scenarios.len(), 1);
        assert!(Store::parse(&format!("{HEADER}\n{torn}\n{RECORD}\n")).is_err());
    }
}
