//! `cellucid-bench scenario NAME [--writer W]… [--writers FILE]… [--out FILE] [--work-dir DIR]`:
//! one scenario (`crate::scenario`) run with each chosen writer, its findings appended
//! to a scenario store that `cellucid-bench report` reads beside sweep stores.

use crate::scenario::{self, Context, Recorder};
use crate::sweep::provision::writer_ready;
use crate::writer::{self, Writer, WriterInfo, Writers};
use anyhow::{bail, Context as _, Result};
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct ScenarioArgs {
    /// The scenario: stale-export (the list is in harness/src/scenario/mod.rs).
    pub name: String,
    /// Run it with this writer (repeatable; default: every known writer that can run
    /// here, the others left out with the reason).
    #[arg(long = "writer", value_name = "NAME")]
    pub writer_names: Vec<String>,
    /// A writers file declaring more writers (repeatable); see README "Writers".
    #[arg(long = "writers", value_name = "FILE")]
    pub writers: Vec<PathBuf>,
    /// The scenario store (JSONL; default results/scenario-NAME.jsonl; must not exist).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The dataset cache (shared with `sweep`) and the scenario's exports.
    #[arg(long, default_value = "results/work")]
    pub work_dir: PathBuf,
    /// Python of the built-in reference writer's virtualenv (default
    /// $CELLUCID_PEER_VENV/bin/python, else .venv-peer/bin/python).
    #[arg(long)]
    pub peer_python: Option<PathBuf>,
    /// The reference CLI script (default $CELLUCID_SHARED/peer/cellucid_prepare_092.py).
    #[arg(long)]
    pub peer_script: Option<PathBuf>,
}

pub fn run(a: ScenarioArgs) -> Result<ExitCode> {
    let scenario = scenario::find(&a.name)?;
    let (all, _) = super::sweep::load_writers(&a.writers, a.peer_python.as_ref(), a.peer_script.as_ref())?;
    std::fs::create_dir_all(&a.work_dir).with_context(|| format!("cannot create {}", a.work_dir.display()))?;
    let (writers, infos) = ready_writers(&all, &a.writer_names, &a.work_dir)?;
    let out = a.out.clone().unwrap_or_else(|| PathBuf::from(format!("results/scenario-{}.jsonl", scenario.name)));
    let mut recorder = Recorder::create(&out, scenario.name, infos)?;
    let result = (scenario.run)(&mut Context { writers: &writers, work_dir: &a.work_dir, recorder: &mut recorder });
    let names: Vec<&str> = writers.iter().map(|w| w.name.as_str()).collect();
    println!("{} records of scenario {} by {} in {}", recorder.records(), scenario.name, names.join(", "), out.display());
    result.map(|()| ExitCode::SUCCESS)
}

/// The writers to run, set up and version-probed, with their header records. A writer
/// named with `--writer` must be able to run; by default every known writer is tried and
/// one that cannot run here is left out with the reason.
fn ready_writers(all: &Writers, names: &[String], work_dir: &Path) -> Result<(Vec<Writer>, Vec<WriterInfo>)> {
    let explicit = !names.is_empty();
    let mut chosen: Vec<&Writer> = Vec::new();
    if explicit {
        for n in names {
            let w = all.get(n).map_err(|e| anyhow::anyhow!("--writer: {e}"))?;
            if !chosen.iter().any(|c| c.name == w.name) {
                chosen.push(w);
            }
        }
    } else {
        chosen = all.iter().collect();
    }
    let (mut writers, mut infos) = (Vec::new(), Vec::new());
    for w in chosen {
        match ready(w, work_dir) {
            Ok(info) => {
                writers.push(w.clone());
                infos.push(info);
            }
            Err(e) if !explicit => eprintln!("writer {}: left out: {e:#}", w.name),
            Err(e) => return Err(e),
        }
    }
    if writers.is_empty() {
        bail!("no writer can run here (see above)");
    }
    Ok((writers, infos))
}

/// Sets `w` up and checks that its program is there (setup may be what creates it).
fn ready(w: &Writer, work_dir: &Path) -> Result<WriterInfo> {
    let info = writer_ready(w, work_dir)?;
    writer::find_program(w, &writer::Context::global(work_dir)).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(info)
}
