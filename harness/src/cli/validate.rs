//! `cellucid-bench validate DIR`: exit 0 when the viewer would accept the folder,
//! 1 with every problem listed.

use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct ValidateArgs {
    /// The export folder.
    pub dir: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: ValidateArgs) -> Result<ExitCode> {
    if !a.dir.is_dir() {
        anyhow::bail!("{} is not a directory", a.dir.display());
    }
    let report = cellucid_core::validate(&a.dir);
    if a.json {
        let problems: Vec<_> = report
            .problems
            .iter()
            .map(|p| serde_json::json!({"file": p.file, "field": p.field, "message": p.message}))
            .collect();
        println!(
            "{}",
            serde_json::json!({"ok": report.is_ok(), "files_checked": report.files_checked, "problems": problems})
        );
    } else if report.is_ok() {
        println!("ok: {} ({} files checked)", a.dir.display(), report.files_checked);
    } else {
        for p in &report.problems {
            println!("{}: {}: {}", p.file, p.field, p.message);
        }
        println!("{} problem(s) in {}", report.problems.len(), a.dir.display());
    }
    Ok(if report.is_ok() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
