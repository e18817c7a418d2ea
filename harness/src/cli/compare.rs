//! `cellucid-bench compare INPUT.h5ad --setting NAME=PARAMS.json …`: writers side by side
//! (by default our exporter and the reference, cellucid 0.9.2 through
//! `shared/peer/cellucid_prepare_092.py`; any others with `--writer NAME` and
//! `--writers FILE`), each a fresh child process, interleaved, on the same input and
//! parameters. Prints a Markdown table (time, CPU, peak memory, files, bytes, ratio to the
//! first writer) and checks that every `compact_v1` output passes the viewer's checks and
//! is equivalent to the first writer's.

use crate::benchmark::executor::{ChildRun, Executor};
use crate::benchmark::stats::{median, range};
use crate::measure::tree::tree_stats;
use crate::writer::{Context as Placeholders, Output, Writer, OURS, REFERENCE};
use anyhow::{bail, Context, Result};
use clap::Args;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct CompareArgs {
    /// The AnnData file both writers export.
    pub input: PathBuf,
    /// A named parameter set, NAME=PARAMS.json (repeatable). PARAMS.json must hold the
    /// `inputs` mapping, since the two writers' default mappings differ.
    #[arg(long = "setting", value_name = "NAME=PARAMS.json", required = true)]
    pub settings: Vec<String>,
    /// Timed runs of each writer per setting (after one warm-up run each).
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    /// Python interpreter of the reference's virtualenv (shared/peer/setup.sh; default
    /// $CELLUCID_PEER_VENV/bin/python, else .venv-peer/bin/python).
    #[arg(long)]
    pub peer_python: Option<PathBuf>,
    /// The reference CLI script.
    #[arg(long)]
    pub peer_script: Option<PathBuf>,
    /// The writers to compare, the first the baseline (repeatable; default cellucid-bench
    /// and cellucid-py-0.9.2).
    #[arg(long = "writer", value_name = "NAME")]
    pub writer_names: Vec<String>,
    /// A writers file declaring more writers (repeatable).
    #[arg(long = "writers", value_name = "FILE")]
    pub writers: Vec<PathBuf>,
    /// Where the exports go (default: a temporary directory, removed afterwards).
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// Also write the Markdown table to this file.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Only our exporter (no reference runs; without --writer).
    #[arg(long)]
    pub no_peer: bool,
}

/// The writers to compare, in order.
fn chosen(a: &CompareArgs) -> Result<Vec<Writer>> {
    let (all, peer) = super::sweep::load_writers(&a.writers, a.peer_python.as_ref(), a.peer_script.as_ref())?;
    let names: Vec<String> = match (a.writer_names.is_empty(), a.no_peer) {
        (false, _) => a.writer_names.clone(),
        (true, true) => vec![OURS.into()],
        (true, false) => vec![OURS.into(), REFERENCE.into()],
    };
    let writers: Vec<Writer> = names.iter().map(|n| all.get(n).cloned().map_err(|e| anyhow::anyhow!("--writer: {e}"))).collect::<Result<_>>()?;
    if writers.iter().any(|w| w.name == REFERENCE) && !peer.python.exists() {
        bail!("reference interpreter {} not found: run `bash ../shared/peer/setup.sh .venv-peer` (or pass --no-peer)", peer.python.display());
    }
    Ok(writers)
}

fn folder_size(dir: &Path) -> (u64, u64) {
    tree_stats(dir, false).map_or((0, 0), |t| (t.files, t.bytes_apparent))
}

pub fn run(a: CompareArgs) -> Result<ExitCode> {
    let settings: Vec<(String, PathBuf)> = a
        .settings
        .iter()
        .map(|s| match s.split_once('=') {
            Some((n, p)) => Ok((n.to_string(), PathBuf::from(p))),
            None => bail!("--setting {s:?}: expected NAME=PARAMS.json"),
        })
        .collect::<Result<_>>()?;
    let subjects = chosen(&a)?;
    let tmp;
    let work = match &a.work_dir {
        Some(w) => w.clone(),
        None => {
            tmp = tempfile::tempdir().context("cannot create a work directory")?;
            tmp.path().to_path_buf()
        }
    };
    std::fs::create_dir_all(&work)?;
    // samples[setting][subject]
    let mut samples: Vec<Vec<Vec<ChildRun>>> = settings.iter().map(|_| subjects.iter().map(|_| Vec::new()).collect()).collect();
    let total = settings.len() * subjects.len() * (a.repeats + 1);
    let executor = Executor::current().context("cannot locate this executable")?;
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut done = 0;
    for round in 0..=a.repeats {
        // Interleave: every (setting, subject) once per round, the order reversed on odd
        // rounds so that drift does not favour whoever runs first.
        let mut order: Vec<(usize, usize)> =
            (0..settings.len()).flat_map(|s| (0..subjects.len()).map(move |j| (s, j))).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for (s, j) in order {
            let out = work.join(format!("{}-{}", settings[s].0, j));
            if out.exists() {
                std::fs::remove_dir_all(&out)?;
            }
            let ctx = Placeholders::run(&work, &a.input, &out, &settings[s].1);
            let cmd = subjects[j].command(&ctx).map_err(|e| anyhow::anyhow!("{e}"))?;
            let run = executor.run(&cmd).with_context(|| format!("cannot run {}", subjects[j].name))?;
            done += 1;
            if tty {
                eprint!("\r{done}/{total} runs");
            }
            if !run.success() {
                bail!("{} failed on setting {}: {}", subjects[j].name, settings[s].0, run.error_line());
            }
            if round > 0 {
                samples[s][j].push(run);
            }
        }
    }
    if tty {
        eprintln!();
    }
    let mut md = String::new();
    let _ = writeln!(md, "| setting | writer | wall s (median, min–max) | CPU s | peak RSS MB | files | MB on disk | time vs {} |", subjects[0].name);
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|");
    let mut failures = Vec::new();
    for (s, (name, _)) in settings.iter().enumerate() {
        let first_dir = work.join(format!("{name}-0"));
        let ours_wall = median(&samples[s][0].iter().map(|x| x.wall.as_secs_f64()).collect::<Vec<_>>());
        for (j, subject) in subjects.iter().enumerate() {
            let walls: Vec<f64> = samples[s][j].iter().map(|x| x.wall.as_secs_f64()).collect();
            let cpu: Vec<f64> = samples[s][j].iter().map(|x| (x.user + x.sys).as_secs_f64()).collect();
            let rss: Vec<f64> = samples[s][j].iter().map(|x| x.max_rss as f64 / 1e6).collect();
            let (lo, hi) = range(&walls);
            let (files, bytes) = folder_size(&work.join(format!("{name}-{j}")));
            let m = median(&walls);
            let _ = writeln!(
                md,
                "| {name} | {} | {m:.3} ({lo:.3}–{hi:.3}) | {:.3} | {:.0} | {files} | {:.2} | {:.2}× |",
                subject.name,
                median(&cpu),
                median(&rss),
                bytes as f64 / 1e6,
                m / ours_wall
            );
        }
        for (j, w) in subjects.iter().enumerate().filter(|(_, w)| w.output == Output::CompactV1) {
            let dir = work.join(format!("{name}-{j}"));
            let report = cellucid_core::validate(&dir);
            if !report.is_ok() {
                failures.push(format!("{name}: the export of {} fails the viewer's checks: {}", w.name, report.problems[0].message));
            }
            if j > 0 && subjects[0].output == Output::CompactV1 {
                let diffs = cellucid_core::compare::compare_folders(&dir, &first_dir, None);
                if !diffs.is_empty() {
                    failures.push(format!("{name}: the output of {} differs from {}'s: {}", w.name, subjects[0].name, diffs[0]));
                }
            }
        }
    }
    let _ = writeln!(md);
    let _ = writeln!(
        md,
        "{} timed runs per writer and setting (after one warm-up), interleaved; CPU and peak RSS are the child's own (wait4). {}",
        a.repeats,
        if failures.is_empty() {
            if subjects.len() > 1 {
                format!("Every output passes the viewer's checks and is equivalent to {}'s (same files; gzip members compared decompressed).", subjects[0].name)
            } else {
                "Every output passes the viewer's checks.".to_string()
            }
        } else {
            "PROBLEMS below.".to_string()
        }
    );
    for f in &failures {
        let _ = writeln!(md, "- {f}");
    }
    print!("{md}");
    if let Some(p) = &a.report {
        std::fs::write(p, &md).with_context(|| format!("cannot write {}", p.display()))?;
    }
    Ok(if failures.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
