//! Scenario `stale-export`. The guide: "If you re-export to the same `out_dir` with
//! `force=FALSE` (default), the exporter may skip writing files."
//!
//! For each writer, A and B are two synthetic datasets of the same shape and different
//! seeds (the same file names, other bytes). Each is first exported alone into its own
//! directory; then A into `out`, then B into the same `out` with `force` off, then with
//! `force` on. After each of the two re-exports one record says what the user saw (the
//! exit status and the first stderr line) and what `out` holds: A, B, a mix or nothing,
//! file by file against the exports alone ([`folder_match`]), and the viewer's checks on
//! it (`validate`, for writers whose output is a `compact_v1` folder; any other output is
//! judged by its files alone). A writer that skips the files it finds, exits 0 and
//! leaves A or a mix is what the guide warns of; one that refuses with `force` off and
//! leaves A untouched, then gives exactly B with `force` on, is not.

use super::export::{self, WORK_DIR_TARGET};
use super::folder_match::{self, classify, FolderMatch, Hashes};
use super::{step, Context};
use crate::benchmark::executor::{ChildRun, Executor};
use crate::plan::Cell;
use crate::sweep::executor::RunPaths;
use crate::writer::{Output, Writer};
use anyhow::{bail, Context as _, Result};
use cellucid_datasets::synthetic::DatasetSpec;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

pub const NAME: &str = "stale-export";

/// Seeds of A and B.
const SEEDS: [u64; 2] = [1, 2];

/// A small dataset: the finding does not depend on size, and every writer exports it in
/// seconds.
fn dataset(seed: u64) -> DatasetSpec {
    DatasetSpec { cells: 400, genes: 40, density: 0.1, seed, ..DatasetSpec::default() }
}

pub fn run(ctx: &mut Context) -> Result<()> {
    let dir = ctx.scratch(NAME)?;
    let executor = Executor::current().context("cannot locate this executable")?;
    let mut failed = Vec::new();
    let writers = ctx.writers;
    for w in writers {
        if let Err(e) = one_writer(ctx, &executor, w, &dir.join(&w.name)) {
            step(NAME, &w.name, "scenario", &format!("failed: {e:#}"));
            failed.push(w.name.as_str());
        }
    }
    if !failed.is_empty() {
        bail!("{NAME} could not run for {} (see above)", failed.join(", "));
    }
    Ok(())
}

/// One dataset of the scenario, ready to export.
struct Side {
    cell: Cell,
    input: PathBuf,
}

/// The exports of one writer, each a measured child run as the sweep runs it.
struct Runner<'a> {
    executor: &'a Executor,
    writer: &'a Writer,
    work_dir: &'a Path,
    /// The writer's scratch directory (params, the exports alone, the re-exported `out`).
    dir: &'a Path,
}

impl Runner<'_> {
    fn side(&self, seed: u64) -> Result<Side> {
        let cell = export::cell(self.writer, dataset(seed));
        let input = export::input(&cell, self.work_dir)?;
        Ok(Side { cell, input })
    }

    /// Exports `side` into `out` with `force` (`None`: the parameter left out, its
    /// default), the params file named `name`.
    fn export(&self, side: &Side, force: Option<bool>, name: &str, out: &Path) -> Result<ChildRun> {
        let params = self.dir.join(format!("{name}.params.json"));
        let extra: Vec<(&str, Value)> = force.map(|f| ("force", json!(f))).into_iter().collect();
        export::write_params(&side.cell, &extra, &params)?;
        let paths = RunPaths { input: &side.input, params: &params, out: out.to_path_buf(), work_dir: self.work_dir };
        export::run(self.executor, self.writer, &side.cell, &paths, None)
    }

    /// An export the scenario cannot do without: it must succeed and leave something.
    fn required(&self, side: &Side, what: &str, out: &Path) -> Result<Hashes> {
        let run = self.export(side, None, &what.replace(' ', "-"), out)?;
        if !run.success() {
            bail!("{what} failed ({}): {}", status(&run), run.error_line());
        }
        let hashes = folder_match::hashes(out)?.with_context(|| format!("{what} exited 0 but left nothing at {}", out.display()))?;
        step(NAME, &self.writer.name, what, &format!("ok, {} files", hashes.len()));
        Ok(hashes)
    }
}

fn status(run: &ChildRun) -> String {
    match (run.code, run.signal) {
        (Some(c), _) => format!("exit {c}"),
        (None, Some(s)) => format!("signal {s}"),
        (None, None) => "no status".into(),
    }
}

fn one_writer(ctx: &mut Context, executor: &Executor, w: &Writer, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let r = Runner { executor, writer: w, work_dir: ctx.work_dir, dir };
    let (a, b) = (r.side(SEEDS[0])?, r.side(SEEDS[1])?);
    let a_alone = r.required(&a, "export A alone", &dir.join("a-alone/out"))?;
    let b_alone = r.required(&b, "export B alone", &dir.join("b-alone/out"))?;
    if a_alone == b_alone {
        bail!("A and B exported alone are identical: the scenario cannot tell them apart");
    }
    // Each export's `out` in a directory of its own: what a writer leaves beside it
    // (lock files, staging directories) is listed in the records.
    let out = dir.join("reexport/out");
    let a_again = r.required(&a, "export A", &out)?;
    // A writer whose output differs from run to run cannot be matched file by file.
    let reproducible = a_again == a_alone;
    let fs_type = crate::target::info::query(dir).ok().map(|i| i.fs_type);
    for force in [false, true] {
        let what = format!("export B over A, force {}", if force { "on" } else { "off" });
        let run = r.export(&b, Some(force), &format!("b-force-{force}"), &out)?;
        let m = classify(folder_match::hashes(&out)?.as_ref(), &a_alone, &b_alone);
        let (problems, first_problem) = validate(w, &out);
        let record = json!({
            "scenario": NAME,
            "writer": w.name,
            "target": WORK_DIR_TARGET,
            "fs_type": fs_type,
            "output": w.output.as_str(),
            "force": force,
            "exit_status": run.code,
            "signal": run.signal,
            "message": run.first_line(),
            "folder_equals": m.equals.as_str(),
            "files": m.files,
            "files_from_A": m.from_a,
            "files_from_B": m.from_b,
            "files_in_both": m.in_both,
            "files_neither": m.neither,
            "files_of_B_missing": m.missing_of_b,
            "validate_problems": problems,
            "validate_first_problem": first_problem,
            "a_reproducible": reproducible,
            "beside_out": beside(&out),
            "dataset": {"cells": a.cell.dataset.cells, "genes": a.cell.dataset.genes, "seed_A": SEEDS[0], "seed_B": SEEDS[1]},
        });
        ctx.recorder.append(&record)?;
        step(NAME, &w.name, &what, &summary(&run, &m, problems));
    }
    Ok(())
}

/// `exit 1 "error: …"; out = A (40 of A's files, 0 of B's); validate: 0 problems`.
fn summary(run: &ChildRun, m: &FolderMatch, problems: Option<usize>) -> String {
    let message = run.first_line();
    let said = if message.is_empty() { String::new() } else { format!(" {message:?}") };
    let checked = problems.map_or(String::new(), |p| format!("; validate: {p} problem(s)"));
    format!("{}{said}; out = {} ({} of A's files, {} of B's){checked}", status(run), m.equals.as_str(), m.from_a, m.from_b)
}

/// The viewer's checks on `out`: the number of problems and the first, for a writer
/// whose output is a `compact_v1` folder that exists; `(None, None)` otherwise.
fn validate(w: &Writer, out: &Path) -> (Option<usize>, Option<String>) {
    if w.output != Output::CompactV1 || !out.is_dir() {
        return (None, None);
    }
    let report = cellucid_core::validate(out);
    (Some(report.problems.len()), report.problems.first().map(|p| format!("{}: {}: {}", p.file, p.field, p.message)))
}

/// What else is in `out`'s parent (a writer's lock files, stages or backups), by name.
fn beside(out: &Path) -> Vec<String> {
    let (Some(parent), Some(own)) = (out.parent(), out.file_name()) else { return Vec::new() };
    let mut names: Vec<String> = std::fs::read_dir(parent)
        .map(|entries| entries.flatten().map(|e| e.file_name()).filter(|n| n != own).map(|n| n.to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}
