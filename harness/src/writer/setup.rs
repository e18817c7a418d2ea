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
    fn the_version_is_the_first_stdout_line() {
        let mut w = writer(&["true"]);
        w.version = Some(vec!["sh".into(), "-c".into(), "echo 1.2.3; echo more".into()]);
        assert_eq!(probe_version(&w, &Context::default()).as_deref(), Some("1.2.3"));
        w.version = Some(vec!["false".into()]);
        assert_eq!(probe_version(&w, &Context::default()), None);
    }
}
