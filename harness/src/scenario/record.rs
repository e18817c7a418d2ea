//! STAND-IN (see `mod.rs`): appends scenario records, one JSON object per line, each
//! with its `finished_at`, synced to disk.

use std::io::Write;

/// Where a scenario's records go.
pub struct Recorder {
    file: std::fs::File,
}

impl Recorder {
    /// Creates (or appends to) `path`, whose first line is a store header for plan
    /// `scenario:NAME`.
    pub fn create(path: &std::path::Path, scenario: &str) -> anyhow::Result<Recorder> {
        let fresh = !path.exists();
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        if fresh {
            let header = crate::store::Header::new(&format!("scenario:{scenario}"), None);
            writeln!(file, "{}", serde_json::to_string(&header)?)?;
        }
        Ok(Recorder { file })
    }

    /// Appends `record` (a JSON object) with `finished_at`.
    pub fn append(&mut self, record: &serde_json::Value) -> anyhow::Result<()> {
        let mut r = record.clone();
        anyhow::ensure!(r.is_object(), "a scenario record must be a JSON object");
        r["finished_at"] = serde_json::json!(cellucid_core::text::utc_now());
        writeln!(self.file, "{r}")?;
        self.file.sync_data()?;
        Ok(())
    }
}
