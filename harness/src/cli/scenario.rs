//! `cellucid-bench scenario NAME`: run one scenario for each selected writer and append
//! its findings to a result store.

use crate::scenario::{self, Context, Recorder};
use crate::writer::{self, Writer};
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct ScenarioArgs {
    /// The scenario: too-many-files.
    pub name: String,
    /// A writer to run (repeatable; default: every built-in writer whose setup succeeds).
    #[arg(long = "writer", value_name = "NAME")]
    pub writer: Vec<String>,
    /// A writers file declaring more writers (repeatable); see README "Writers".
    #[arg(long = "writers", value_name = "FILE")]
    pub writers: Vec<PathBuf>,
    /// The result store (default results/scenario-NAME.jsonl; must not exist).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Scratch space: datasets, images and mount points.
    #[arg(long, default_value = "results/work")]
    pub work_dir: PathBuf,
}

pub fn run(a: ScenarioArgs) -> Result<ExitCode> {
    anyhow::ensure!(scenario::NAMES.contains(&a.name.as_str()), "unknown scenario {:?} (known: {})", a.name, scenario::NAMES.join(", "));
    let (all, _) = super::sweep::load_writers(&a.writers, None, None)?;
    let explicit = !a.writer.is_empty();
    let names: Vec<String> = if explicit { a.writer.clone() } else { [writer::OURS, writer::REFERENCE].map(String::from).to_vec() };
    std::fs::create_dir_all(&a.work_dir)?;
    let ctx = writer::Context::global(&a.work_dir);
    let mut selected: Vec<Writer> = Vec::new();
    for n in &names {
        let w = all.get(n).map_err(|e| anyhow::anyhow!("{e}"))?;
        let ready = writer::run_setup(w, &ctx).map_err(|e| anyhow::anyhow!("{e}")).and_then(|_| usable(w));
        match ready {
            Ok(()) => selected.push(w.clone()),
            Err(e) if !explicit => eprintln!("writer {}: cannot run, left out: {e:#}", w.name),
            Err(e) => return Err(e),
        }
    }
    let out = a.out.unwrap_or_else(|| PathBuf::from("results").join(format!("scenario-{}.jsonl", a.name)));
    let mut recorder = Recorder::create(&out, &a.name)?;
    let mut sctx = Context { writers: &selected, work_dir: &a.work_dir, recorder: &mut recorder };
    scenario::run(&a.name, &mut sctx)?;
    eprintln!("scenario {}: records in {}", a.name, out.display());
    Ok(ExitCode::SUCCESS)
}

/// A writer whose version probe fails cannot run here (the reference without its venv).
fn usable(w: &Writer) -> Result<()> {
    if w.version.is_some() && writer::probe_version(w, &writer::Context::default()).is_none() {
        anyhow::bail!("its version probe failed");
    }
    Ok(())
}
