//! `cellucid-bench compare INPUT.h5ad --setting NAME=PARAMS.json …`: our exporter and
//! the reference writer (cellucid 0.9.2 through `shared/peer/cellucid_prepare_092.py`),
//! each a fresh child process, interleaved, on the same input and parameters. Prints
//! a Markdown table (time, CPU, peak memory, files, bytes, ratio) and checks that the
//! two outputs are equivalent and that ours passes the viewer's checks.

use crate::benchmark::executor::{ChildRun, Executor};
use crate::benchmark::stats::{median, range};
use crate::measure::tree::tree_stats;
use crate::plan::Subject;
use crate::sweep::subject::{export_command, Peer};
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
    /// Python interpreter of the reference's virtualenv (shared/peer/setup.sh).
    #[arg(long, default_value = ".venv-peer/bin/python")]
    pub peer_python: PathBuf,
    /// The reference CLI script.
    #[arg(long, default_value = "../shared/peer/cellucid_prepare_092.py")]
    pub peer_script: PathBuf,
    /// Where the exports go (default: a temporary directory, removed afterwards).
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// Also write the Markdown table to this file.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Only our exporter (no reference runs).
    #[arg(long)]
    pub no_peer: bool,
}

/// How the table names a writer.
fn writer(subject: Subject) -> &'static str {
    match subject {
        Subject::Ours => "cellucid-bench",
        Subject::Reference => "cellucid 0.9.2",
    }
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
    let peer = Peer { python: a.peer_python.clone(), script: a.peer_script.clone() };
    let mut subjects = vec![Subject::Ours];
    if !a.no_peer {
        if !a.peer_python.exists() {
            bail!(
                "reference interpreter {} not found: run `bash ../shared/peer/setup.sh .venv-peer` (or pass --no-peer)",
                a.peer_python.display()
            );
        }
        subjects.push(Subject::Reference);
    }
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
            let run = executor
                .run(&export_command(subjects[j], &a.input, &settings[s].1, &out, Some(&peer), &[])?)
                .with_context(|| format!("cannot run {}", writer(subjects[j])))?;
            done += 1;
            if tty {
                eprint!("\r{done}/{total} runs");
            }
            if !run.success() {
                bail!("{} failed on setting {}: {}", writer(subjects[j]), settings[s].0, run.error_line());
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
    let _ = writeln!(md, "| setting | writer | wall s (median, min–max) | CPU s | peak RSS MB | files | MB on disk | time vs ours |");
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|");
    let mut failures = Vec::new();
    for (s, (name, _)) in settings.iter().enumerate() {
        let ours_dir = work.join(format!("{name}-0"));
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
                writer(*subject),
                median(&cpu),
                median(&rss),
                bytes as f64 / 1e6,
                m / ours_wall
            );
        }
        let report = cellucid_core::validate(&ours_dir);
        if !report.is_ok() {
            failures.push(format!("{name}: our export fails the viewer's checks: {}", report.problems[0].message));
        }
        if subjects.len() > 1 {
            let diffs = cellucid_core::compare::compare_folders(&work.join(format!("{name}-1")), &ours_dir, None);
            if !diffs.is_empty() {
                failures.push(format!("{name}: outputs differ from the reference: {}", diffs[0]));
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
                "Every output passes the viewer's checks and is equivalent to the reference's (same files; gzip members compared decompressed)."
            } else {
                "Every output passes the viewer's checks."
            }
        } else {
            "PROBLEMS below."
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
