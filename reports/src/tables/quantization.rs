//! Table 5, *Quantization*: bytes and time from the results, fidelity from synthetic
//! columns.
//!
//! The result store holds no values, so fidelity is computed here, in process: seeded
//! synthetic columns (a log1p-normalised sparse gene column, and a smooth continuous
//! obs column) are quantized with the exporter's own codec
//! (`cellucid_core::codec::quantize`), decoded as the viewer does
//! (`cellucid_core::codec::quantize::dequantize`), and compared with the originals:
//! the largest and the RMS error relative to the column's range, and the share of cells
//! whose colour bin in a 256-step colormap changes.

use super::Input;
use crate::cells::{pairs, CellRuns};
use crate::model::{Codec, Sample};
use crate::report::{Cell, Table};
use crate::stats::{ratio_of_medians, Rng};
use cellucid_core::codec::quantize::{dequantize, quantize};

/// Fidelity of one quantization on one column.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fidelity {
    pub max_rel: f64,
    pub rms_rel: f64,
    /// Share of values whose 256-step colour bin changes.
    pub bin_changed: f64,
}

/// A log1p(CP10k)-like gene column: `zeros` share of exact zeros, the rest log-normal.
pub fn gene_column(n: usize, zeros: f64, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| {
            if rng.unit() < zeros {
                0.0
            } else {
                let z = normal(&mut rng);
                ((0.8 + 0.6 * z).exp() as f32).ln_1p()
            }
        })
        .collect()
}

/// A continuous obs column (e.g. a QC score): normal.
pub fn obs_column(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    (0..n).map(|_| (50.0 + 12.0 * normal(&mut rng)) as f32).collect()
}

fn normal(rng: &mut Rng) -> f64 {
    let u1 = rng.unit().max(1e-300);
    let u2 = rng.unit();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Colour bin of `v` in a 256-step colormap over `[mn, mx]`.
fn bin(v: f64, mn: f64, mx: f64) -> i64 {
    if mx <= mn {
        return 0;
    }
    (((v - mn) / (mx - mn)) * 256.0).floor().clamp(0.0, 255.0) as i64
}

/// Quantize with the exporter's codec, decode as the viewer, compare.
pub fn fidelity(values: &[f32], bits: u32) -> Fidelity {
    let mut codes = Vec::new();
    let bounds = quantize(values, bits, &mut codes);
    let range = bounds.max - bounds.min;
    let (mut max_err, mut sq, mut changed) = (0.0f64, 0.0f64, 0usize);
    for (i, &v) in values.iter().enumerate() {
        let code = if bits == 16 { u16::from_le_bytes([codes[2 * i], codes[2 * i + 1]]) as u32 } else { codes[i] as u32 };
        let back = dequantize(code, bounds, bits) as f64;
        let e = (back - v as f64).abs();
        max_err = max_err.max(e);
        sq += e * e;
        if bin(v as f64, bounds.min, bounds.max) != bin(back, bounds.min, bounds.max) {
            changed += 1;
        }
    }
    let n = values.len().max(1) as f64;
    let range = if range > 0.0 { range } else { 1.0 };
    Fidelity { max_rel: max_err / range, rms_rel: (sq / n).sqrt() / range, bin_changed: changed as f64 / n }
}

/// Columns the fidelity is measured on: 100,000 values each, fixed seeds.
pub fn fidelity_gene(bits: u32) -> Fidelity {
    fidelity(&gene_column(100_000, 0.9, 11), bits)
}

pub fn fidelity_obs(bits: u32) -> Fidelity {
    fidelity(&obs_column(100_000, 12), bits)
}

fn ratio_cell(cells: &[CellRuns], free: &str, with: impl Fn(&Sample) -> bool, codec: Codec, f: fn(&Sample) -> f64) -> Cell {
    let is_base = |s: &Sample| if free == "quant" { s.var_quantization().is_none() } else { s.obs_quantization().is_none() };
    let p = pairs(cells, &[free], |s| with(s) && s.codec() == codec, is_base);
    let good: Vec<(Vec<f64>, Vec<f64>)> = p.iter().filter(|(a, b)| a.enough() && b.enough()).map(|(a, b)| (a.values(f), b.values(f))).collect();
    match ratio_of_medians(&good) {
        Some((v, i)) => Cell::with_interval(v, Some(i)),
        None if !p.is_empty() => Cell::too_few(0),
        None => Cell::missing("not measured"),
    }
}

pub fn table(input: &Input) -> Table {
    let cells = input.plain();
    let mut rows = Vec::new();
    for (what, free, bits) in [("genes", "quant", 16u8), ("genes", "quant", 8), ("continuous obs", "oq", 16), ("continuous obs", "oq", 8)] {
        let with = move |s: &Sample| if free == "quant" { s.var_quantization() == Some(bits) } else { s.obs_quantization() == Some(bits) };
        let fid = if free == "quant" { fidelity_gene(bits as u32) } else { fidelity_obs(bits as u32) };
        rows.push(vec![
            Cell::text(what),
            Cell::text(format!("{bits}-bit")),
            ratio_cell(&cells, free, with, Codec::None, |s| s.bytes_apparent as f64),
            ratio_cell(&cells, free, with, Codec::Gzip(6), |s| s.bytes_apparent as f64),
            ratio_cell(&cells, free, with, Codec::None, |s| s.wall_s),
            ratio_cell(&cells, free, with, Codec::Gzip(6), |s| s.wall_s),
            Cell::num(fid.max_rel * 100.0),
            Cell::num(fid.rms_rel * 100.0),
            Cell::num(fid.bin_changed * 100.0),
        ]);
    }
    let used: Vec<&CellRuns> = cells.iter().collect();
    Table {
        id: "quantization".into(),
        title: "5. Quantization: bytes, time and fidelity".into(),
        guide: "var_quantization = 8 is usually a good default for visualization; obs_continuous_quantization = 8 for continuous metadata.".into(),
        context: input.context(&used),
        columns: [
            "payload", "quantization", "bytes ratio vs f32 (plain)", "bytes ratio vs f32 (gzip 6)", "time ratio vs f32 (plain)",
            "time ratio vs f32 (gzip 6)", "max error, % of range", "RMS error, % of range", "colour bin changed, % of cells",
        ]
        .map(String::from)
        .to_vec(),
        rows,
        notes: vec![
            "Bytes and time: whole-export ratios over matched cells (bootstrap 95 % CI). Fidelity is not in the results (they hold no values): it is computed when the report is made, on 100,000-value synthetic columns (genes: log1p-normalised, 90 % zeros; obs: normal), quantized with the exporter's codec and decoded as the viewer does. A 256-step colormap bin changes when a value sits near a bin edge; at 8 bits (255 levels) about half a bin of error is unavoidable.".into(),
        ],
    }
}
