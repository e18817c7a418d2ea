//! Table 4, *Compression levels*: gzip 1, 6, 9 and the zstd what-if against plain
//! payloads, per quantization: size ratio, time ratio and throughput.

use super::Input;
use crate::cells::{pairs, CellRuns};
use crate::model::{quant_label, Codec, Sample};
use crate::report::{Cell, Plot, Series, Table};
use crate::stats::{self, ratio_of_medians, Interval};

/// Uncompressed payload MB per second of export (the throughput a user sees).
pub fn mb_per_s(s: &Sample) -> f64 {
    s.raw_bytes() as f64 / 1e6 / s.wall_s
}

/// (size ratio, time ratio, median MB/s, pairs) of `codec` against plain at quantization `q`.
pub struct CodecEffect {
    pub size: Option<(f64, Interval)>,
    pub time: Option<(f64, Interval)>,
    pub mbps: Option<f64>,
    pub pairs: usize,
}

pub fn effect(cells: &[CellRuns], q: Option<u8>, codec: Codec) -> CodecEffect {
    let p = pairs(
        cells,
        &["codec"],
        |s| s.codec() == codec && s.var_quantization() == q && s.gene_panel().is_none(),
        |s| s.codec() == Codec::None,
    );
    let good: Vec<_> = p.iter().filter(|(a, b)| a.enough() && b.enough()).collect();
    let col = |f: fn(&Sample) -> f64| -> Vec<(Vec<f64>, Vec<f64>)> { good.iter().map(|(a, b)| (a.values(f), b.values(f))).collect() };
    let mbps: Vec<f64> = good.iter().map(|(a, _)| a.median(mb_per_s)).collect();
    CodecEffect {
        size: ratio_of_medians(&col(|s| s.bytes_apparent as f64)),
        time: ratio_of_medians(&col(|s| s.wall_s)),
        mbps: stats::median(&mbps),
        pairs: good.len(),
    }
}

pub fn table(input: &Input) -> (Table, Plot) {
    let cells = input.plain();
    let mut codecs: Vec<Codec> = vec![Codec::Gzip(1), Codec::Gzip(6), Codec::Gzip(9)];
    for c in &cells {
        let k = c.first().codec();
        if matches!(k, Codec::Zstd(_)) && !codecs.contains(&k) {
            codecs.push(k);
        }
    }
    let mut rows = Vec::new();
    let mut series: Vec<Series> = Vec::new();
    let mut used = Vec::new();
    for q in [None, Some(16), Some(8)] {
        // plain throughput for reference
        let plain: Vec<f64> = cells
            .iter()
            .filter(|c| c.enough() && c.first().codec() == Codec::None && c.first().var_quantization() == q && c.first().gene_panel().is_none())
            .map(|c| c.median(mb_per_s))
            .collect();
        let mut pts = Vec::new();
        for &codec in &codecs {
            let e = effect(&cells, q, codec);
            for (a, b) in pairs(&cells, &["codec"], |s| s.codec() == codec && s.var_quantization() == q, |s| s.codec() == Codec::None) {
                used.push(a);
                used.push(b);
            }
            let name = match codec {
                Codec::Zstd(_) => format!("{} (what-if, not loadable)", codec.label()),
                _ => codec.label(),
            };
            let mut row = vec![Cell::text(quant_label(q)), Cell::text(name), Cell::int(e.pairs as u64)];
            if e.pairs == 0 {
                row.extend((0..3).map(|_| Cell::missing("not measured")));
                row.push(Cell::missing("–"));
            } else {
                row.push(e.size.map_or(Cell::missing("–"), |(v, i)| Cell::with_interval(v, Some(i))));
                row.push(e.time.map_or(Cell::missing("–"), |(v, i)| Cell::with_interval(v, Some(i))));
                row.push(e.mbps.map_or(Cell::missing("–"), Cell::num));
                row.push(stats::median(&plain).map_or(Cell::missing("–"), Cell::num));
                if let (Some((s, _)), Some((t, _))) = (e.size, e.time) {
                    pts.push((t, s));
                }
            }
            rows.push(row);
        }
        if !pts.is_empty() {
            series.push(Series { name: quant_label(q), points: pts });
        }
    }
    used.sort_by_key(|c| c.first().cell_id.clone());
    used.dedup_by_key(|c| c.first().cell_id.clone());
    let table = Table {
        id: "compression".into(),
        title: "4. Compression levels: gzip 1 / 6 / 9 and zstd (what-if)".into(),
        guide: "compression = 1 for speed; 6 a reasonable trade-off (often a good default); 9 for the smallest output (slowest).".into(),
        context: input.context(&used),
        columns: ["genes as", "codec", "matched pairs", "size ratio vs plain", "time ratio vs plain", "MB/s (uncompressed)", "MB/s plain"]
            .map(String::from)
            .to_vec(),
        rows,
        notes: vec![
            "MB/s is uncompressed payload megabytes per second of the whole export. zstd is a what-if codec: the viewer cannot load it; it shows what a faster codec would save. Each codec's ratios are over the cells where it was measured, which may differ between codecs; the verdicts compare levels on the same cells.".into(),
        ],
    };
    let plot = Plot {
        id: "compression-tradeoff".into(),
        title: "Compression: size against time (ratios to plain; one point per codec)".into(),
        x_label: "time ratio vs plain".into(),
        y_label: "size ratio vs plain".into(),
        log_x: false,
        log_y: false,
        series,
    };
    (table, plot)
}
