//! SVG plots: `plots/<id>.svg`.

use super::{plot, write_file, Exporter};
use crate::error::ReportError;
use crate::report::Report;
use std::path::{Path, PathBuf};

pub struct Svg;

impl Exporter for Svg {
    fn name(&self) -> &'static str {
        "svg"
    }

    fn write(&self, report: &Report, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
        report.plots.iter().map(|p| write_file(dir, &format!("plots/{}.svg", p.id), plot::svg_string(p)?.as_bytes())).collect()
    }
}
