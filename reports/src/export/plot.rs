//! Drawing one [`Plot`] with `plotters`, for any backend (SVG and PNG share this).
//!
//! Log axes are drawn by plotting log10 of the values on linear axes and labelling the
//! ticks with the original values: one chart type for every axis combination.
//!
//! Text needs a TrueType font (plotters' `ab_glyph` feature, no system font lookup): it
//! is read once from `CELLUCID_FONT` or from Debian's `fonts-dejavu-core`.

use crate::error::ReportError;
use crate::report::{fmt_num, Plot};
use plotters::prelude::*;
use std::sync::OnceLock;

pub const WIDTH: u32 = 900;
pub const HEIGHT: u32 = 520;

const FONT_PATHS: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
];

static FONT: OnceLock<Result<(), String>> = OnceLock::new();

/// Registers the plot font once per process.
pub fn ensure_font() -> Result<(), ReportError> {
    FONT.get_or_init(|| {
        let candidates: Vec<String> =
            std::env::var("CELLUCID_FONT").into_iter().chain(FONT_PATHS.iter().map(|s| s.to_string())).collect();
        for p in &candidates {
            if let Ok(bytes) = std::fs::read(p) {
                // plotters keeps registered fonts for the process's life: leak once.
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                return plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
                    .map_err(|_| format!("{p} is not a usable TrueType font"));
            }
        }
        Err(format!("none of {} exists", candidates.join(", ")))
    })
    .clone()
    .map_err(ReportError::Font)
}

fn tx(v: f64, log: bool) -> f64 {
    if log {
        v.log10()
    } else {
        v
    }
}

fn label(v: f64, log: bool) -> String {
    if log {
        short(10f64.powf(v))
    } else {
        fmt_num(v)
    }
}

/// Two significant digits with k/M/G suffixes: tick labels of log axes.
fn short(v: f64) -> String {
    let (d, suffix) = match v.abs() {
        a if a >= 1e9 => (1e9, "G"),
        a if a >= 1e6 => (1e6, "M"),
        a if a >= 1e3 => (1e3, "k"),
        _ => (1.0, ""),
    };
    let x = v / d;
    let digits = if x.abs() >= 10.0 || x == 0.0 { 0 } else { (1 - x.abs().log10().floor() as i32).max(0) as usize };
    format!("{x:.digits$}{suffix}")
}

/// Draws `plot` on `root`.
pub fn draw<DB: DrawingBackend>(root: DrawingArea<DB, plotters::coord::Shift>, plot: &Plot) -> Result<(), ReportError> {
    let err = |e: String| ReportError::Plot { plot: plot.id.clone(), message: e };
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let pts: Vec<(f64, f64)> = plot
        .series
        .iter()
        .flat_map(|s| s.points.iter())
        .filter(|(x, y)| (!plot.log_x || *x > 0.0) && (!plot.log_y || *y > 0.0))
        .map(|&(x, y)| (tx(x, plot.log_x), tx(y, plot.log_y)))
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    let range = |v: Vec<f64>, log: bool| {
        let (mn, mx) = v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
        if !mn.is_finite() {
            return 0.0..1.0;
        }
        let pad = if mx > mn { (mx - mn) * 0.08 } else if log { 0.5 } else { mn.abs().max(1.0) * 0.1 };
        let lo = if !log && mn >= 0.0 && mn - pad < 0.0 { 0.0 } else { mn - pad };
        lo..mx + pad
    };
    let xr = range(pts.iter().map(|p| p.0).collect(), plot.log_x);
    let yr = range(pts.iter().map(|p| p.1).collect(), plot.log_y);
    let mut chart = ChartBuilder::on(&root)
        .caption(&plot.title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(70)
        .build_cartesian_2d(xr, yr)
        .map_err(|e| err(e.to_string()))?;
    let (lx, ly) = (plot.log_x, plot.log_y);
    chart
        .configure_mesh()
        .x_desc(&plot.x_label)
        .y_desc(&plot.y_label)
        .x_label_formatter(&|v| label(*v, lx))
        .y_label_formatter(&|v| label(*v, ly))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    for (i, s) in plot.series.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let data: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter(|(x, y)| (!lx || *x > 0.0) && (!ly || *y > 0.0))
            .map(|&(x, y)| (tx(x, lx), tx(y, ly)))
            .collect();
        chart
            .draw_series(LineSeries::new(data.clone(), color.stroke_width(2)))
            .map_err(|e| err(e.to_string()))?
            .label(s.name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3)));
        chart
            .draw_series(data.iter().map(|&p| Circle::new(p, 4, color.filled())))
            .map_err(|e| err(e.to_string()))?;
    }
    if !plot.series.is_empty() {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 13))
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(|e| err(e.to_string()))?;
    }
    root.present().map_err(|e| err(e.to_string()))?;
    Ok(())
}

/// The plot as an SVG document.
pub fn svg_string(plot: &Plot) -> Result<String, ReportError> {
    ensure_font()?;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
        draw(root, plot)?;
    }
    Ok(out)
}
