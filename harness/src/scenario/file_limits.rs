//! `too-many-files`: the guide's "If you hit “too many files” limits, export fewer genes
//! or split datasets", on filesystems that really have such limits (`crate::target`:
//! `exfat`, `ntfs`, `fat32`, `ext4-few-inodes:N`, `tmpfs-nr-inodes:N`,
//! `ulimit-nofile:N`).
//!
//! For each writer and target:
//! 1. **The limit**: the largest gene count that exports (datasets of 200 cells; genes
//!    doubling from 64, then bisected, `search.rs`), each step into an empty target;
//!    the error the user sees beyond it (the first line of the writer's stderr).
//! 2. **What a failure leaves**: after every failed step the target must be as empty as
//!    before (no `out_dir`, no staging directory); then the largest export that fits is
//!    made, the first failing one is exported over it with `force=True`, and the old
//!    generation must still be there byte for byte (tree hash), valid (`validate`, for
//!    compact_v1 writers), with nothing new beside it.
//! 3. **The remedies**: a gene panel of the largest count that fits
//!    (`gene_panel:N`), and the dataset split into K exports of disjoint gene ranges side
//!    by side on the target (`split:K`, K = ⌈failing / largest⌉).
//!
//! One record per writer and target (`"scenario": "too-many-files"`). The targets are
//! [`default_targets`], or those named in `$CELLUCID_TOO_MANY_FILES_TARGETS` (specs
//! separated by commas or spaces, e.g. `tmpfs-nr-inodes:600,usb=/media/usb`).

mod runner;
mod search;

use super::Context;
use crate::benchmark::executor::{ChildRun, Executor};
use crate::sweep::dataset_cache::DatasetCache;
use crate::target::{self, Target, TargetError, TargetSpec};
use crate::writer::Output;
use anyhow::{Context as _, Result};
use runner::{Export, Runner, CELLS};
use search::{search, Bounds};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

/// The scenario's name, in records and on the command line.
pub const NAME: &str = "too-many-files";
/// The environment variable that replaces [`default_targets`].
pub const TARGETS_VAR: &str = "CELLUCID_TOO_MANY_FILES_TARGETS";
/// The gene count the search starts at.
const START_GENES: usize = 64;
/// No new search step after this long (per writer and target).
const SEARCH_BUDGET: Duration = Duration::from_secs(300);

/// One target of the scenario and how far to search on it.
#[derive(Clone, Debug)]
pub struct Limited {
    pub spec: TargetSpec,
    /// The image (or tmpfs) size handed to `target::provision`.
    pub size_bytes: u64,
    /// The largest gene count tried.
    pub max_genes: usize,
}

/// The default size and search cap of a target: images small enough that their limit
/// is reached in seconds, and a cap well beyond every limit.
pub fn limited(spec: TargetSpec) -> Limited {
    let (size_bytes, max_genes) = match spec {
        // 2,048 clusters of 128 KiB.
        TargetSpec::Exfat => (256 << 20, 65_536),
        TargetSpec::Ntfs => (16 << 20, 65_536),
        // fusefat creates ~40 files/s into a small directory, fewer as it grows: the
        // 65,536-entry directory limit (~21,800 genes) is hours of search away, so the
        // search stops at 2,048 genes (about a minute per step).
        TargetSpec::Fat32 => (64 << 20, 2_048),
        TargetSpec::UlimitNofile { .. } => (0, 16_384),
        _ => (64 << 20, 65_536),
    };
    Limited { spec, size_bytes, max_genes }
}

/// exFAT, NTFS, ext4 with 2,000 inodes, tmpfs with 2,000 inodes, and an open-file limit
/// of 256 (macOS's default `ulimit -n`). Not FAT32: its limit, 65,536 entries in one
/// directory (~21,800 gene files), takes fusefat about an hour per export to reach, and a
/// FAT32 volume small enough to fill sooner (fewer than its 65,525 clusters) hangs fusefat;
/// name `fat32` in `$CELLUCID_TOO_MANY_FILES_TARGETS` to search it up to 2,048 genes.
pub fn default_targets() -> Vec<Limited> {
    [
        TargetSpec::Exfat,
        TargetSpec::Ntfs,
        TargetSpec::Ext4FewInodes { inodes: 2_000 },
        TargetSpec::TmpfsNrInodes { inodes: 2_000 },
        TargetSpec::UlimitNofile { limit: 256 },
    ]
    .into_iter()
    .map(limited)
    .collect()
}

/// The targets: `$CELLUCID_TOO_MANY_FILES_TARGETS` if set, else [`default_targets`].
fn targets() -> Result<Vec<Limited>> {
    let Ok(list) = std::env::var(TARGETS_VAR) else { return Ok(default_targets()) };
    let mut out = Vec::new();
    for s in list.split([',', ' ']).filter(|s| !s.trim().is_empty()) {
        out.push(limited(TargetSpec::parse(s).map_err(|e| anyhow::anyhow!("{TARGETS_VAR}: {e}"))?));
    }
    Ok(out)
}

pub fn run(ctx: &mut Context) -> Result<()> {
    let dir = ctx.work_dir.join(NAME);
    let params_dir = dir.join("params");
    std::fs::create_dir_all(&params_dir).with_context(|| format!("cannot create {}", params_dir.display()))?;
    let targets_dir = dir.join("targets");
    // What a killed run of this scenario left is reclaimed first, as a sweep does.
    target::reclaim::stale(&targets_dir)?;
    let cache = DatasetCache::new(&ctx.work_dir.join("datasets"))?;
    let executor = Executor::current().context("cannot locate this executable")?;
    for limited in targets()? {
        let name = limited.spec.name();
        let t = match target::provision(&limited.spec, &targets_dir, limited.size_bytes) {
            Ok(t) => t,
            Err(TargetError::Skipped { reason, .. }) => {
                eprintln!("{NAME} {name}: skipped: {reason}");
                continue;
            }
            Err(e) => return Err(anyhow::anyhow!("{e}")),
        };
        let limit = describe(&t);
        eprintln!("{NAME} {name}: {limit}");
        for w in ctx.writers {
            if let Some(why) = w.supports.why_not(&runner::cell(START_GENES, &limited.spec.to_string(), &w.name), &w.name) {
                eprintln!("{NAME} {} {name}: left out: {why}", w.name);
                continue;
            }
            let mut r = Runner { executor: &executor, cache: &cache, params_dir: &params_dir, work_dir: ctx.work_dir, target: &t, writer: w, runs: 0 };
            let record = probe(&mut r, &limited, &limit)?;
            ctx.recorder.append(&record)?;
        }
        t.teardown().map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(())
}

/// The limit of `t` in words, with its numbers as provisioned.
fn describe(t: &Target) -> String {
    let mib = t.info.total_bytes as f64 / f64::from(1u32 << 20);
    let inodes = target::info::inodes(&t.root);
    let free = inodes.map_or_else(|| "?".into(), |(_, f)| f.to_string());
    match &t.spec {
        TargetSpec::Exfat => format!("exFAT volume of {mib:.0} MiB with 128 KiB clusters (a file takes at least one)"),
        TargetSpec::Ntfs => format!("NTFS volume of {mib:.0} MiB (a 1 KiB MFT record per file)"),
        TargetSpec::Fat32 => format!("FAT32 volume of {mib:.0} MiB, 512-byte clusters, at most 65,536 entries per directory"),
        TargetSpec::Ext4FewInodes { inodes: n } => {
            let total = inodes.map_or_else(|| "?".into(), |(t, _)| t.to_string());
            format!("ext4 with {total} inodes (mkfs.ext4 -N {n}), {free} free for exports")
        }
        TargetSpec::TmpfsNrInodes { inodes: n } => format!("tmpfs with nr_inodes={n}, {free} free for exports"),
        TargetSpec::UlimitNofile { limit } => format!("RLIMIT_NOFILE {limit} (ulimit -n {limit}) for the writer's processes"),
        other => format!("{} as it is ({}, {mib:.0} MiB, {free} inodes free)", other.name(), t.info.fs_type),
    }
}

/// A failed export: the first line of its stderr, and whether it left the target empty.
struct Failure {
    error: String,
    left: Vec<String>,
}

/// The whole finding for one writer on one target, as its record.
fn probe(r: &mut Runner, limited: &Limited, limit: &str) -> Result<Value> {
    let (w, t) = (r.writer.name.clone(), r.target.spec.name());
    let started = Instant::now();
    let bounds = Bounds { start: START_GENES, max: limited.max_genes, budget: SEARCH_BUDGET };
    let mut strays: Vec<String> = Vec::new();
    let bracket = search(bounds, |genes| {
        clear(&r.target.root)?;
        let out = r.target.root.join("out");
        let child = r.run(&Export::all(genes), &out)?;
        let failure = (!child.success()).then(|| Failure { error: first_line(&child), left: entries(&r.target.root).into_iter().collect() });
        eprintln!("{NAME} {w} {t}: {genes} genes ... {}", failure.as_ref().map_or("ok".to_string(), |f| format!("failed: {}", f.error)));
        if let Some(f) = &failure {
            strays.extend(f.left.iter().map(|e| format!("{e} (after {genes} genes)")));
        }
        Ok(failure)
    })?;
    clear(&r.target.root)?;
    let mut record = json!({
        "scenario": NAME,
        "writer": w,
        "target": t,
        "limit": limit,
        "cells": CELLS,
        "largest_ok_genes": bracket.largest_ok,
        "first_failing_genes": bracket.first_failing.as_ref().map(|f| f.0),
        "error": bracket.first_failing.as_ref().map(|f| f.1.error.clone()),
        "consistent_after_failure": Value::Null,
        "remedies": [],
        "searched_up_to": limited.max_genes,
        "search_complete": bracket.complete,
        "steps": bracket.steps,
    });
    if let Some((failing, _)) = &bracket.first_failing {
        let failing = *failing;
        let mut consistent = strays.is_empty();
        let mut detail: Vec<String> = Vec::new();
        if strays.is_empty() {
            detail.push("every failed export left the target as it found it".into());
        } else {
            detail.push(format!("failed exports left {}", strays.join(", ")));
        }
        match bracket.largest_ok {
            Some(ok) => {
                let replaced = over_old_generation(r, ok, failing)?;
                consistent &= replaced.is_ok();
                detail.push(match replaced {
                    Ok(how) | Err(how) => how,
                });
                record["remedies"] = remedies(r, ok, failing)?.into();
            }
            None => detail.push("no export fitted, so there was no old generation to keep and no remedy to try".into()),
        }
        record["consistent_after_failure"] = consistent.into();
        record["consistency"] = detail.join("; ").into();
    }
    record["scenario_s"] = started.elapsed().as_secs_f64().into();
    eprintln!("{NAME} {w} {t}: largest {:?}, first failing {:?}", bracket.largest_ok, bracket.first_failing.as_ref().map(|f| f.0));
    Ok(record)
}

/// Exports `ok` genes, then `failing` genes over it with `force=True`; `Ok` when that
/// failed and left the first export as it was (same tree hash, valid, nothing beside it).
fn over_old_generation(r: &mut Runner, ok: usize, failing: usize) -> Result<Result<String, String>> {
    clear(&r.target.root)?;
    let out = r.target.root.join("out");
    let first = r.run(&Export::all(ok), &out)?;
    if !first.success() {
        return Ok(Err(format!("the {ok}-gene export failed on an empty target this time: {}", first_line(&first))));
    }
    let before = crate::measure::tree::tree_stats(&out, true).with_context(|| format!("cannot read {}", out.display()))?;
    let names_before = entries(&r.target.root);
    let second = r.run(&Export { genes: failing, subset: None, force: true }, &out)?;
    if second.success() {
        return Ok(Ok(format!("the {failing}-gene export over the {ok}-gene one succeeded (not checked)")));
    }
    let names_after = entries(&r.target.root);
    let mut problems = Vec::new();
    let new: Vec<&String> = names_after.difference(&names_before).collect();
    if !new.is_empty() {
        problems.push(format!("left {new:?} beside out_dir"));
    }
    match crate::measure::tree::tree_stats(&out, true) {
        Ok(after) if after.hash == before.hash => {}
        Ok(after) => problems.push(format!("out_dir changed ({} files, was {})", after.files, before.files)),
        Err(e) => problems.push(format!("out_dir unreadable: {e}")),
    }
    if r.writer.output == Output::CompactV1 && out.is_dir() {
        let report = cellucid_core::validate(&out);
        if !report.is_ok() {
            problems.push(format!("out_dir no longer valid ({} problems, first: {})", report.problems.len(), report.problems[0].message));
        }
    }
    Ok(if problems.is_empty() {
        Ok(format!("a failed {failing}-gene export over a {ok}-gene one left the old generation intact and valid"))
    } else {
        Err(format!("a failed {failing}-gene export over a {ok}-gene one {}", problems.join(", ")))
    })
}

/// The guide's remedies for a dataset of `failing` genes: a panel of `ok` genes, and
/// K = ⌈failing / ok⌉ exports of disjoint gene ranges side by side.
fn remedies(r: &mut Runner, ok: usize, failing: usize) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    clear(&r.target.root)?;
    let panel_dir = r.target.root.join("panel");
    let panel = r.run(&Export { genes: failing, subset: Some(0..ok), force: false }, &panel_dir)?;
    let detail = if panel.success() { format!("exported {ok} of the {failing} genes") } else { first_line(&panel) };
    out.push(json!({"remedy": format!("gene_panel:{ok}"), "ok": panel.success(), "detail": detail}));
    log(r, &format!("gene panel of {ok} of {failing}"), panel.success());

    clear(&r.target.root)?;
    let k = failing.div_ceil(ok.max(1)).max(2);
    let per = failing.div_ceil(k);
    let mut failed = None;
    for part in 0..k {
        let range = part * per..((part + 1) * per).min(failing);
        let part_dir = r.target.root.join(format!("part-{part}"));
        let child = r.run(&Export { genes: failing, subset: Some(range), force: false }, &part_dir)?;
        if !child.success() {
            failed = Some(format!("part {} of {k} failed: {}", part + 1, first_line(&child)));
            break;
        }
    }
    let ok_split = failed.is_none();
    let detail = failed.unwrap_or_else(|| format!("{k} exports of at most {per} genes side by side"));
    out.push(json!({"remedy": format!("split:{k}"), "ok": ok_split, "detail": detail}));
    log(r, &format!("split into {k}"), ok_split);
    clear(&r.target.root)?;
    Ok(out)
}

fn log(r: &Runner, what: &str, ok: bool) {
    eprintln!("{NAME} {} {}: {what} ... {}", r.writer.name, r.target.spec.name(), if ok { "ok" } else { "failed" });
}

/// The first non-empty stderr line (what the user sees first), or how the child ended.
fn first_line(child: &ChildRun) -> String {
    if let Some(sig) = child.signal {
        return format!("killed by signal {sig}");
    }
    match child.stderr.lines().find(|l| !l.trim().is_empty()) {
        Some(l) => l.trim().to_string(),
        None => format!("exit status {} and nothing on stderr", child.code.map_or("?".into(), |c| c.to_string())),
    }
}

/// The names in `dir`.
fn entries(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir).map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect()).unwrap_or_default()
}

/// Removes everything in `dir` (the target's root), keeping `dir`.
fn clear(dir: &Path) -> Result<()> {
    for e in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?.flatten() {
        let p = e.path();
        let removed = if e.file_type().is_ok_and(|t| t.is_dir()) { std::fs::remove_dir_all(&p) } else { std::fs::remove_file(&p) };
        removed.with_context(|| format!("cannot remove {}", p.display()))?;
    }
    Ok(())
}
