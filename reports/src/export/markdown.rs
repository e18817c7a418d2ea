//! Markdown: `report.md`, every table with its context line, the plots as linked SVGs,
//! and the verdicts.

use super::{write_file, Exporter};
use crate::error::ReportError;
use crate::report::{Report, Table};
use std::path::{Path, PathBuf};

pub struct Markdown;

fn escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// One table as GitHub Markdown (title, guide quote, context, table, notes).
pub fn table(t: &Table) -> String {
    let mut out = format!("### {}\n\n> Guide: {}\n\n*{}*\n\n", t.title, t.guide, t.context.line());
    out.push_str(&format!("| {} |\n", t.columns.iter().map(|c| escape(c)).collect::<Vec<_>>().join(" | ")));
    out.push_str(&format!("|{}\n", "---|".repeat(t.columns.len())));
    for row in &t.rows {
        out.push_str(&format!("| {} |\n", row.iter().map(|c| escape(&c.text)).collect::<Vec<_>>().join(" | ")));
    }
    for n in &t.notes {
        out.push_str(&format!("\n{n}\n"));
    }
    out
}

/// The verdict matrix as a Markdown table: one row per rule, one column per writer,
/// each entry the verdict in bold and the numbers behind it.
pub fn verdicts(r: &Report) -> String {
    let names: Vec<&str> = r.writers.iter().map(|w| w.name.as_str()).collect();
    let mut out = format!("| id | rule of thumb | {} |\n|---|---|{}\n", names.join(" | "), "---|".repeat(names.len()));
    for v in &r.verdicts {
        let entries: Vec<String> = v.by_writer.iter().map(|j| format!("**{}**: {}", j.outcome.label(), escape(&j.evidence))).collect();
        out.push_str(&format!("| `{}` | {} | {} |\n", v.id, escape(&v.rule), entries.join(" | ")));
    }
    out
}

pub fn render(r: &Report) -> String {
    let mut out = format!(
        "# {}\n\nMachine: {}. Built from: {}. Date: {}. Plans: {}. Writers: {}. {} measured runs ({} failed runs and {} cells skipped over budget left out).\n\n## Verdicts on the guide's rules of thumb, per writer\n\n",
        r.title,
        r.machine,
        r.commits,
        r.date,
        r.plans,
        r.writers_line(),
        r.samples,
        r.failed,
        r.skipped
    );
    out.push_str(&verdicts(r));
    out.push_str("\n## Tables\n\n");
    for t in &r.tables {
        out.push_str(&table(t));
        out.push('\n');
    }
    out.push_str("## Plots\n\n");
    for p in &r.plots {
        out.push_str(&format!("![{}](plots/{}.svg)\n\n", p.title, p.id));
    }
    out
}

impl Exporter for Markdown {
    fn name(&self) -> &'static str {
        "markdown"
    }

    fn write(&self, report: &Report, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
        Ok(vec![write_file(dir, "report.md", render(report).as_bytes())?])
    }
}
