//! Running a writer's setup (once per sweep) and its version probe.

use super::{template, Context, Writer, WriterError};
use std::process::{Command, Stdio};

/// The last `n` lines of `text`, joined with ` | ` (an error message stays one line).
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().map(str::trim_end).filter(|l| !l.is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

fn command(argv: &[String]) -> Command {
    let mut c = Command::new(&argv[0]);
    c.args(&argv[1..]).stdin(Stdio::null());
    c
}

/// Runs the writer's setup command, if it has one, with its output captured. Setup
/// commands are idempotent by contract, so a sweep runs them every time (a second time
/// they should return at once). Returns the seconds it took.
pub fn run_setup(w: &Writer, ctx: &Context) -> Result<Option<f64>, WriterError> {
    let Some(setup) = &w.setup else { return Ok(None) };
    let argv = template::expand_all(setup, ctx, &w.name, "setup")?;
    let shown = argv.join(" ");
    let started = std::time::Instant::now();
    let fail = |status: String, output: String| WriterError::Setup { writer: w.name.clone(), argv: shown.clone(), status, output };
    let out = command(&argv).output().map_err(|e| fail("did not start".into(), e.to_string()))?;
    if !out.status.success() {
        let text = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        let shown_tail = tail(&text, 5);
        return Err(fail(out.status.to_string(), if shown_tail.is_empty() { "no output".into() } else { shown_tail }));
    }
    Ok(Some(started.elapsed().as_secs_f64()))
}

/// The program the writer's command starts (its first argument, placeholders expanded),
/// found as the system would: a path with a `/` must exist, a bare name must be an
/// executable file on `PATH`. An error says why a writer cannot run at all (e.g. the
/// reference's virtualenv was never set up) before any export is attempted.
pub fn find_program(w: &Writer, ctx: &Context) -> Result<std::path::PathBuf, WriterError> {
    let first = w.command.first().map(String::as_str).unwrap_or_default();
    let program = template::expand(first, ctx, &w.name, "command")?;
    let missing = |reason: &str| WriterError::Program { writer: w.name.clone(), program: program.clone(), reason: reason.into() };
    if program.contains('/') {
        let p = std::path::PathBuf::from(&program);
        return if p.is_file() { Ok(p) } else { Err(missing("no such file")) };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).map(|d| d.join(&program)).find(|p| is_executable(p)).ok_or_else(|| missing("not found on PATH"))
}

fn is_executable(p: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The first line of the version probe's stdout; `None` without a probe, or when it
/// fails (a writer without a version still runs; the header then says `null`).
pub fn probe_version(w: &Writer, ctx: &Context) -> Option<String> {
    let argv = template::expand_all(w.version.as_ref()?, ctx, &w.name, "version").ok()?;
    let out = command(&argv).stderr(Stdio::null()).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().next()?.trim();
    (!line.is_empty()).then(|| line.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer(setup: &[&str]) -> Writer {
        let mut w = super::super::builtin::ours();
        w.setup = Some(setup.iter().map(|s| s.to_string()).collect());
        w
    }

    #[test]
    fn a_failing_setup_reports_its_status_and_last_output() {
        let w = writer(&["sh", "-c", "echo preparing; echo 'pip: no matching distribution' >&2; exit 3"]);
        let e = run_setup(&w, &Context::default()).unwrap_err().to_string();
        assert!(e.contains("setup sh -c") && e.contains("exit status: 3"), "{e}");
        assert!(e.contains("preparing | pip: no matching distribution"), "{e}");
    }

    #[test]
    fn a_setup_that_succeeds_is_timed_and_a_missing_program_is_an_error() {
        assert!(run_setup(&writer(&["true"]), &Context::default()).unwrap().is_some());
        let e = run_setup(&writer(&["/nonexistent/setup"]), &Context::default()).unwrap_err().to_string();
        assert!(e.contains("did not start"), "{e}");
    }

    #[test]
    fn the_program_is_found_by_path_or_on_path() {
        let mut w = writer(&["true"]);
        w.command = vec!["sh".into(), "{input}".into()];
        assert!(find_program(&w, &Context::default()).unwrap().ends_with("sh"));
        w.command = vec!["/nonexistent/venv/bin/python".into()];
        let e = find_program(&w, &Context::default()).unwrap_err().to_string();
        assert!(e.contains("/nonexistent/venv/bin/python") && e.contains("no such file"), "{e}");
        w.command = vec!["surely-no-such-program-here".into()];
        assert!(find_program(&w, &Context::default()).unwrap_err().to_string().contains("not found on PATH"));
    }

    #[test]
    fn the_version_is_the_first_stdout_line() {
        let mut w = writer(&["true"]);
        w.version = Some(vec!["sh".into(), "-c".into(), "echo 1.2.3; echo more".into()]);
        assert_eq!(probe_version(&w, &Context::default()).as_deref(), Some("1.2.3"));
        w.version = Some(vec!["false".into()]);
        assert_eq!(probe_version(&w, &Context::default()), None);
    }
}
