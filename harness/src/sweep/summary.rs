//! The concise table printed at the end of a sweep: one row per cell (median of its
//! timed runs), with the reference's time beside ours where the plan has both.

use crate::benchmark::stats::{median, range};
use crate::store::Sample;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The label without its last word (the subject), so ours and the reference pair up.
fn pair_key(label: &str) -> &str {
    label.rsplit_once(' ').map_or(label, |(k, _)| k)
}

/// A Markdown table of the samples.
pub fn table(samples: &[Sample]) -> String {
    let mut by_cell: BTreeMap<(String, String), Vec<&Sample>> = BTreeMap::new();
    for s in samples.iter().filter(|s| s.ok) {
        by_cell.entry((pair_key(&s.label).to_string(), s.subject.clone())).or_default().push(s);
    }
    let ours_median: BTreeMap<&str, f64> = by_cell
        .iter()
        .filter(|((_, subject), _)| subject == "ours")
        .map(|((k, _), v)| (k.as_str(), median(&v.iter().map(|s| s.wall_s).collect::<Vec<_>>())))
        .collect();
    let mut md = String::new();
    let _ = writeln!(md, "| cell | subject | runs | wall s (median, min–max) | peak RSS MB | files | MB on disk | efficiency | vs ours |");
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|");
    for ((key, subject), v) in &by_cell {
        let walls: Vec<f64> = v.iter().map(|s| s.wall_s).collect();
        let (lo, hi) = range(&walls);
        let m = median(&walls);
        let rss = median(&v.iter().map(|s| s.max_rss_bytes as f64 / 1e6).collect::<Vec<_>>());
        let eff: Vec<f64> = v.iter().filter_map(|s| s.efficiency).collect();
        let eff = if eff.is_empty() { "–".to_string() } else { format!("{:.2}", median(&eff)) };
        let vs = match ours_median.get(key.as_str()) {
            Some(o) if subject != "ours" => format!("{:.2}×", m / o),
            _ => "–".into(),
        };
        let _ = writeln!(
            md,
            "| {key} | {subject} | {} | {m:.3} ({lo:.3}–{hi:.3}) | {rss:.0} | {} | {:.2} | {eff} | {vs} |",
            v.len(),
            v[0].files,
            v[0].bytes_apparent as f64 / 1e6
        );
    }
    let failed = samples.iter().filter(|s| !s.ok).count();
    if failed > 0 {
        let _ = writeln!(md, "\n{failed} run(s) failed:");
        for s in samples.iter().filter(|s| !s.ok).take(10) {
            let _ = writeln!(md, "- {}: {}", s.label, s.error.as_deref().unwrap_or("?"));
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_ours_with_the_reference() {
        let s = |label: &str, subject: &str, wall: f64| Sample {
            label: label.into(),
            subject: subject.into(),
            wall_s: wall,
            ok: true,
            files: 3,
            ..Default::default()
        };
        let t = table(&[
            s("1x1 d=0.1 f32 none tmpfs ours", "ours", 1.0),
            s("1x1 d=0.1 f32 none tmpfs ours", "ours", 3.0),
            s("1x1 d=0.1 f32 none tmpfs reference", "reference", 10.0),
        ]);
        assert!(t.contains("| 1x1 d=0.1 f32 none tmpfs | reference | 1 | 10.000 (10.000–10.000) | 0 | 3 | 0.00 | – | 5.00× |"), "{t}");
        assert!(t.contains("| 1x1 d=0.1 f32 none tmpfs | ours | 2 | 2.000 (1.000–3.000)"), "{t}");
    }
}
