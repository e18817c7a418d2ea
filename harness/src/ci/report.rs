//! The gate's output: a Markdown summary (stdout, and appended to
//! `$GITHUB_STEP_SUMMARY` when GitHub Actions sets it) or JSON for machines.

use super::verdict::{CellVerdict, Status, Verdict};
use super::{Counter, GateMeta};
use serde_json::{json, Value};
use std::io::Write;

fn pct(x: f64) -> String {
    format!("{:+.1} %", (x - 1.0) * 100.0)
}

/// The Markdown summary: one line of verdict, what was compared, one table row per
/// configuration, then every format change and failed run in full.
pub fn markdown(meta: &GateMeta, v: &Verdict) -> String {
    let mut s = String::new();
    s.push_str(&format!("## cellucid-bench CI gate: {}\n\n", v.headline()));
    s.push_str(&format!("- baseline: {}\n- candidate: {}\n", meta.baseline, meta.candidate));
    for skipped in &meta.skipped {
        s.push_str(&format!("- left out (one side cannot export it): {skipped}\n"));
    }
    if meta.counter == Counter::Instructions {
        counted_table(&mut s, meta, v);
    } else {
        wall_table(&mut s, meta, v);
    }
    for c in v.cells.iter().filter(|c| !c.format_changes.is_empty() || !c.failures.is_empty() || c.inconclusive.is_some()) {
        s.push_str(&format!("\n**{}**", c.label));
        if let Some(why) = &c.inconclusive {
            s.push_str(&format!(" Inconclusive: {why}."));
        }
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

fn output(c: &CellVerdict) -> &'static str {
    if c.format_changes.is_empty() {
        "identical"
    } else {
        "differs"
    }
}

/// The wall-time gate's header lines and table.
fn wall_table(s: &mut String, meta: &GateMeta, v: &Verdict) {
    let pairs = match &meta.adaptive {
        None => format!("{} timed A/B pairs each", meta.repeats),
        Some(d) => format!("adaptive: timed A/B pairs until decided, looks at {} pairs, each interval at {:.2} % (Bonferroni: 95 % for all looks together){}", looks(&d.looks), d.look_confidence * 100.0, d.max_seconds.map_or(String::new(), |t| format!(", at most {t:.0} s"))),
    };
    s.push_str(&format!("- plan `{}`: {} configurations, {pairs} (+{} warm-up), {:.0} s\n", meta.plan, v.cells.len(), meta.warmup, meta.wall_s));
    s.push_str(&format!(
        "- fails when the distribution-free 95 % interval of the median per-pair wall-time ratio candidate/baseline lies entirely above {:.3} (threshold {:.1} %); inconclusive (exit 3) with too few pairs, too short runs, or an interval straddling the threshold and wider than it; output bytes, file count and hash must match{}\n\n",
        1.0 + v.threshold,
        v.threshold * 100.0,
        if v.allow_format_change { " (format changes allowed)" } else { "" }
    ));
    let adaptive = meta.adaptive.is_some();
    if adaptive {
        s.push_str("| configuration | baseline s | candidate s | change | 95 % interval | pairs (stopped) | output | verdict |\n");
        s.push_str("|---|---|---|---|---|---|---|---|\n");
    } else {
        s.push_str("| configuration | baseline s | candidate s | change | 95 % interval | output | verdict |\n");
        s.push_str("|---|---|---|---|---|---|---|\n");
    }
    for c in &v.cells {
        let interval = c.noise.map_or("none (too few pairs)".to_string(), |n| format!("{} … {}", pct(n.lo), pct(n.hi)));
        let (a, b, r, ci) = match &c.ci {
            Some(ci) => (format!("{:.3}", ci.baseline_median_s), format!("{:.3}", ci.candidate_median_s), pct(ci.ratio), interval),
            None => ("–".into(), "–".into(), "–".into(), "–".into()),
        };
        let stop = match (&c.stopped, adaptive) {
            (_, false) => String::new(),
            (Some(x), true) => format!(" {} ({}) |", x.pairs, x.reason.as_str()),
            (None, true) => " – |".into(),
        };
        s.push_str(&format!("| {} | {a} | {b} | {r} | {ci} |{stop} {} | {} |\n", c.label, output(c), c.status.as_str()));
    }
}

/// `8, 16, 32, 40`.
fn looks(l: &[usize]) -> String {
    l.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
}

fn thousands(n: u64) -> String {
    let d = n.to_string();
    let mut out = String::new();
    for (i, ch) in d.chars().enumerate() {
        if i > 0 && (d.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn misses(a: Option<u64>, b: Option<u64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) => format!("{} → {}", thousands(a), thousands(b)),
        _ => "–".into(),
    }
}

/// The deterministic gate's header lines and table.
fn counted_table(s: &mut String, meta: &GateMeta, v: &Verdict) {
    let run_s: Vec<f64> = v.cells.iter().filter_map(|c| c.counts.as_ref()).flat_map(|c| c.run_s.iter().copied()).collect();
    let longest = run_s.iter().copied().fold(0.0, f64::max);
    s.push_str(&format!(
        "- plan `{}`: {} configurations, each exported once per binary under cachegrind (instructions do not vary between runs), {:.0} s (longest counted run {:.1} s)\n",
        meta.plan,
        v.cells.len(),
        meta.wall_s,
        longest
    ));
    s.push_str(&format!(
        "- fails when candidate/baseline instructions exceed {:.3} (threshold {:.1} %); output bytes, file count and hash must match{}\n\n",
        1.0 + v.threshold,
        v.threshold * 100.0,
        if v.allow_format_change { " (format changes allowed)" } else { "" }
    ));
    s.push_str("| configuration | baseline instructions | candidate instructions | change | grew most | D1 misses | LL misses | output | verdict |\n");
    s.push_str("|---|---|---|---|---|---|---|---|---|\n");
    for c in &v.cells {
        let cols = match &c.counts {
            Some(x) => [
                thousands(x.baseline.ir),
                thousands(x.candidate.ir),
                format!("{:+.3} %", (x.ratio - 1.0) * 100.0),
                x.changed_part.as_ref().map_or("–".into(), |(p, d)| format!("{p} (+{})", thousands(*d as u64))),
                misses(x.baseline.d1_misses, x.candidate.d1_misses),
                misses(x.baseline.ll_misses, x.candidate.ll_misses),
            ],
            None => std::array::from_fn(|_| "–".to_string()),
        };
        s.push_str(&format!("| {} | {} | {} | {} |\n", c.label, cols.join(" | "), output(c), c.status.as_str()));
    }
}

/// The same as JSON.
pub fn json(meta: &GateMeta, v: &Verdict) -> Value {
    json!({
        "pass": !v.failed() && !v.inconclusive(),
        "inconclusive": v.inconclusive(),
        "exit_status": v.exit_status(),
        "counter": meta.counter.as_str(),
        "skipped": meta.skipped,
        "baseline": meta.baseline,
        "candidate": meta.candidate,
        "plan": meta.plan,
        "repeats": meta.repeats,
        "warmup": meta.warmup,
        "adaptive": meta.adaptive,
        "wall_s": meta.wall_s,
        "threshold": v.threshold,
        "allow_format_change": v.allow_format_change,
        "configurations": v.cells.iter().map(|c| json!({
            "id": c.cell_id,
            "label": c.label,
            "status": c.status,
            "pass": c.status == Status::Pass,
            "inconclusive": c.inconclusive,
            "noise_low": c.noise.map(|n| n.lo),
            "noise_high": c.noise.map(|n| n.hi),
            "noise_coverage": c.noise.map(|n| n.coverage),
            "ratio": c.ci.map(|x| x.ratio),
            "ratio_of_medians": c.ci.map(|x| x.ratio_of_medians),
            "ci_low": c.ci.map(|x| x.lo),
            "ci_high": c.ci.map(|x| x.hi),
            "pairs": c.ci.map(|x| x.pairs),
            "baseline_median_s": c.ci.map(|x| x.baseline_median_s),
            "candidate_median_s": c.ci.map(|x| x.candidate_median_s),
            "format_changes": c.format_changes,
            "failures": c.failures,
            "counts": c.counts,
            "stopped": c.stopped,
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
