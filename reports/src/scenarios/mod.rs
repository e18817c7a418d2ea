//! The guide's rules that scenarios judge (`cellucid-bench scenario NAME`), not sweep
//! samples: what a writer does when it re-exports into an old folder, meets a
//! filesystem's file-count limit, or writes under a sync client.
//!
//! One module per rule, with `pub fn verdict(records: &[&ScenarioRecord]) ->
//! Option<Verdict>` over one writer's records of its scenario (`None` when there are
//! none: the rule stays "not measured" with the reason in [`ScenarioRule`]). A module
//! is registered by one line in the `judges!` list below. [`verdict`] is the call
//! `crate::verdicts` makes for each rule; [`tables`] lists every scenario's records per
//! writer, one table per scenario.

use crate::model::ScenarioRecord;
use crate::report::{Cell, Context, Table};
use crate::tables::Input;
use crate::verdicts::{Outcome, Verdict};
use serde_json::Value;

/// A scenario's verdict over one writer's records (see the module doc).
pub type Judge = fn(&[&ScenarioRecord]) -> Option<Verdict>;

/// One rule of the guide judged by a scenario.
pub struct ScenarioRule {
    /// The scenario's name in its records (`"scenario"`) and on the command line.
    pub scenario: &'static str,
    /// The rule's id in the verdict matrix.
    pub id: &'static str,
    /// The rule as the guide says it.
    pub rule: &'static str,
    /// Why the rule is not measured for a writer without records.
    pub not_measured: &'static str,
}

pub const CLOUD_SYNC: ScenarioRule = ScenarioRule {
    scenario: "cloud-sync",
    id: "avoid-cloud-sync",
    rule: "Avoid paths synced by cloud clients (Dropbox/OneDrive) during export.",
    not_measured: "no cloud-sync records: no target was watched by sync software (`cellucid-bench scenario cloud-sync`)",
};

pub const TOO_MANY_FILES: ScenarioRule = ScenarioRule {
    scenario: "too-many-files",
    id: "too-many-files",
    rule: "If you hit “too many files” limits, export fewer genes or split datasets.",
    not_measured: "no filesystem with a file-count limit was measured (files = exported genes + a constant, see files-equal-genes; `cellucid-bench scenario too-many-files`)",
};

pub const STALE_EXPORT: ScenarioRule = ScenarioRule {
    scenario: "stale-export",
    id: "stale-export",
    rule: "Re-exporting to the same out_dir with force=FALSE (the default) may skip writing files.",
    not_measured: "no stale-export records (`cellucid-bench scenario stale-export`)",
};

/// Every scenario-judged rule, in the verdict matrix's order.
pub const RULES: &[ScenarioRule] = &[CLOUD_SYNC, TOO_MANY_FILES, STALE_EXPORT];

/// Declares each rule's module and registers its `verdict` under the scenario's name,
/// so that adding one is one line.
macro_rules! judges {
    ($($scenario:literal => $module:ident),* $(,)?) => {
        $(pub mod $module;)*
        /// The verdict function of `scenario`, if one is registered.
        fn judge(scenario: &str) -> Option<Judge> {
            match scenario {
                $($scenario => Some($module::verdict as Judge),)*
                _ => None,
            }
        }
    };
}

judges! {
    "stale-export" => stale_export,
    "too-many-files" => too_many_files,
    "cloud-sync" => cloud_sync,
}

/// Whether the verdict matrix's rule `id` is judged by a scenario.
pub fn is_scenario_rule(id: &str) -> bool {
    RULES.iter().any(|r| r.id == id)
}

/// `rule` for the input's writer (an [`Input::only`]): the scenario's judgement of that
/// writer's records, or "not measured" with the reason. The id and the rule's words are
/// this table's, whatever the module's verdict says, so the matrix's rows stay one per rule.
pub fn verdict(input: &Input, rule: &ScenarioRule) -> Verdict {
    let records: Vec<&ScenarioRecord> =
        input.scenarios.iter().copied().filter(|r| r.scenario == rule.scenario && r.writer == input.writer()).collect();
    let judged = judge(rule.scenario).filter(|_| !records.is_empty()).and_then(|j| j(&records));
    let (outcome, evidence) = match judged {
        Some(v) => (v.outcome, v.evidence),
        None => (Outcome::NotMeasured, rule.not_measured.to_string()),
    };
    Verdict { id: rule.id.into(), rule: rule.rule.into(), outcome, evidence }
}

/// One table per scenario with records among the selected writers ([`RULES`]' order,
/// then any other scenario): its records, writer by writer in column order.
pub fn tables(input: &Input) -> Vec<Table> {
    let mut names: Vec<&str> = RULES.iter().map(|r| r.scenario).collect();
    for r in &input.scenarios {
        if !names.contains(&r.scenario.as_str()) {
            names.push(r.scenario.as_str());
        }
    }
    names.into_iter().filter_map(|n| table(input, n)).collect()
}

/// Fields every record has; the table's first columns show them.
const COMMON: &[&str] = &["scenario", "writer", "target", "finished_at"];

fn table(input: &Input, scenario: &str) -> Option<Table> {
    let records: Vec<&ScenarioRecord> = input
        .writers
        .iter()
        .flat_map(|w| input.scenarios.iter().copied().filter(move |r| r.scenario == scenario && r.writer == *w))
        .collect();
    if records.is_empty() {
        return None;
    }
    // The scenario's own fields, in order of first appearance.
    let mut keys: Vec<&str> = Vec::new();
    for k in records.iter().filter_map(|r| r.data.as_object()).flat_map(|m| m.keys()) {
        if !COMMON.contains(&k.as_str()) && !keys.contains(&k.as_str()) {
            keys.push(k.as_str());
        }
    }
    let rows = records
        .iter()
        .map(|r| {
            let mut row = vec![Cell::text(r.writer.clone()), Cell::text(r.target.clone().unwrap_or_else(|| "–".into()))];
            row.extend(keys.iter().map(|k| value_cell(r.data.get(*k))));
            row
        })
        .collect();
    let rule = RULES.iter().find(|r| r.scenario == scenario);
    let mut columns = vec!["writer".to_string(), "target".to_string()];
    columns.extend(keys.iter().map(|k| k.to_string()));
    Some(Table {
        id: format!("scenario-{scenario}"),
        title: format!("Scenario {scenario}: every record, per writer"),
        guide: rule.map_or_else(|| "(no rule of the guide names this scenario)".into(), |r| r.rule.into()),
        context: Context {
            machine: input.machine.clone(),
            date: input.date.clone(),
            runs: format!("{} records (findings, not timings)", records.len()),
            spread: "–".into(),
            interval: String::new(),
            cells: records.len(),
        },
        columns,
        rows,
        notes: vec![match rule {
            Some(r) => format!("Written by `cellucid-bench scenario {scenario}`; the verdict `{}` reads these records.", r.id),
            None => format!("Written by `cellucid-bench scenario {scenario}`."),
        }],
    })
}

/// A record's field as a table cell: text as it is, numbers as numbers, yes/no, lists
/// of names joined, anything else as compact JSON.
fn value_cell(v: Option<&Value>) -> Cell {
    match v {
        None | Some(Value::Null) => Cell::text("–"),
        Some(Value::String(s)) if s.is_empty() => Cell::text("–"),
        Some(Value::String(s)) => Cell::text(s.clone()),
        Some(Value::Bool(b)) => Cell::text(if *b { "yes" } else { "no" }),
        Some(Value::Number(n)) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => Cell::int(u),
            (None, Some(i), _) => Cell { text: i.to_string(), value: Some(i as f64), lo: None, hi: None },
            (None, None, Some(f)) => Cell::num(f),
            _ => Cell::text(n.to_string()),
        },
        Some(Value::Array(a)) if a.is_empty() => Cell::text("–"),
        Some(Value::Array(a)) if a.iter().all(Value::is_string) => {
            Cell::text(a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "))
        }
        Some(other) => Cell::text(other.to_string()),
    }
}
