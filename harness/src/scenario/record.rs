//! `Recorder`: a scenario's findings in a result store.
//!
//! The file is a sweep store in everything but its lines: the same header (machine,
//! commit, the writers with their probed versions) with the plan `scenario:NAME`, then one
//! JSON object per finding, written with one `write_all` and `sync_data` each
//! ([`Store::append_record`]), so a killed scenario keeps every record it finished.
//! `cellucid_reports::model` reads a line with a `"scenario"` key as a scenario record.

use crate::store::{Header, Store};
use crate::writer::WriterInfo;
use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::path::Path;

/// An open scenario store.
pub struct Recorder {
    store: Store,
    scenario: String,
    records: usize,
}

impl Recorder {
    /// A new store at `path` for `scenario`, its header naming `writers`. An existing
    /// file is refused: a scenario's store is written by one run (there is nothing to
    /// resume: a scenario is minutes, and its steps depend on each other).
    pub fn create(path: &Path, scenario: &str, writers: Vec<WriterInfo>) -> Result<Recorder> {
        if path.exists() {
            bail!("{} already exists (a scenario store is written by one run: remove it or choose another --out)", path.display());
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let mut header = Header::new(&format!("scenario:{scenario}"), None);
        header.writers = writers;
        let store = Store::create_or_resume(path, header, false).map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(Recorder { store, scenario: scenario.into(), records: 0 })
    }

    /// Appends one record (durable on return) with `"finished_at"` added. It must be an
    /// object with `"scenario"` (this store's), `"writer"` (a name) and `"target"` (a
    /// target name, or null).
    pub fn append(&mut self, record: &Value) -> Result<()> {
        let Some(fields) = record.as_object() else { bail!("a scenario record must be a JSON object, not {record}") };
        if fields.get("scenario").and_then(Value::as_str) != Some(self.scenario.as_str()) {
            bail!("a record of this store must have \"scenario\": {:?}: {record}", self.scenario);
        }
        if !fields.get("writer").and_then(Value::as_str).is_some_and(|w| !w.is_empty()) {
            bail!("a scenario record must name its \"writer\": {record}");
        }
        if !fields.get("target").is_some_and(|t| t.is_string() || t.is_null()) {
            bail!("a scenario record must have \"target\" (a target name, or null): {record}");
        }
        let mut line = fields.clone();
        line.insert("finished_at".into(), json!(cellucid_core::text::utc_now()));
        self.store.append_record(&Value::Object(line)).map_err(|e| anyhow::anyhow!("{e}"))?;
        self.records += 1;
        Ok(())
    }

    /// Records appended so far.
    pub fn records(&self) -> usize {
        self.records
    }

    pub fn path(&self) -> &Path {
        self.store.path()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(writer: &str) -> Value {
        json!({"scenario": "stale-export", "writer": writer, "target": null, "force": false, "exit_status": 1})
    }

    #[test]
    fn records_follow_the_header_and_the_report_reads_them() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("sub/stale.jsonl");
        let info = crate::writer::builtin::ours().info(Some("0.1.0".into()));
        let mut r = Recorder::create(&path, "stale-export", vec![info]).expect("create");
        r.append(&record("cellucid-bench")).expect("append");
        r.append(&record("cellucid-py-0.9.2")).expect("append");
        assert_eq!(r.records(), 2);
        let text = std::fs::read_to_string(&path).expect("read");
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).expect("json line")).collect();
        assert_eq!(lines[0]["plan"], "scenario:stale-export");
        assert_eq!(lines[0]["writers"][0]["name"], "cellucid-bench");
        assert_eq!(lines[2]["writer"], "cellucid-py-0.9.2");
        assert!(lines[1]["finished_at"].as_str().is_some_and(|t| t.ends_with('Z')));
        let store = cellucid_reports::model::Store::parse(&text).expect("the report's reader");
        assert_eq!((store.scenarios.len(), store.samples.len(), store.failed), (2, 0, 0));
    }

    #[test]
    fn records_without_their_keys_and_existing_files_are_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("s.jsonl");
        let mut r = Recorder::create(&path, "stale-export", Vec::new()).expect("create");
        let e = r.append(&json!({"scenario": "cloud-sync", "writer": "w", "target": null})).unwrap_err().to_string();
        assert!(e.contains("\"scenario\": \"stale-export\""), "{e}");
        assert!(r.append(&json!({"scenario": "stale-export", "target": null})).unwrap_err().to_string().contains("\"writer\""));
        assert!(r.append(&json!({"scenario": "stale-export", "writer": "w"})).unwrap_err().to_string().contains("\"target\""));
        assert!(r.append(&json!([1])).is_err());
        assert_eq!(r.records(), 0);
        drop(r);
        let e = Recorder::create(&path, "stale-export", Vec::new()).err().unwrap().to_string();
        assert!(e.contains("already exists"), "{e}");
    }
}
