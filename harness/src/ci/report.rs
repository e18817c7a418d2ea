//! The gate's output: a Markdown summary (stdout, and appended to
//! `$GITHUB_STEP_SUMMARY` when GitHub Actions sets it) or JSON for machines.

use super::verdict::{Status, Verdict};
use super::GateMeta;
use serde_json::{json, Value};
use std::io::Write;

fn pct(x: f64) -> String {
    format!("{:+.1} %", (x - 1.0) * 100.0)
}

/// The Markdown summary: one line of verdict, what was compared, one table row per
/// configuration, then every format change and failed run in full.
pub fn markdown(meta: &GateMeta, v: &Verdict) -> String {
    let mut s = String::new();
    let head = if v.failed() { "FAIL" } else { "PASS" };
    s.push_str(&format!("## cellucid-bench CI gate: {head}\n\n"));
    s.push_str(&format!("- baseline: {}\n- candidate: {}\n", meta.baseline, meta.candidate));
    s.push_str(&format!(
        "- plan `{}`: {} configurations, {} timed A/B pairs each (+{} warm-up), {:.0} s\n",
        meta.plan,
        v.cells.len(),
        meta.repeats,
        meta.warmup,
        meta.wall_s
    ));
    s.push_str(&format!(
        "- fails when the 95 % bootstrap interval of candidate/baseline (median of the per-pair wall-time ratios) lies entirely above {:.3} (threshold {:.1} %); output bytes, file count and hash must match{}\n\n",
        1.0 + v.threshold,
        v.threshold * 100.0,
        if v.allow_format_change { " (format changes allowed)" } else { "" }
    ));
    s.push_str("| configuration | baseline s | candidate s | change | 95 % interval | output | verdict |\n");
    s.push_str("|---|---|---|---|---|---|---|\n");
    for c in &v.cells {
        let (a, b, r, ci) = match &c.ci {
            Some(ci) => (
                format!("{:.3}", ci.baseline_median_s),
                format!("{:.3}", ci.candidate_median_s),
                pct(ci.ratio),
                format!("{} … {}", pct(ci.lo), pct(ci.hi)),
            ),
            None => ("–".into(), "–".into(), "–".into(), "–".into()),
        };
        let out = if c.format_changes.is_empty() { "identical".to_string() } else { "differs".to_string() };
        s.push_str(&format!("| {} | {a} | {b} | {r} | {ci} | {out} | {} |\n", c.label, c.status.as_str()));
    }
    for c in v.cells.iter().filter(|c| !c.format_changes.is_empty() || !c.failures.is_empty()) {
        s.push_str(&format!("\n**{}**", c.label));
        if !c.format_changes.is_empty() {
            s.push_str(&format!(" output differs: {}.", c.format_changes.join(", ")));
        }
        for f in &c.failures {
            s.push_str(&format!(" Run failed: {f}."));
        }
        s.push('\n');
    }
    s
}

/// The same as JSON.
pub fn json(meta: &GateMeta, v: &Verdict) -> Value {
    json!({
        "pass": !v.failed(),
        "baseline": meta.baseline,
        "candidate": meta.candidate,
        "plan": meta.plan,
        "repeats": meta.repeats,
        "warmup": meta.warmup,
        "wall_s": meta.wall_s,
        "threshold": v.threshold,
        "allow_format_change": v.allow_format_change,
        "configurations": v.cells.iter().map(|c| json!({
            "id": c.cell_id,
            "label": c.label,
            "status": c.status,
            "pass": c.status == Status::Pass,
            "ratio": c.ci.map(|x| x.ratio),
            "ratio_of_medians": c.ci.map(|x| x.ratio_of_medians),
            "ci_low": c.ci.map(|x| x.lo),
            "ci_high": c.ci.map(|x| x.hi),
            "pairs": c.ci.map(|x| x.pairs),
            "baseline_median_s": c.ci.map(|x| x.baseline_median_s),
            "candidate_median_s": c.ci.map(|x| x.candidate_median_s),
            "format_changes": c.format_changes,
            "failures": c.failures,
        })).collect::<Vec<_>>(),
    })
}

/// Append `md` to the file named by `$GITHUB_STEP_SUMMARY`, if set.
pub fn append_step_summary(md: &str) -> std::io::Result<()> {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY") else { return Ok(()) };
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    f.write_all(md.as_bytes())?;
    f.write_all(b"\n")
}
