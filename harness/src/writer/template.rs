//! Placeholders in a writer's argv templates.
//!
//! `{input}`, `{out}`, `{params}`: the run's `.h5ad`, output folder and params file (only
//! in `command`); `{shared}`: the shared reference directory (`$CELLUCID_SHARED`, else
//! `../shared` beside the checkout); `{repo}`: this cellucid-bench checkout
//! (`$CELLUCID_BENCH_REPO`, else the one the binary was built from); `{workdir}`: the
//! sweep's work directory; `{bench}`: this cellucid-bench executable; `{env:NAME}`: the
//! environment variable NAME (an error when unset). `{{` and `}}` are literal braces.

use super::WriterError;
use std::path::{Path, PathBuf};

/// The placeholder names, for documentation and error messages.
pub const PLACEHOLDERS: &[&str] = &["input", "out", "params", "shared", "repo", "workdir", "bench", "env:NAME"];

/// Placeholders only a run has.
const RUN_ONLY: &[&str] = &["input", "out", "params"];

/// What placeholders expand to.
#[derive(Clone, Debug, Default)]
pub struct Context {
    pub input: Option<PathBuf>,
    pub out: Option<PathBuf>,
    pub params: Option<PathBuf>,
    pub workdir: PathBuf,
}

impl Context {
    /// A context for setup and version probes (no run paths).
    pub fn global(workdir: &Path) -> Context {
        Context { workdir: workdir.to_path_buf(), ..Context::default() }
    }

    /// A context for one run.
    pub fn run(workdir: &Path, input: &Path, out: &Path, params: &Path) -> Context {
        Context { input: Some(input.into()), out: Some(out.into()), params: Some(params.into()), workdir: workdir.into() }
    }
}

/// This checkout: `$CELLUCID_BENCH_REPO`, else the workspace the binary was built from.
pub fn repo_dir() -> PathBuf {
    std::env::var_os("CELLUCID_BENCH_REPO").map(PathBuf::from).unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR")).parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    })
}

/// The shared reference directory: `$CELLUCID_SHARED`, else `../shared` beside the checkout.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("CELLUCID_SHARED").map(PathBuf::from).unwrap_or_else(|| repo_dir().join("../shared"))
}

/// The placeholder names used in `arg`, in order (`{{`/`}}` skipped); `Err` with the
/// reason when a brace is unbalanced.
pub(super) fn names(arg: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut rest = arg;
    while let Some(i) = rest.find(['{', '}']) {
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            rest = &tail[2..];
            continue;
        }
        if tail.starts_with('}') {
            return Err(format!("has an unmatched `}}` in {arg:?} (write `}}}}` for a literal brace)"));
        }
        let end = tail.find('}').ok_or_else(|| format!("has an unclosed `{{` in {arg:?}"))?;
        out.push(tail[1..end].to_string());
        rest = &tail[end + 1..];
    }
    Ok(out)
}

/// Checks every placeholder of a template field; `run` says whether run placeholders
/// are allowed there.
pub(super) fn check(args: &[String], run: bool) -> Result<(), String> {
    for (i, arg) in args.iter().enumerate() {
        for name in names(arg).map_err(|r| format!("[{i}] {r}"))? {
            let known = PLACEHOLDERS.contains(&name.as_str()) || name.strip_prefix("env:").is_some_and(|v| !v.is_empty());
            if !known {
                return Err(format!("[{i}] has an unknown placeholder {{{name}}} (known: {})", braces(PLACEHOLDERS)));
            }
            if !run && RUN_ONLY.contains(&name.as_str()) {
                return Err(format!("[{i}] uses {{{name}}}, which only exists for a run (in `command`)"));
            }
        }
    }
    Ok(())
}

fn braces(names: &[&str]) -> String {
    names.iter().map(|n| format!("{{{n}}}")).collect::<Vec<_>>().join(", ")
}

fn value(name: &str, ctx: &Context, writer: &str, field: &str) -> Result<String, WriterError> {
    let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
    Ok(match name {
        "input" => path(&ctx.input),
        "out" => path(&ctx.out),
        "params" => path(&ctx.params),
        "workdir" => ctx.workdir.display().to_string(),
        "shared" => shared_dir().display().to_string(),
        "repo" => repo_dir().display().to_string(),
        "bench" => std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_else(|_| "cellucid-bench".into()),
        other => {
            let var = other.strip_prefix("env:").unwrap_or(other);
            std::env::var(var).map_err(|_| WriterError::Env { writer: writer.into(), field: field.into(), var: var.into() })?
        }
    })
}

/// One argument with its placeholders replaced.
pub fn expand(arg: &str, ctx: &Context, writer: &str, field: &str) -> Result<String, WriterError> {
    let mut out = String::with_capacity(arg.len());
    let mut rest = arg;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        // Templates were checked when loaded; an unbalanced brace is kept as it is.
        let Some(end) = tail.find('}').filter(|_| tail.starts_with('{')) else {
            out.push_str(&tail[..1]);
            rest = &tail[1..];
            continue;
        };
        out.push_str(&value(&tail[1..end], ctx, writer, field)?);
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Every argument expanded.
pub fn expand_all(args: &[String], ctx: &Context, writer: &str, field: &str) -> Result<Vec<String>, WriterError> {
    args.iter().map(|a| expand(a, ctx, writer, field)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_run_paths_env_and_literal_braces() {
        std::env::set_var("CELLUCID_TEMPLATE_TEST", "/opt/venv");
        let ctx = Context::run(Path::new("/w"), Path::new("/d/in.h5ad"), Path::new("/t/out"), Path::new("/w/p.json"));
        let got = expand("{env:CELLUCID_TEMPLATE_TEST}/bin/python {input} {out} --params={params} {{x}} {workdir}", &ctx, "w", "command").unwrap();
        assert_eq!(got, "/opt/venv/bin/python /d/in.h5ad /t/out --params=/w/p.json {x} /w");
    }

    #[test]
    fn checks_name_the_argument_and_the_placeholder() {
        let e = check(&["x".into(), "{inptu}".into()], true).unwrap_err();
        assert!(e.starts_with("[1] has an unknown placeholder {inptu}"), "{e}");
        let e = check(&["{out}".into()], false).unwrap_err();
        assert!(e.contains("only exists for a run"), "{e}");
        assert!(check(&["a{b".into()], true).unwrap_err().contains("unclosed"));
        assert!(check(&["{env:}".into()], true).is_err());
        assert!(check(&["{{literal}}".into(), "{env:HOME}".into()], false).is_ok());
    }

    #[test]
    fn an_unset_variable_is_an_error_naming_it() {
        let e = expand("{env:CELLUCID_SURELY_UNSET_VAR}", &Context::default(), "w", "command").unwrap_err();
        assert!(e.to_string().contains("CELLUCID_SURELY_UNSET_VAR is not set"), "{e}");
    }
}
