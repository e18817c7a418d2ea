//! What a gate compares: two `cellucid-bench` binaries (paths or built revisions), or two
//! writers of the harness's registry (`--baseline-writer`, `--candidate-writer`: e.g.
//! two PyPI releases of one exporter, or ours against the reference).
//!
//! **Exact gates between writers.** Two builds of one exporter must write the same
//! bytes. Two different writers need not, so the output differences are always reported
//! and they fail (unless `--allow-format-change`) only when both writers claim the same
//! output format (`Writer::output`: e.g. both `compact_v1`); writers of different
//! formats (a folder against cellucid 0.9.5's AnnData file) are compared on time only.
//! Independently, a writer's `compact_v1` output must pass the viewer's checks
//! (`cellucid_core::validate`): a candidate whose folder does not validate fails.

use super::build::Resolved;
use crate::plan::Cell;
use crate::sweep::executor;
use crate::writer::{Output, Writer};
use anyhow::Result;
use std::path::Path;
use std::process::Command;

/// One side of a gate.
pub enum Subject {
    /// A `cellucid-bench` executable, run with the sweep's command for our exporter.
    Binary(Resolved),
    /// A writer of the registry, run with its own command template.
    Writer { writer: Writer, version: Option<String> },
}

impl Subject {
    /// How the report names it.
    pub fn origin(&self) -> String {
        match self {
            Subject::Binary(r) => r.origin.clone(),
            Subject::Writer { writer, version } => format!("writer {} (version {})", writer.name, version.as_deref().unwrap_or("unknown")),
        }
    }

    /// What it writes.
    pub fn output(&self) -> Output {
        match self {
            Subject::Binary(_) => Output::CompactV1,
            Subject::Writer { writer, .. } => writer.output,
        }
    }

    /// Why it cannot export `cell`, if it cannot (a writer's `supports`).
    pub fn why_not(&self, cell: &Cell) -> Option<String> {
        match self {
            Subject::Binary(_) => None,
            Subject::Writer { writer, .. } => writer.supports.why_not(cell, &writer.name),
        }
    }

    /// Whether its output is checked with `validate` (a writer's index-era folder).
    pub fn validated(&self) -> bool {
        matches!(self, Subject::Writer { writer, .. } if writer.output == Output::CompactV1)
    }

    /// The command that makes it export `cell` into `out`.
    pub fn command(&self, cell: &Cell, input: &Path, params: &Path, out: &Path) -> Result<Command> {
        let paths = executor::RunPaths { input, params, out: out.to_path_buf(), work_dir: out.parent().unwrap_or(out) };
        match self {
            Subject::Binary(r) => {
                let proto = executor::command(&crate::writer::builtin::ours(), cell, &paths)?;
                let mut c = Command::new(&r.path);
                c.args(proto.get_args());
                Ok(c)
            }
            Subject::Writer { writer, .. } => executor::command(writer, cell, &paths),
        }
    }
}

/// Whether differences between the two outputs fail the gate (see the module doc).
pub fn outputs_comparable(a: &Subject, b: &Subject) -> bool {
    a.output() == b.output()
}

/// The viewer's checks on `dir`: `None` when it validates, else the first problems.
pub fn invalid(dir: &Path) -> Option<String> {
    let report = cellucid_core::validate::validate(dir);
    if report.is_ok() {
        return None;
    }
    let first: Vec<String> = report.problems.iter().take(3).map(|p| format!("{} {}: {}", p.file, p.field, p.message)).collect();
    Some(format!("output does not validate ({} problems): {}", report.problems.len(), first.join("; ")))
}
