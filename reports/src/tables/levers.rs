//! Table 3, *The three levers*: what a gene panel, quantization and gzip do to time,
//! bytes and files, as ratios with bootstrap intervals over matched cells.

use super::Input;
use crate::cells::{pairs, CellRuns};
use crate::model::{Codec, Sample};
use crate::report::{Cell, Table};
use crate::stats::{ratio_of_medians, Interval};

/// A lever: cells with it against the same cells without it.
pub struct Lever {
    pub id: &'static str,
    pub name: &'static str,
    pub free: &'static [&'static str],
    pub with: fn(&Sample) -> bool,
    pub without: fn(&Sample) -> bool,
}

pub const LEVERS: &[Lever] = &[
    Lever { id: "panel", name: "1) gene panel (vs all genes)", free: &["panel"], with: |s| s.gene_panel().is_some(), without: |s| s.gene_panel().is_none() },
    Lever { id: "q8", name: "2) var_quantization = 8 (vs float32)", free: &["quant"], with: |s| s.var_quantization() == Some(8), without: |s| s.var_quantization().is_none() },
    Lever { id: "oq8", name: "2) obs_continuous_quantization = 8 (vs float32)", free: &["oq"], with: |s| s.obs_quantization() == Some(8), without: |s| s.obs_quantization().is_none() },
    Lever { id: "gz6", name: "3) compression = 6 (vs none)", free: &["codec"], with: |s| s.codec() == Codec::Gzip(6), without: |s| s.codec() == Codec::None },
];

/// Ratios (time, bytes, files) of a lever over matched cells with enough runs, and the
/// number of pairs; also the mean panel share (exported / all genes) for the panel.
pub struct LeverEffect {
    pub pairs: usize,
    pub time: Option<(f64, Interval)>,
    pub bytes: Option<(f64, Interval)>,
    pub files: Option<(f64, Interval)>,
    pub too_few: usize,
}

pub fn effect(cells: &[CellRuns], lever: &Lever) -> LeverEffect {
    let all = pairs(cells, lever.free, lever.with, lever.without);
    let good: Vec<_> = all.iter().filter(|(a, b)| a.enough() && b.enough()).collect();
    let collect = |f: fn(&Sample) -> f64| -> Vec<(Vec<f64>, Vec<f64>)> {
        good.iter().map(|(a, b)| (a.values(f), b.values(f))).collect()
    };
    LeverEffect {
        pairs: good.len(),
        time: ratio_of_medians(&collect(|s| s.wall_s)),
        bytes: ratio_of_medians(&collect(|s| s.bytes_apparent as f64)),
        files: ratio_of_medians(&collect(|s| s.files as f64)),
        too_few: all.len() - good.len(),
    }
}

pub fn table(input: &Input) -> Table {
    let cells = input.plain();
    let mut rows = Vec::new();
    let mut used: Vec<&CellRuns> = Vec::new();
    for lever in LEVERS {
        let e = effect(&cells, lever);
        for (a, b) in pairs(&cells, lever.free, lever.with, lever.without) {
            used.push(a);
            used.push(b);
        }
        let mut row = vec![Cell::text(lever.name), Cell::int(e.pairs as u64)];
        for r in [e.time, e.bytes, e.files] {
            row.push(match r {
                Some((v, i)) => Cell::with_interval(v, Some(i)),
                None if e.too_few > 0 => Cell::too_few(0),
                None => Cell::missing("not measured"),
            });
        }
        rows.push(row);
    }
    used.sort_by_key(|c| c.first().cell_id.clone());
    used.dedup_by_key(|c| c.first().cell_id.clone());
    Table {
        id: "levers".into(),
        title: "3. The three levers: effect as ratios (with / without)".into(),
        guide: "1) Export fewer genes (best lever). 2) Use quantization (var_quantization = 8 a good default). 3) Use gzip if disk is the bottleneck (reduces size, can increase CPU time).".into(),
        context: input.context(&used),
        columns: ["lever", "matched pairs", "time ratio [95 % CI]", "bytes ratio [95 % CI]", "files ratio [95 % CI]"].map(String::from).to_vec(),
        rows,
        notes: vec![
            "A ratio below 1 means the lever saves. Each pair is two cells equal in everything but the lever; the ratio is the geometric mean over pairs of the ratio of median runs, the interval a percentile bootstrap (runs resampled within cells, 2,000 resamples, fixed seed).".into(),
            "A panel's effect depends on its size: the panel's share of the genes is the main term.".into(),
        ],
    }
}
