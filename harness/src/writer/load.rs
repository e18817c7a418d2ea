//! Writers files (`--writers FILE`): `[[writer]]` tables, checked field by field.
//!
//! ```toml
//! [[writer]]
//! name = "cellucid-py-dev"
//! command = ["{env:DEV_VENV}/bin/python", "{shared}/peer/cellucid_prepare_092.py", "export", "{input}", "{out}", "--params", "{params}"]
//! setup = ["bash", "{shared}/peer/setup.sh", "{env:DEV_VENV}"]
//! version = ["{env:DEV_VENV}/bin/python", "-c", "import cellucid; print(cellucid.__version__)"]
//! output = "compact_v1"
//! phases = false
//! [writer.supports]
//! gzip_levels = [1, 6, 9]
//! [writer.budget]
//! run_seconds = 600
//! ```

use super::{template, Writer, WriterError};
use serde::Deserialize;
use std::path::Path;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    writer: Vec<Writer>,
}

/// The writers of a file's text; `place` names the file in errors.
pub fn parse_writers(text: &str, place: &str) -> Result<Vec<Writer>, WriterError> {
    let file: File = toml::from_str(text).map_err(|e| WriterError::Toml { path: place.into(), message: one_line(&e.to_string()) })?;
    if file.writer.is_empty() {
        return Err(WriterError::Toml { path: place.into(), message: "it declares no [[writer]]".into() });
    }
    let mut out = Vec::with_capacity(file.writer.len());
    for (i, mut w) in file.writer.into_iter().enumerate() {
        w.source = place.into();
        check(&w).map_err(|(field, reason)| WriterError::Field {
            place: format!("{place}: [[writer]] #{}", i + 1),
            writer: w.name.clone(),
            field: field.into(),
            reason,
        })?;
        out.push(w);
    }
    Ok(out)
}

/// The writers declared in `path`.
pub fn read_writers(path: &Path) -> Result<Vec<Writer>, WriterError> {
    let text = std::fs::read_to_string(path).map_err(|source| WriterError::Read { path: path.into(), source })?;
    parse_writers(&text, &path.display().to_string())
}

/// toml's messages quote the offending line over several lines; keep them on one.
fn one_line(s: &str) -> String {
    s.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('|') && !l.chars().all(|c| c == '^' || c == ' ')).collect::<Vec<_>>().join(" ")
}

/// The first problem of a writer, as (field, reason).
fn check(w: &Writer) -> Result<(), (&'static str, String)> {
    if w.name.is_empty() || !w.name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
        return Err(("name", "must be non-empty and use only letters, digits, '.', '_' and '-'".into()));
    }
    if w.command.is_empty() || w.command[0].is_empty() {
        return Err(("command", "must be a non-empty argv list, e.g. [\"python\", \"x.py\", \"{input}\", \"{out}\", \"--params\", \"{params}\"]".into()));
    }
    template::check(&w.command, true).map_err(|r| ("command", r))?;
    for needed in ["input", "out", "params"] {
        let used = w.command.iter().any(|a| template::names(a).is_ok_and(|n| n.iter().any(|x| x == needed)));
        if !used {
            return Err(("command", format!("must pass {{{needed}}} (the CLI contract is CMD INPUT.h5ad OUT_DIR --params PARAMS.json)")));
        }
    }
    for (field, argv) in [("setup", &w.setup), ("version", &w.version)] {
        if let Some(argv) = argv {
            if argv.is_empty() || argv[0].is_empty() {
                return Err((field, "must be a non-empty argv list (or left out)".into()));
            }
            template::check(argv, false).map_err(|r| (field, r))?;
        }
    }
    let s = &w.supports;
    for (field, bits) in [("supports.var_quantization", &s.var_quantization), ("supports.obs_continuous_quantization", &s.obs_continuous_quantization)] {
        if let Some(b) = bits.iter().find(|b| **b != 8 && **b != 16) {
            return Err((field, format!("has {b}; quantization widths are 8 and 16")));
        }
    }
    if let Some(l) = s.gzip_levels.iter().find(|l| !(1..=9).contains(*l)) {
        return Err(("supports.gzip_levels", format!("has {l}; gzip levels are 1 to 9")));
    }
    for (field, v) in [("budget.run_seconds", w.budget.run_seconds), ("budget.sweep_seconds", w.budget.sweep_seconds)] {
        if v.is_some_and(|s| !(s.is_finite() && s > 0.0)) {
            return Err((field, "must be a positive number of seconds".into()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[writer]]
name = "py-dev"
command = ["{env:HOME}/venv/bin/python", "{shared}/peer/x.py", "export", "{input}", "{out}", "--params", "{params}"]
setup = ["bash", "{shared}/peer/setup.sh", "{workdir}/venv"]
[writer.supports]
gzip_levels = [6]
zstd = false
[writer.budget]
run_seconds = 60
"#;

    fn err(text: &str) -> String {
        parse_writers(text, "w.toml").unwrap_err().to_string()
    }

    #[test]
    fn a_complete_entry_reads_with_defaults_for_the_rest() {
        let w = &parse_writers(GOOD, "w.toml").unwrap()[0];
        assert_eq!(w.name, "py-dev");
        assert_eq!(w.supports.gzip_levels, [6]);
        assert_eq!(w.supports.var_quantization, [8, 16], "default: prepare()'s widths");
        assert!(!w.phases && w.version.is_none());
        assert_eq!(w.budget.run_seconds, Some(60.0));
        assert_eq!(w.source, "w.toml");
    }

    #[test]
    fn errors_name_the_writer_and_the_field() {
        let e = err(&GOOD.replace("\"{params}\"]", "\"{parms}\"]"));
        assert!(e.contains("writer \"py-dev\": `command` [6] has an unknown placeholder {parms}"), "{e}");
        let e = err(&GOOD.replace(", \"--params\", \"{params}\"", ""));
        assert!(e.contains("`command` must pass {params}"), "{e}");
        let e = err(&GOOD.replace("{workdir}/venv", "{out}"));
        assert!(e.contains("`setup` [2] uses {out}"), "{e}");
        let e = err(&GOOD.replace("gzip_levels = [6]", "gzip_levels = [0]"));
        assert!(e.contains("`supports.gzip_levels` has 0"), "{e}");
        let e = err(&GOOD.replace("run_seconds = 60", "run_seconds = -1"));
        assert!(e.contains("`budget.run_seconds` must be a positive"), "{e}");
        let e = err(&GOOD.replace("name = \"py-dev\"", "name = \"py dev\""));
        assert!(e.contains("`name` must be non-empty"), "{e}");
    }

    #[test]
    fn unknown_keys_and_types_are_refused_on_one_line() {
        let e = err(&GOOD.replace("zstd = false", "zstd = false\nzstandard = true"));
        assert!(e.contains("zstandard") && !e.contains('\n'), "{e}");
        let e = err(&GOOD.replace("run_seconds = 60", "run_seconds = \"1m\""));
        assert!(e.contains("run_seconds") || e.contains("invalid type"), "{e}");
        assert!(err("").contains("declares no [[writer]]"));
    }
}
