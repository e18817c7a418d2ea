//! Verdict `stale-export`: "If you re-export to the same `out_dir` with `force=FALSE`
//! (default), the exporter may skip writing files."
//!
//! From a writer's two records of `cellucid-bench scenario stale-export` (A exported,
//! then B into the same folder with `force` off, then on). The warning holds for a writer
//! that, with `force` off, exits 0 and leaves A or a mix (it skipped files without a
//! word), or fails and leaves a mix; it does not hold for one that refuses with `force`
//! off (A untouched) or writes B whole, and gives exactly B with `force` on. A writer
//! whose `force`-off run is safe but whose `force`-on run does not give exactly B (or a
//! folder that fails the viewer's checks) is "partly", as is one that fails and leaves
//! nothing (no stale files, but A is lost). The evidence quotes both runs: exit status,
//! the user's message, what the folder holds, the viewer's checks.

use crate::model::ScenarioRecord;
use crate::verdicts::{Outcome, Verdict};
use serde::Deserialize;

/// The fields of a record the verdict reads.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Step {
    force: Option<bool>,
    exit_status: Option<i64>,
    signal: Option<i64>,
    message: String,
    /// `A`, `B`, `mix` or `none`.
    folder_equals: String,
    files: u64,
    #[serde(rename = "files_from_A")]
    files_from_a: u64,
    #[serde(rename = "files_from_B")]
    files_from_b: u64,
    validate_problems: Option<u64>,
    validate_first_problem: Option<String>,
    a_reproducible: Option<bool>,
    output: String,
}

impl Step {
    fn exited_ok(&self) -> bool {
        self.exit_status == Some(0)
    }

    /// Exactly B, and (for a `compact_v1` folder) no problem for the viewer.
    fn gave_b(&self) -> bool {
        self.exited_ok() && self.folder_equals == "B" && self.validate_problems.unwrap_or(0) == 0
    }

    fn folder(&self) -> &'static str {
        match self.folder_equals.as_str() {
            "A" => "A (untouched)",
            "B" => "exactly B",
            "mix" => "a mix of A and B",
            _ => "nothing of A or B",
        }
    }

    /// `force off: exit 1, “error: …” → folder = A (40 of A's files, 0 of B's), validate: 0 problems`.
    fn describe(&self, label: &str) -> String {
        let status = match (self.exit_status, self.signal) {
            (Some(c), _) => format!("exit {c}"),
            (None, Some(s)) => format!("killed by signal {s}"),
            (None, None) => "no exit status".into(),
        };
        let said = if self.message.is_empty() { "no message".to_string() } else { format!("“{}”", shorten(&self.message, 160)) };
        let checks = match (self.validate_problems, &self.validate_first_problem) {
            (Some(0), _) => ", validate: 0 problems".to_string(),
            (Some(n), Some(first)) => format!(", validate: {n} problem(s), first “{}”", shorten(first, 120)),
            (Some(n), None) => format!(", validate: {n} problem(s)"),
            (None, _) if !self.output.is_empty() && self.output != "compact_v1" => {
                format!(", not a compact_v1 folder ({} output, judged by its files)", self.output)
            }
            (None, _) => String::new(),
        };
        format!(
            "{label}: {status}, {said} → folder = {} ({} files: {} of A's, {} of B's){checks}",
            self.folder_equals, self.files, self.files_from_a, self.files_from_b
        )
    }
}

fn shorten(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// The outcome and the finding in words, from the last `force`-off and `force`-on steps.
fn judge(off: Option<&Step>, on: Option<&Step>) -> (Outcome, String) {
    if [off, on].into_iter().flatten().any(|s| s.a_reproducible == Some(false)) {
        return (
            Outcome::NotMeasured,
            "the writer's output is not byte-reproducible (A exported twice differs), so the folder cannot be matched to A or B".into(),
        );
    }
    let Some(off) = off else { return (Outcome::NotMeasured, "no record with force off".into()) };
    let force_on = match on {
        Some(s) if s.gave_b() => "force on replaces it with exactly B",
        Some(_) => "but force on does not give exactly B",
        None => "force on was not recorded",
    };
    let safe = |what: &str| {
        let outcome = if on.is_some_and(|s| !s.gave_b()) { Outcome::Partly } else { Outcome::DoesNotHold };
        (outcome, format!("{what}; {force_on}"))
    };
    match (off.exited_ok(), off.folder_equals.as_str()) {
        (true, "B") => safe("force off skips nothing: B is written whole"),
        (true, _) => (Outcome::Holds, format!("force off exits 0 yet leaves {}: files were skipped without an error", off.folder())),
        (false, "A") => safe("force off refuses, with a message, and leaves A untouched"),
        (false, "mix") => (Outcome::Holds, "force off fails and leaves a mix of A and B: part of B was not written".into()),
        (false, _) => (Outcome::Partly, "force off fails and leaves nothing of A or B: no stale files, but A is lost".into()),
    }
}

/// The verdict over one writer's `stale-export` records (the last of each kind counts,
/// if a store holds several runs); `None` without any.
pub fn verdict(records: &[&ScenarioRecord]) -> Option<Verdict> {
    let steps: Vec<Step> = records
        .iter()
        .filter(|r| r.scenario == super::STALE_EXPORT.scenario)
        .filter_map(|r| Step::deserialize(&r.data).ok())
        .collect();
    let off = steps.iter().rev().find(|s| s.force == Some(false));
    let on = steps.iter().rev().find(|s| s.force == Some(true));
    if off.is_none() && on.is_none() {
        return None;
    }
    let (outcome, finding) = judge(off, on);
    let runs: Vec<String> = [off.map(|s| s.describe("force off")), on.map(|s| s.describe("force on"))].into_iter().flatten().collect();
    Some(Verdict {
        id: super::STALE_EXPORT.id.into(),
        rule: super::STALE_EXPORT.rule.into(),
        outcome,
        evidence: format!("{finding}. {}", runs.join("; ")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn record(force: bool, exit: i64, message: &str, equals: &str, validate: Value) -> ScenarioRecord {
        let (from_a, from_b) = match equals {
            "A" => (40, 0),
            "B" => (0, 40),
            "mix" => (38, 2),
            _ => (0, 0),
        };
        let data = json!({
            "scenario": "stale-export", "writer": "w", "target": "disk", "output": "compact_v1",
            "force": force, "exit_status": exit, "signal": null, "message": message, "folder_equals": equals,
            "files": from_a + from_b + 12, "files_from_A": from_a, "files_from_B": from_b,
            "validate_problems": validate, "validate_first_problem": null, "a_reproducible": true,
        });
        ScenarioRecord { scenario: "stale-export".into(), writer: "w".into(), target: Some("disk".into()), data }
    }

    fn judged(records: &[ScenarioRecord]) -> Verdict {
        verdict(&records.iter().collect::<Vec<_>>()).expect("records")
    }

    const REFUSAL: &str = "error: FileExistsError: Refusing to replace non-empty export directory /w/out.";

    #[test]
    fn a_writer_that_refuses_then_replaces_does_not_skip() {
        let v = judged(&[record(false, 1, REFUSAL, "A", json!(0)), record(true, 0, "", "B", json!(0))]);
        assert_eq!(v.outcome, Outcome::DoesNotHold, "{}", v.evidence);
        assert_eq!(v.id, "stale-export");
        for want in ["force off refuses", "exactly B", "force off: exit 1, “error: FileExistsError: Refusing", "folder = A (52 files: 40 of A's, 0 of B's)", "force on: exit 0, no message → folder = B", "validate: 0 problems"] {
            assert!(v.evidence.contains(want), "{want:?} not in {}", v.evidence);
        }
    }

    #[test]
    fn a_writer_that_exits_0_and_leaves_old_files_holds() {
        let v = judged(&[record(false, 0, "", "A", json!(0)), record(true, 0, "", "B", json!(0))]);
        assert_eq!(v.outcome, Outcome::Holds);
        assert!(v.evidence.starts_with("force off exits 0 yet leaves A (untouched): files were skipped"), "{}", v.evidence);
        let v = judged(&[record(false, 0, "", "mix", json!(3))]);
        assert_eq!(v.outcome, Outcome::Holds);
        assert!(v.evidence.contains("a mix of A and B") && v.evidence.contains("validate: 3 problem(s)"), "{}", v.evidence);
        let v = judged(&[record(false, 1, "error: disk full", "mix", json!(5))]);
        assert_eq!(v.outcome, Outcome::Holds, "a failure that leaves a mix");
    }

    #[test]
    fn safe_without_force_but_force_on_not_b_is_partly() {
        let v = judged(&[record(false, 1, REFUSAL, "A", json!(0)), record(true, 0, "", "mix", json!(0))]);
        assert_eq!(v.outcome, Outcome::Partly);
        assert!(v.evidence.contains("but force on does not give exactly B"), "{}", v.evidence);
        let v = judged(&[record(false, 1, REFUSAL, "A", json!(0)), record(true, 0, "", "B", json!(2))]);
        assert_eq!(v.outcome, Outcome::Partly, "B that fails the viewer's checks");
        let v = judged(&[record(false, 1, "error: x", "none", Value::Null)]);
        assert_eq!(v.outcome, Outcome::Partly, "A lost");
    }

    #[test]
    fn other_outputs_are_judged_by_their_files_and_unreproducible_ones_not_at_all() {
        let mut off = record(false, 1, REFUSAL, "A", Value::Null);
        let mut on = record(true, 0, "", "B", Value::Null);
        off.data["output"] = json!("anndata");
        on.data["output"] = json!("anndata");
        let v = judged(&[off, on]);
        assert_eq!(v.outcome, Outcome::DoesNotHold);
        assert!(v.evidence.contains("not a compact_v1 folder (anndata output, judged by its files)"), "{}", v.evidence);
        let mut off = record(false, 0, "", "mix", json!(0));
        off.data["a_reproducible"] = json!(false);
        let v = judged(&[off]);
        assert_eq!(v.outcome, Outcome::NotMeasured);
        assert!(v.evidence.contains("not byte-reproducible"), "{}", v.evidence);
    }

    #[test]
    fn no_records_no_verdict_and_the_last_run_counts() {
        assert!(verdict(&[]).is_none());
        let other = ScenarioRecord { scenario: "cloud-sync".into(), writer: "w".into(), target: None, data: json!({"scenario": "cloud-sync"}) };
        assert!(verdict(&[&other]).is_none());
        let v = judged(&[record(false, 0, "", "A", json!(0)), record(false, 1, REFUSAL, "A", json!(0)), record(true, 0, "", "B", json!(0))]);
        assert_eq!(v.outcome, Outcome::DoesNotHold, "{}", v.evidence);
    }
}
