//! `Recorder`: appends a scenario's records to a result store (the sweep's JSONL format:
//! a header line with plan `scenario:NAME`, then one JSON object per line, fsync'd).

use crate::store::Header;
use anyhow::{Context as _, Result};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

/// An open store of one scenario's records.
pub struct Recorder {
    path: PathBuf,
    file: std::fs::File,
}

impl Recorder {
    /// Creates `path` (which must not exist) with the header of plan `scenario:NAME`.
    pub fn create(path: &Path, scenario: &str) -> Result<Recorder> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let file = std::fs::OpenOptions::new()
            .append(true)
            .create_new(true)
            .open(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        let mut r = Recorder { path: path.to_path_buf(), file };
        let header = serde_json::to_value(Header::new(&format!("scenario:{scenario}"), None))?;
        r.write_line(&header)?;
        Ok(r)
    }

    /// Appends one record (which must name its scenario, writer and target) with its
    /// `finished_at`, durably.
    pub fn append(&mut self, record: &Value) -> Result<()> {
        for key in ["scenario", "writer", "target"] {
            anyhow::ensure!(record.get(key).is_some(), "a scenario record needs {key:?}: {record}");
        }
        let mut line = record.clone();
        line["finished_at"] = Value::String(cellucid_core::text::utc_now());
        self.write_line(&line)
    }

    fn write_line(&mut self, v: &Value) -> Result<()> {
        let mut text = serde_json::to_string(v)?;
        text.push('\n');
        self.file.write_all(text.as_bytes()).and_then(|()| self.file.sync_data()).with_context(|| format!("cannot append to {}", self.path.display()))
    }
}
