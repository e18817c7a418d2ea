//! JSON: the whole report model as `report.json` (tables with numbers and intervals,
//! plot series, the rule × writer verdicts with each writer's outcome and numbers).

use super::{write_file, Exporter};
use crate::error::ReportError;
use crate::report::Report;
use std::path::{Path, PathBuf};

pub struct Json;

impl Exporter for Json {
    fn name(&self) -> &'static str {
        "json"
    }

    fn write(&self, report: &Report, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
        let text = serde_json::to_string_pretty(report)
            .map_err(|e| ReportError::Serialise { what: "report".into(), message: e.to_string() })?;
        Ok(vec![write_file(dir, "report.json", text.as_bytes())?])
    }
}
