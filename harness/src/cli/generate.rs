//! `cellucid-bench generate [--spec spec.toml | flags] -o data.h5ad`: a seeded synthetic
//! dataset, generated straight into the file (CSR X by blocks of rows, see
//! `synthetic::write_h5ad`), with a progress bar on a terminal.

use anyhow::{Context, Result};
use cellucid_datasets::synthetic;
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
    let bar = crate::progress::cells_bar(spec.cells);
    // Written under a temporary name and renamed: an interrupted run leaves no file that
    // looks complete. CSR X is streamed, so an atlas needs memory for its cells only.
    let tmp = a.output.with_file_name(format!(
        ".{}.{}.tmp",
        a.output.file_name().map_or("dataset".into(), |n| n.to_string_lossy()),
        std::process::id()
    ));
    let written = synthetic::write_h5ad(&spec, &tmp, &|done, _| bar.set_position(done as u64));
    bar.finish_and_clear();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot generate {}", a.output.display()));
    }
    let stats = written?;
    std::fs::rename(&tmp, &a.output).with_context(|| format!("cannot rename into {}", a.output.display()))?;
    println!(
        "generated {} cells x {} genes ({} non-zeros, density {:.4}) into {} in {:.2} s",
        spec.cells,
        spec.genes,
        stats.nnz,
        stats.achieved_density,
        a.output.display(),
        t.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
