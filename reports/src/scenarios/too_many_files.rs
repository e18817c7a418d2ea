//! The guide's "If you hit “too many files” limits, export fewer genes or split
//! datasets", judged from the `too-many-files` scenario's records: one per target with a
//! file-count limit (exFAT, NTFS, FAT32, ext4 with few inodes, tmpfs with `nr_inodes`,
//! an open-file limit), each with the largest gene count that exported, the error
//! beyond it, whether the folder was left consistent, and whether the remedies (a gene
//! panel, the dataset split into K exports) worked.
//!
//! The rule holds for a writer when it hit a limit and, on every target where it did,
//! one of the remedies fixed it; partly when that is so on some targets; it does not
//! hold when no remedy fixed any. A writer that hit no limit (every export up to the
//! search's cap worked) is not judged on the rule: nothing needed fixing.

use crate::model::ScenarioRecord;
use crate::report::group_thousands;
use crate::verdicts::{Outcome, Verdict};
use serde_json::Value;

/// The scenario's name in records.
pub const SCENARIO: &str = "too-many-files";
/// The rule's id in the verdicts.
pub const ID: &str = "too-many-files";
/// The rule as the guide says it.
pub const RULE: &str = "If you hit “too many files” limits, export fewer genes or split datasets.";

/// What one record says.
#[derive(Debug)]
struct Finding {
    target: String,
    largest_ok: Option<u64>,
    first_failing: Option<u64>,
    error: Option<String>,
    consistent: Option<bool>,
    /// (remedy, worked)
    remedies: Vec<(String, bool)>,
    searched_up_to: Option<u64>,
}

impl Finding {
    fn of(r: &ScenarioRecord) -> Finding {
        let d = &r.data;
        let num = |k: &str| d.get(k).and_then(Value::as_u64);
        let remedies = d
            .get("remedies")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|m| Some((m.get("remedy")?.as_str()?.to_string(), m.get("ok")?.as_bool()?)))
                    .collect()
            })
            .unwrap_or_default();
        Finding {
            target: r.target.clone().unwrap_or_else(|| "?".into()),
            largest_ok: num("largest_ok_genes"),
            first_failing: num("first_failing_genes"),
            error: d.get("error").and_then(Value::as_str).map(str::to_string),
            consistent: d.get("consistent_after_failure").and_then(Value::as_bool),
            remedies,
            searched_up_to: num("searched_up_to"),
        }
    }

    fn hit(&self) -> bool {
        self.first_failing.is_some()
    }

    fn fixed(&self) -> bool {
        self.remedies.iter().any(|(_, ok)| *ok)
    }

    /// `exfat: 1,984 genes exported, 2,048 failed: “error: …”; gene panel of 1,984 fixed
    /// it, split into 2 did not; folder left consistent`.
    fn evidence(&self) -> String {
        let Some(failing) = self.first_failing else {
            let cap = self.largest_ok.or(self.searched_up_to).map_or_else(|| "?".into(), group_thousands);
            return format!("{}: no limit, every export up to {cap} genes worked", self.target);
        };
        let quoted = format!("“{}”", self.error.as_deref().unwrap_or("no message"));
        let mut s = match self.largest_ok {
            Some(ok) => format!("{}: {} genes exported, {} failed: {quoted}", self.target, group_thousands(ok), group_thousands(failing)),
            None => format!("{}: even {} genes failed: {quoted}", self.target, group_thousands(failing)),
        };
        let remedies: Vec<String> = self.remedies.iter().map(|(m, ok)| format!("{} {}", remedy_words(m), if *ok { "fixed it" } else { "did not" })).collect();
        if !remedies.is_empty() {
            s.push_str(&format!("; {}", remedies.join(", ")));
        }
        match self.consistent {
            Some(true) => s.push_str("; folder left consistent"),
            Some(false) => s.push_str("; folder left INCONSISTENT"),
            None => {}
        }
        s
    }
}

/// `gene_panel:1984` → `a gene panel of 1,984`, `split:2` → `splitting into 2 exports`.
fn remedy_words(m: &str) -> String {
    match m.split_once(':') {
        Some(("gene_panel", n)) => format!("a gene panel of {}", n.parse().map_or_else(|_| n.to_string(), group_thousands)),
        Some(("split", k)) => format!("splitting into {k} exports"),
        _ => m.to_string(),
    }
}

/// The verdict on a writer's records (those of other scenarios are ignored); `None`
/// without a `too-many-files` record.
pub fn verdict(records: &[&ScenarioRecord]) -> Option<Verdict> {
    let mut findings: Vec<Finding> = records.iter().filter(|r| r.scenario == SCENARIO).map(|r| Finding::of(r)).collect();
    if findings.is_empty() {
        return None;
    }
    findings.sort_by(|a, b| a.target.cmp(&b.target));
    let hits: Vec<&Finding> = findings.iter().filter(|f| f.hit()).collect();
    let fixed = hits.iter().filter(|f| f.fixed()).count();
    let outcome = match (hits.len(), fixed) {
        (0, _) => Outcome::NotMeasured,
        (n, f) if f == n => Outcome::Holds,
        (_, 0) => Outcome::DoesNotHold,
        _ => Outcome::Partly,
    };
    let lead = match hits.len() {
        0 => "no limit was reached".to_string(),
        n => format!("limit hit on {n} of {} targets, fixed by a remedy on {fixed}", findings.len()),
    };
    let each: Vec<String> = findings.iter().map(Finding::evidence).collect();
    Some(Verdict { id: ID.into(), rule: RULE.into(), outcome, evidence: format!("{lead}: {}", each.join(" · ")) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(target: &str, data: Value) -> ScenarioRecord {
        let mut d = json!({"scenario": SCENARIO, "writer": "cellucid-bench", "target": target});
        for (k, v) in data.as_object().expect("object") {
            d[k] = v.clone();
        }
        ScenarioRecord { scenario: SCENARIO.into(), writer: "cellucid-bench".into(), target: Some(target.into()), data: d }
    }

    fn hit(target: &str, ok: u64, failing: u64, panel: bool, split: bool) -> ScenarioRecord {
        record(
            target,
            json!({
                "limit": "test", "largest_ok_genes": ok, "first_failing_genes": failing,
                "error": "error: No space left on device (os error 28)", "consistent_after_failure": true,
                "remedies": [
                    {"remedy": format!("gene_panel:{ok}"), "ok": panel, "detail": ""},
                    {"remedy": "split:2", "ok": split, "detail": ""},
                ],
                "searched_up_to": 65536,
            }),
        )
    }

    fn no_limit(target: &str, cap: u64) -> ScenarioRecord {
        record(target, json!({"largest_ok_genes": cap, "first_failing_genes": null, "error": null, "consistent_after_failure": null, "remedies": [], "searched_up_to": cap}))
    }

    fn judge(rs: &[ScenarioRecord]) -> Option<Verdict> {
        verdict(&rs.iter().collect::<Vec<_>>())
    }

    #[test]
    fn holds_when_every_limit_hit_is_fixed_and_quotes_the_numbers() {
        let v = judge(&[hit("tmpfs-nr-inodes+2000", 1_984, 2_048, true, false), hit("fat32", 1_500, 1_600, false, true), no_limit("ulimit-nofile+256", 16_384)]).unwrap();
        assert_eq!(v.outcome, Outcome::Holds);
        assert_eq!(v.id, "too-many-files");
        let e = &v.evidence;
        assert!(e.starts_with("limit hit on 2 of 3 targets, fixed by a remedy on 2"), "{e}");
        assert!(e.contains("tmpfs-nr-inodes+2000: 1,984 genes exported, 2,048 failed: “error: No space left on device (os error 28)”"), "{e}");
        assert!(e.contains("a gene panel of 1,984 fixed it, splitting into 2 exports did not"), "{e}");
        assert!(e.contains("fat32: 1,500 genes exported, 1,600 failed"), "{e}");
        assert!(e.contains("ulimit-nofile+256: no limit, every export up to 16,384 genes worked"), "{e}");
        assert!(e.contains("folder left consistent"), "{e}");
    }

    #[test]
    fn partly_and_does_not_hold() {
        let v = judge(&[hit("a", 10, 20, true, false), hit("b", 10, 20, false, false)]).unwrap();
        assert_eq!(v.outcome, Outcome::Partly);
        let v = judge(&[hit("a", 10, 20, false, false)]).unwrap();
        assert_eq!(v.outcome, Outcome::DoesNotHold);
        assert!(v.evidence.contains("did not, splitting into 2 exports did not"), "{}", v.evidence);
    }

    #[test]
    fn no_limit_reached_is_not_measured_with_the_reason() {
        let v = judge(&[no_limit("ulimit-nofile+256", 16_384)]).unwrap();
        assert_eq!(v.outcome, Outcome::NotMeasured);
        assert!(v.evidence.starts_with("no limit was reached: ulimit-nofile+256"), "{}", v.evidence);
    }

    #[test]
    fn an_inconsistent_folder_and_a_failing_start_are_said() {
        let mut r = hit("ext4-few-inodes+2000", 10, 20, true, true);
        r.data["consistent_after_failure"] = json!(false);
        r.data["largest_ok_genes"] = Value::Null;
        let v = judge(&[r]).unwrap();
        assert!(v.evidence.contains("ext4-few-inodes+2000: even 20 genes failed"), "{}", v.evidence);
        assert!(v.evidence.contains("folder left INCONSISTENT"), "{}", v.evidence);
    }

    #[test]
    fn none_without_records_of_this_scenario() {
        assert!(judge(&[]).is_none());
        let other = ScenarioRecord { scenario: "stale-export".into(), writer: "w".into(), target: None, data: json!({}) };
        assert!(judge(&[other]).is_none());
    }
}
