//! The record of one writer on one daemon: medians over the timed runs, sums over the
//! sampled ones, and every run as measured.

use super::runs::{Kind, Run};
use super::{Options, NAME};
use crate::benchmark::stats::median;
use crate::plan::Cell;
use serde_json::{json, Value};

/// The median of `f` over the runs of `kind` that have a value.
fn med(runs: &[Run], kind: Kind, f: impl Fn(&Run) -> Option<f64>) -> Option<f64> {
    let v: Vec<f64> = runs.iter().filter(|r| r.kind == kind).filter_map(f).collect();
    (!v.is_empty()).then(|| median(&v))
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

/// The scenario's record (see `scenario-interface` and the README's `cloud-sync`).
pub fn record(target: &str, daemon_version: &str, cell: &Cell, validates: bool, opts: &Options, runs: &[Run]) -> Value {
    let export_s = med(runs, Kind::Watched, |r| r.export_s);
    let unwatched_export_s = med(runs, Kind::Unwatched, |r| r.export_s);
    let ok_watched = |r: &Run| r.kind != Kind::Unwatched && r.export_s.is_some();
    let bytes_exported = med(runs, Kind::Watched, |r| r.export_s.map(|_| r.bytes_exported as f64));
    let bytes_transferred = med(runs, Kind::Watched, |r| r.export_s.and(r.bytes_transferred).map(|b| b as f64));
    let sampled: Vec<_> = runs.iter().filter_map(|r| r.judged.as_ref()).collect();
    let sum = |f: fn(&super::sampler::Judged) -> usize| sampled.iter().map(|j| f(j)).sum::<usize>();
    let d = &cell.dataset;
    json!({
        "scenario": NAME,
        "writer": cell.writer,
        "target": target,
        "export_s": export_s,
        "unwatched_export_s": unwatched_export_s,
        "slowdown": ratio(export_s, unwatched_export_s),
        "sync_complete_s": med(runs, Kind::Watched, |r| r.sync_complete_s),
        "bytes_exported": bytes_exported.map(|b| b.round() as u64),
        "bytes_transferred": bytes_transferred.map(|b| b.round() as u64),
        "transfer_ratio": ratio(bytes_transferred, bytes_exported),
        "samples": sum(|j| j.samples),
        "looked_complete": sum(|j| j.looked_complete),
        "partial_looking_complete": validates.then(|| sum(|j| j.failed)),
        "first_partial_problem": sampled.iter().find_map(|j| j.first_problem.clone()),
        "validate_failures": validates.then(|| runs.iter().filter(|r| r.remote_valid == Some(false)).count()),
        "sync_timeouts": runs.iter().filter(|r| ok_watched(r) && r.sync_complete_s.is_none() && r.stalled.is_none()).count(),
        "sync_stalls": runs.iter().filter(|r| r.stalled.is_some()).count(),
        "first_stall": runs.iter().find_map(|r| r.stalled.clone()),
        "after_rescan_s": med(runs, Kind::Watched, |r| r.after_rescan_s),
        "failed_exports": runs.iter().filter(|r| r.error.is_some()).count(),
        "error": runs.iter().find_map(|r| r.error.clone()),
        "daemon": daemon_version,
        "dataset": {"cells": d.cells, "genes": d.genes, "density": d.density},
        "settings": cell.settings.to_json(),
        "repeats": opts.repeats,
        "sampled_runs": opts.sampled_runs,
        "sample_every_s": opts.sample_every.as_secs_f64(),
        "runs": runs.iter().map(Run::to_json).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::sampler::Judged;
    use super::*;

    fn run(kind: Kind, export_s: Option<f64>, sync: Option<f64>, sent: Option<u64>) -> Run {
        Run {
            kind,
            export_s,
            error: export_s.is_none().then(|| "error: disk full".to_string()),
            bytes_exported: 1000,
            sync_complete_s: sync,
            stalled: None,
            after_rescan_s: None,
            bytes_transferred: sent,
            remote_valid: sync.map(|_| true),
            judged: None,
        }
    }

    #[test]
    fn medians_of_timed_runs_and_sums_of_samples() {
        let opts = Options::small();
        let cell = super::super::cell(&opts, "cellucid-bench", "syncthing");
        let mut sampled = run(Kind::Sampled, Some(9.0), Some(9.0), Some(9000));
        sampled.judged = Some(Judged { samples: 7, looked_complete: 3, failed: 2, first_problem: Some("var_manifest.json: missing".into()) });
        let runs = vec![
            run(Kind::Unwatched, Some(1.0), None, None),
            run(Kind::Watched, Some(1.5), Some(2.0), Some(2000)),
            run(Kind::Watched, Some(1.1), None, Some(1500)),
            run(Kind::Unwatched, Some(1.0), None, None),
            run(Kind::Watched, None, None, Some(10)),
            sampled,
            Run { stalled: Some("748 of 2011 files".into()), after_rescan_s: Some(3.0), ..run(Kind::Watched, Some(1.3), None, Some(700)) },
        ];
        let r = record("syncthing", "syncthing v1", &cell, true, &opts, &runs);
        assert_eq!(r["scenario"], "cloud-sync");
        assert_eq!(r["writer"], "cellucid-bench");
        assert_eq!(r["target"], "syncthing");
        assert_eq!(r["export_s"], 1.3, "the failed run has no time and the sampled one is left out");
        assert_eq!((r["sync_stalls"].as_u64(), r["first_stall"].as_str(), r["after_rescan_s"].as_f64()), (Some(1), Some("748 of 2011 files"), Some(3.0)));
        assert_eq!(r["unwatched_export_s"], 1.0);
        assert_eq!(r["slowdown"], 1.3);
        assert_eq!(r["sync_complete_s"], 2.0);
        assert_eq!(r["bytes_exported"], 1000);
        assert_eq!(r["bytes_transferred"], 1500);
        assert_eq!(r["transfer_ratio"], 1.5);
        assert_eq!((r["samples"].as_u64(), r["looked_complete"].as_u64(), r["partial_looking_complete"].as_u64()), (Some(7), Some(3), Some(2)));
        assert_eq!(r["first_partial_problem"], "var_manifest.json: missing");
        assert_eq!(r["validate_failures"], 0);
        assert_eq!(r["sync_timeouts"], 1);
        assert_eq!(r["failed_exports"], 1);
        assert_eq!(r["error"], "error: disk full");
        assert_eq!(r["runs"].as_array().map(Vec::len), Some(7));
        let anndata = record("syncthing", "syncthing v1", &cell, false, &opts, &runs);
        assert!(anndata["partial_looking_complete"].is_null() && anndata["validate_failures"].is_null());
    }
}
