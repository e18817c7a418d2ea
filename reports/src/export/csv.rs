//! CSV: one file per table (`csv/<id>.csv`) plus `csv/verdicts.csv` (rule, writer, verdict). Numeric cells are
//! written as numbers; a column with intervals gets `(lo)` and `(hi)` columns beside it.

use super::{write_file, Exporter};
use crate::error::ReportError;
use crate::report::{Report, Table};
use std::path::{Path, PathBuf};

pub struct Csv;

fn field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn num(v: Option<f64>) -> String {
    v.map_or(String::new(), |v| format!("{v}"))
}

pub fn render(t: &Table) -> String {
    let with_ci: Vec<bool> = (0..t.columns.len()).map(|j| t.rows.iter().any(|r| r.get(j).is_some_and(|c| c.lo.is_some()))).collect();
    let mut header = Vec::new();
    for (j, c) in t.columns.iter().enumerate() {
        header.push(field(c));
        if with_ci[j] {
            header.push(field(&format!("{c} (lo)")));
            header.push(field(&format!("{c} (hi)")));
        }
    }
    let mut out = header.join(",") + "\n";
    for row in &t.rows {
        let mut f = Vec::new();
        for (j, c) in row.iter().enumerate() {
            f.push(match c.value {
                Some(v) => format!("{v}"),
                None => field(&c.text),
            });
            if with_ci.get(j).copied().unwrap_or(false) {
                f.push(num(c.lo));
                f.push(num(c.hi));
            }
        }
        out.push_str(&(f.join(",") + "\n"));
    }
    out
}

impl Exporter for Csv {
    fn name(&self) -> &'static str {
        "csv"
    }

    fn write(&self, report: &Report, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
        let mut files = Vec::new();
        for t in &report.tables {
            files.push(write_file(dir, &format!("csv/{}.csv", t.id), render(t).as_bytes())?);
        }
        // Long form (one line per rule and writer): a matrix of free text in CSV cells
        // does not filter or pivot.
        let mut v = String::from("id,rule,writer,verdict,numbers\n");
        for x in &report.verdicts {
            for j in &x.by_writer {
                v.push_str(&format!("{},{},{},{},{}\n", field(&x.id), field(&x.rule), field(&j.writer), field(j.outcome.label()), field(&j.evidence)));
            }
        }
        files.push(write_file(dir, "csv/verdicts.csv", v.as_bytes())?);
        Ok(files)
    }
}
