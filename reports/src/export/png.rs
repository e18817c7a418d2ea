//! PNG plots: `plots/<id>.png`, drawn with plotters' bitmap backend at the SVG's size.


use super::{plot, Exporter};
use crate::error::ReportError;
use crate::report::Report;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

pub struct Png;

impl Exporter for Png {
    fn name(&self) -> &'static str {
        "png"
    }

    fn write(&self, report: &Report, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
        plot::ensure_font()?;
        let plots = dir.join("plots");
        std::fs::create_dir_all(&plots).map_err(|e| ReportError::io(&plots, e))?;
        let mut files = Vec::new();
        for p in &report.plots {
            let path = plots.join(format!("{}.png", p.id));
            {
                let root = BitMapBackend::new(&path, (plot::WIDTH, plot::HEIGHT)).into_drawing_area();
                plot::draw(root, p)?;
            }
            files.push(path);
        }
        Ok(files)
    }
}
