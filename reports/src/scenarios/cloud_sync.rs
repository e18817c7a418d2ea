//! "Avoid paths synced by cloud clients (Dropbox/OneDrive) during export", judged from
//! the `cloud-sync` scenario's records (the harness's `scenario/cloud_sync.rs`): exports
//! into a folder a real sync daemon watches against the same filesystem unwatched.
//!
//! The rule holds where syncing hurt the export or its copy: the remote copy was caught
//! looking finished while it was not (`validate` failed on a sample with the identity and
//! the obs manifest), the complete copy was invalid, the sync did not complete, the
//! export failed only when watched, or it ran markedly slower. It holds partly where the
//! only cost is traffic (a staged export moved twice) or a small slowdown, and does not
//! hold where none of this was seen.

use crate::model::ScenarioRecord;
use crate::report::fmt_num;
use crate::verdicts::{Outcome, Verdict};
use serde_json::Value;

pub const ID: &str = "avoid-cloud-sync";
pub const RULE: &str = "Avoid paths synced by cloud clients (Dropbox/OneDrive) during export.";
/// The scenario whose records this rule reads.
const SCENARIO: &str = "cloud-sync";

/// A watched export this much slower than unwatched is a reason to avoid the path.
const SLOW: f64 = 1.2;
/// Below this the slowdown is within the noise of a shared machine.
const NOTICEABLE: f64 = 1.05;
/// Moving this many times the exported bytes is a cost (a staged export sent twice is ×2).
const TRAFFIC: f64 = 1.5;

/// The verdict for one writer's records; `None` when it has no `cloud-sync` records.
pub fn verdict(records: &[&ScenarioRecord]) -> Option<Verdict> {
    let mine: Vec<&ScenarioRecord> = records.iter().copied().filter(|r| r.scenario == SCENARIO).collect();
    if mine.is_empty() {
        return None;
    }
    let judged: Vec<Judged> = mine.iter().map(|r| judge(&r.data, r.target.as_deref().unwrap_or("?"))).collect();
    let outcome = if judged.iter().any(|j| j.harm) {
        Outcome::Holds
    } else if judged.iter().any(|j| j.cost) {
        Outcome::Partly
    } else {
        Outcome::DoesNotHold
    };
    let evidence = judged.into_iter().map(|j| j.evidence).collect::<Vec<_>>().join("; ");
    Some(Verdict { id: ID.into(), rule: RULE.into(), outcome, evidence })
}

/// One record's reading.
struct Judged {
    /// Syncing broke, stalled or markedly slowed the export or its copy.
    harm: bool,
    /// Syncing cost traffic or a little time.
    cost: bool,
    evidence: String,
}

fn num(v: &Value, k: &str) -> Option<f64> {
    v[k].as_f64()
}

fn count(v: &Value, k: &str) -> u64 {
    v[k].as_u64().unwrap_or(0)
}

fn mb(bytes: f64) -> String {
    format!("{} MB", fmt_num(bytes / 1e6))
}

fn judge(d: &Value, target: &str) -> Judged {
    let mut parts = Vec::new();
    let mut harm = false;
    let mut cost = false;
    match (num(d, "export_s"), num(d, "unwatched_export_s"), num(d, "slowdown")) {
        (Some(w), Some(u), Some(s)) => {
            parts.push(format!("export ×{} ({} s watched vs {} s unwatched)", fmt_num(s), fmt_num(w), fmt_num(u)));
            harm |= s >= SLOW;
            cost |= s >= NOTICEABLE;
        }
        (None, Some(_), _) => {
            parts.push(format!("the export failed only when watched: {}", d["error"].as_str().unwrap_or("no message")));
            harm = true;
        }
        _ => parts.push(format!("no export to compare ({})", d["error"].as_str().unwrap_or("no timings"))),
    }
    let timeouts = count(d, "sync_timeouts");
    let stalls = count(d, "sync_stalls");
    match num(d, "sync_complete_s") {
        Some(t) => parts.push(format!("remote copy complete {} s after the export", fmt_num(t))),
        None if timeouts + stalls > 0 => parts.push("the remote copy never completed by itself".into()),
        None => {}
    }
    if timeouts > 0 {
        parts.push(format!("{timeouts} run(s) not synced before the timeout"));
        harm = true;
    }
    if stalls > 0 {
        let held = d["first_stall"].as_str().unwrap_or("part of the export");
        let after = match num(d, "after_rescan_s") {
            Some(t) => format!("complete {} s after a forced rescan", fmt_num(t)),
            None => "not complete after a forced rescan either".into(),
        };
        parts.push(format!("in {stalls} run(s) the daemon went idle with the remote copy incomplete ({held}; {after})"));
        harm = true;
    }
    if let (Some(t), Some(b), Some(r)) = (num(d, "bytes_transferred"), num(d, "bytes_exported"), num(d, "transfer_ratio")) {
        parts.push(format!("{} moved for {} exported (×{})", mb(t), mb(b), fmt_num(r)));
        cost |= r >= TRAFFIC;
    }
    let samples = count(d, "samples");
    match d["partial_looking_complete"].as_u64() {
        Some(bad) => {
            let looked = count(d, "looked_complete");
            let mut s = format!("{bad} of {samples} samples of the remote copy looked complete but failed validate ({looked} looked complete)");
            if let Some(p) = d["first_partial_problem"].as_str() {
                s.push_str(&format!(", e.g. “{p}”"));
            }
            parts.push(s);
            harm |= bad > 0;
        }
        None => parts.push(format!("{samples} samples (validate does not apply to this writer's output)")),
    }
    let invalid = count(d, "validate_failures");
    if invalid > 0 {
        parts.push(format!("{invalid} complete remote copies failed validate"));
        harm = true;
    }
    Judged { harm, cost: cost || harm, evidence: format!("{target}: {}", parts.join(", ")) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(target: &str, data: Value) -> ScenarioRecord {
        let mut data = data;
        data["scenario"] = json!("cloud-sync");
        data["writer"] = json!("cellucid-bench");
        data["target"] = json!(target);
        ScenarioRecord { scenario: "cloud-sync".into(), writer: "cellucid-bench".into(), target: Some(target.into()), data }
    }

    fn clean(slowdown: f64, ratio: f64, partial: u64) -> Value {
        json!({
            "export_s": 0.5 * slowdown, "unwatched_export_s": 0.5, "slowdown": slowdown,
            "sync_complete_s": 2.25, "bytes_exported": 6_000_000, "bytes_transferred": 6_000_000.0 * ratio,
            "transfer_ratio": ratio, "samples": 12, "looked_complete": 5, "partial_looking_complete": partial,
            "first_partial_problem": if partial > 0 { json!("var/gene_7.bin.gz: length: missing") } else { Value::Null },
            "validate_failures": 0, "sync_timeouts": 0, "failed_exports": 0, "error": null,
        })
    }

    fn outcome(records: &[ScenarioRecord]) -> (Outcome, String) {
        let refs: Vec<&ScenarioRecord> = records.iter().collect();
        let v = verdict(&refs).expect("a verdict");
        assert_eq!((v.id.as_str(), v.rule.as_str()), (ID, RULE));
        (v.outcome, v.evidence)
    }

    #[test]
    fn no_records_no_verdict() {
        assert_eq!(verdict(&[]), None);
        let other = ScenarioRecord { scenario: "stale-export".into(), writer: "w".into(), target: None, data: json!({}) };
        assert_eq!(verdict(&[&other]), None);
    }

    #[test]
    fn a_partial_copy_that_looks_complete_makes_the_rule_hold_and_is_quoted() {
        let (o, e) = outcome(&[record("syncthing", clean(1.01, 1.0, 3)), record("rclone-webdav", clean(1.0, 1.0, 0))]);
        assert_eq!(o, Outcome::Holds);
        assert!(e.starts_with("syncthing: export ×1.01 (0.505 s watched vs 0.500 s unwatched)"), "{e}");
        assert!(e.contains("remote copy complete 2.25 s after the export"), "{e}");
        assert!(e.contains("6.00 MB moved for 6.00 MB exported (×1.00)"), "{e}");
        assert!(e.contains("3 of 12 samples of the remote copy looked complete but failed validate (5 looked complete), e.g. “var/gene_7.bin.gz: length: missing”"), "{e}");
        assert!(e.contains("; rclone-webdav: export ×1.00"), "{e}");
    }

    #[test]
    fn slowdown_traffic_and_nothing_grade_the_outcome() {
        assert_eq!(outcome(&[record("syncthing", clean(1.3, 1.0, 0))]).0, Outcome::Holds);
        assert_eq!(outcome(&[record("syncthing", clean(1.0, 2.0, 0))]).0, Outcome::Partly);
        assert_eq!(outcome(&[record("syncthing", clean(1.1, 1.0, 0))]).0, Outcome::Partly);
        assert_eq!(outcome(&[record("syncthing", clean(1.0, 1.1, 0))]).0, Outcome::DoesNotHold);
    }

    #[test]
    fn a_failed_watched_export_an_unfinished_sync_or_an_invalid_copy_hold() {
        let mut failed = clean(1.0, 1.0, 0);
        for k in ["export_s", "slowdown", "sync_complete_s", "bytes_exported", "bytes_transferred", "transfer_ratio"] {
            failed[k] = Value::Null;
        }
        failed["error"] = json!("error: Operation not supported");
        let (o, e) = outcome(&[record("rclone-webdav", failed)]);
        assert_eq!(o, Outcome::Holds);
        assert!(e.contains("the export failed only when watched: error: Operation not supported"), "{e}");

        let mut stalled = clean(1.0, 1.0, 0);
        stalled["sync_complete_s"] = Value::Null;
        stalled["sync_timeouts"] = json!(2);
        let (o, e) = outcome(&[record("syncthing", stalled)]);
        assert_eq!(o, Outcome::Holds);
        assert!(e.contains("the remote copy never completed by itself, 2 run(s) not synced before the timeout"), "{e}");

        let mut idle = clean(1.0, 1.0, 0);
        idle["sync_complete_s"] = Value::Null;
        idle["sync_stalls"] = json!(3);
        idle["first_stall"] = json!("748 of 2011 files");
        idle["after_rescan_s"] = json!(4.5);
        let (o, e) = outcome(&[record("syncthing", idle)]);
        assert_eq!(o, Outcome::Holds);
        assert!(
            e.contains("in 3 run(s) the daemon went idle with the remote copy incomplete (748 of 2011 files; complete 4.50 s after a forced rescan)"),
            "{e}"
        );

        let mut invalid = clean(1.0, 1.0, 0);
        invalid["validate_failures"] = json!(1);
        assert_eq!(outcome(&[record("syncthing", invalid)]).0, Outcome::Holds);
    }

    #[test]
    fn a_writer_without_validate_is_judged_on_time_and_traffic() {
        let mut anndata = clean(1.0, 1.0, 0);
        anndata["partial_looking_complete"] = Value::Null;
        anndata["validate_failures"] = Value::Null;
        let (o, e) = outcome(&[record("syncthing", anndata)]);
        assert_eq!(o, Outcome::DoesNotHold);
        assert!(e.contains("12 samples (validate does not apply to this writer's output)"), "{e}");
    }
}
