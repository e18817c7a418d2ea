//! Table 2, *Gene expression*: time, disk and file count against cells × exported genes,
//! and the bytes per value each quantization and codec gives (2b).

use super::Input;
use crate::cells::CellRuns;
use crate::model::{quant_label, Codec, Sample};
use crate::report::{Cell, Plot, Series, Table};
use crate::stats;

/// Cells that vary only size, quantization, codec, target and density: no panel, no
/// graph, no obs quantization, and the obs mix most cells have.
fn gene_cells<'c, 'a>(cells: &'c [CellRuns<'a>]) -> Vec<&'c CellRuns<'a>> {
    let mut counts: Vec<(u64, usize)> = Vec::new();
    for c in cells {
        let f = c.first().obs_fields();
        match counts.iter_mut().find(|(k, _)| *k == f) {
            Some((_, n)) => *n += 1,
            None => counts.push((f, 1)),
        }
    }
    let usual = counts.iter().max_by_key(|(_, n)| *n).map_or(0, |(k, _)| *k);
    cells
        .iter()
        .filter(|c| {
            let s = c.first();
            s.gene_panel().is_none() && s.obs_quantization().is_none() && s.edges_per_cell() == 0.0 && s.obs_fields() == usual
        })
        .collect()
}

/// Gene payload bytes per exported value of one run.
pub fn bytes_per_value(s: &Sample) -> f64 {
    let values = (s.cells() * s.genes_exported()) as f64;
    s.phase("genes").map_or(f64::NAN, |p| p.bytes as f64 / values)
}

/// Median bytes per value for a quantization and codec over all matching cells:
/// (median, min, max, cells).
pub fn bpv_summary(cells: &[CellRuns], q: Option<u8>, codec: Codec) -> Option<(f64, f64, f64, usize)> {
    let v: Vec<f64> = gene_cells(cells)
        .iter()
        .filter(|c| c.first().var_quantization() == q && c.first().codec() == codec)
        .map(|c| c.median(bytes_per_value))
        .filter(|v| v.is_finite())
        .collect();
    let m = stats::median(&v)?;
    let mn = v.iter().copied().fold(f64::INFINITY, f64::min);
    let mx = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some((m, mn, mx, v.len()))
}

pub fn tables(input: &Input) -> (Vec<Table>, Vec<Plot>) {
    let all = input.plain();
    let cells = gene_cells(&all);
    let mut sorted = cells.clone();
    sorted.sort_by_key(|c| {
        let s = c.first();
        (s.target.clone(), s.var_quantization().map_or(0, |b| 100 - b as i32), s.codec(), s.cells() * s.genes_exported())
    });
    let mut rows = Vec::new();
    for c in &sorted {
        let s = c.first();
        let mut row = vec![
            Cell::int(s.cells()),
            Cell::int(s.genes_exported()),
            Cell::text(format!("{} {}", quant_label(s.var_quantization()), s.codec().label())),
            Cell::text(&s.target),
            Cell::num(s.density()),
        ];
        // Times need MIN_RUNS runs; bytes and files are deterministic for a cell (the
        // sweep checks the output hash), so one run gives them.
        if c.enough() {
            let w = c.wall();
            row.push(Cell::with_interval(stats::median(&w).unwrap_or(f64::NAN), stats::median_interval(&w)));
        } else {
            row.push(Cell::too_few(c.n()));
        }
        row.push(Cell::num(c.median(|r| r.bytes_apparent as f64) / 1e6));
        row.push(Cell::int(c.median(|r| r.files as f64) as u64));
        row.push(Cell::num(c.median(bytes_per_value)));
        rows.push(row);
    }
    let t2 = Table {
        id: "gene-expression".into(),
        title: "2. Gene expression: time, disk and files against cells × genes".into(),
        guide: "Time roughly O(n_cells·n_exported_genes); disk roughly n_cells·n_exported_genes·bytes_per_value; file count n_exported_genes.".into(),
        context: input.context(&sorted),
        columns: ["cells", "genes exported", "setting", "target", "density", "time s [range]", "disk MB", "files", "gene bytes/value"]
            .map(String::from)
            .to_vec(),
        rows,
        notes: vec![
            "Time is the whole export (a child process: read the input, export, publish), median of the runs, with the order-statistic interval of the median (with 3 runs: min–max, 75 % coverage). Disk is the apparent size of the finished folder.".into(),
        ],
    };

    let mut rows = Vec::new();
    for q in [None, Some(16), Some(8)] {
        for codec in [Codec::None, Codec::Gzip(1), Codec::Gzip(6), Codec::Gzip(9)] {
            let nominal = match q {
                None => 4.0,
                Some(b) => b as f64 / 8.0,
            };
            let mut row = vec![Cell::text(quant_label(q)), Cell::text(codec.label()), Cell::num(nominal)];
            match bpv_summary(&all, q, codec) {
                Some((m, mn, mx, n)) => {
                    row.push(Cell::with_interval(m, Some(stats::Interval { lo: mn, hi: mx, coverage: 1.0 })));
                    row.push(Cell::int(n as u64));
                }
                None => {
                    row.push(Cell::missing("not measured"));
                    row.push(Cell::int(0));
                }
            }
            rows.push(row);
        }
    }
    let densities: Vec<String> = {
        let mut d: Vec<String> = cells.iter().map(|c| format!("{}", c.first().density())).collect();
        d.sort();
        d.dedup();
        d
    };
    let t2b = Table {
        id: "bytes-per-value".into(),
        title: "2b. Bytes per value by quantization and gzip".into(),
        guide: "Disk ≈ n_cells·n_exported_genes·bytes_per_value.".into(),
        context: input.context(&cells),
        columns: ["genes as", "codec", "nominal bytes/value", "measured bytes/value [min–max over cells]", "cells"]
            .map(String::from)
            .to_vec(),
        rows,
        notes: vec![format!(
            "Gene payload bytes (the var/ files and their manifest) divided by cells × exported genes. With gzip the ratio depends on the expression matrix's density (here {}); plain payloads are dense, so density does not matter.",
            densities.join(", ")
        )],
    };

    // Plots: time and bytes against cells × genes, one series per setting on each target.
    let mut time_series: Vec<Series> = Vec::new();
    let mut bytes_series: Vec<Series> = Vec::new();
    // One density per plot (the most common), so that each series is one line.
    let usual_density = {
        let mut ds: Vec<(String, usize)> = Vec::new();
        for c in &cells {
            let d = format!("{}", c.first().density());
            match ds.iter_mut().find(|(k, _)| *k == d) {
                Some((_, n)) => *n += 1,
                None => ds.push((d, 1)),
            }
        }
        ds.into_iter().max_by_key(|(_, n)| *n).map(|(d, _)| d).unwrap_or_default()
    };
    for c in cells.iter().filter(|c| c.enough() && format!("{}", c.first().density()) == usual_density) {
        let s = c.first();
        let name = format!("{} {} {}", quant_label(s.var_quantization()), s.codec().label(), s.target);
        let x = (s.cells() * s.genes_exported()) as f64;
        let push = |series: &mut Vec<Series>, y: f64| match series.iter_mut().find(|t| t.name == name) {
            Some(t) => t.points.push((x, y)),
            None => series.push(Series { name: name.clone(), points: vec![(x, y)] }),
        };
        push(&mut time_series, c.median(|r| r.wall_s));
        push(&mut bytes_series, c.median(|r| r.bytes_apparent as f64) / 1e6);
    }
    for s in time_series.iter_mut().chain(bytes_series.iter_mut()) {
        s.points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    let plots = vec![
        Plot {
            id: "gene-time".into(),
            title: format!("Export time against cells × exported genes (density {usual_density})"),
            x_label: "cells × exported genes".into(),
            y_label: "time (s)".into(),
            log_x: true,
            log_y: true,
            series: time_series,
        },
        Plot {
            id: "gene-disk".into(),
            title: format!("Export size against cells × exported genes (density {usual_density})"),
            x_label: "cells × exported genes".into(),
            y_label: "disk (MB)".into(),
            log_x: true,
            log_y: true,
            series: bytes_series,
        },
    ];
    (vec![t2, t2b], plots)
}
