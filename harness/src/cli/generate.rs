//! `cellucid-bench generate [--spec spec.toml | flags] -o data.h5ad`.

use anyhow::{Context, Result};
use cellucid_datasets::{h5ad, synthetic};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct GenerateArgs {
    /// A DatasetSpec as TOML; flags override its fields.
    #[arg(long)]
    pub spec: Option<PathBuf>,
    #[arg(long)]
    pub cells: Option<usize>,
    #[arg(long)]
    pub genes: Option<usize>,
    /// Fraction of non-zero values in X.
    #[arg(long)]
    pub density: Option<f64>,
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output .h5ad file.
    #[arg(short, long)]
    pub output: PathBuf,
}

pub fn run(a: GenerateArgs) -> Result<ExitCode> {
    let mut spec = match &a.spec {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
            synthetic::DatasetSpec::from_toml_str(&text).with_context(|| format!("invalid spec {}", p.display()))?
        }
        None => synthetic::DatasetSpec::default(),
    };
    if let Some(v) = a.cells {
        spec.cells = v;
    }
    if let Some(v) = a.genes {
        spec.genes = v;
    }
    if let Some(v) = a.density {
        spec.density = v;
    }
    if let Some(v) = a.seed {
        spec.seed = v;
    }
    spec.validate().context("invalid dataset spec")?;
    let t = std::time::Instant::now();
    let ds = synthetic::generate(&spec).context("cannot generate the dataset")?;
    let gen = t.elapsed();
    let t = std::time::Instant::now();
    h5ad::write(&ds, &a.output).with_context(|| format!("cannot write {}", a.output.display()))?;
    println!(
        "generated {} cells x {} genes in {:.2} s, wrote {} in {:.2} s",
        spec.cells,
        spec.genes,
        gen.as_secs_f64(),
        a.output.display(),
        t.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
