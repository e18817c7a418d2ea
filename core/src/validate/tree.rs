//! The folder as a whole: every advertised path is unique (VIEWER.md B.14), and nothing
//! is present that no manifest declares (FORMAT.md §3: "Nothing else is in the folder").
//!
//! Allowed directories are `obs/` (always written, possibly empty), `var/` and
//! `connectivity/` when their manifest exists, `vectors/` when the identity declares
//! vector fields, and every directory holding a declared path.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::cross::Parts;
use super::values::Job;
use super::{problem, Problem, CONNECTIVITY_MANIFEST, IDENTITY, OBS_MANIFEST, VAR_MANIFEST};

const JSON_NAMES: [&str; 4] = [IDENTITY, OBS_MANIFEST, VAR_MANIFEST, CONNECTIVITY_MANIFEST];

pub(crate) fn check(dir: &Path, parts: &Parts, jobs: &[Job], problems: &mut Vec<Problem>) {
    let conn_adverts = parts.conn.map(|c| c.adverts()).unwrap_or_default();
    let all: Vec<&Job> = jobs.iter().chain(&conn_adverts).collect();

    // Uniqueness across all files, including the four JSON names.
    let mut first: HashMap<&str, (&str, &str)> = JSON_NAMES.iter().map(|n| (*n, (*n, "(file name)"))).collect();
    for job in &all {
        match first.get(job.path.as_str()) {
            Some((file, field)) => problems.push(problem(
                job.source,
                &job.source_field,
                format!(
                    "path {:?} is also advertised by {file} {field}; every path must be unique",
                    job.path
                ),
            )),
            None => {
                first.insert(&job.path, (job.source, &job.source_field));
            }
        }
    }

    let declared: HashSet<&str> = first.keys().copied().collect();
    let mut allowed_dirs: HashSet<String> = HashSet::from(["obs".to_string()]);
    if dir.join(VAR_MANIFEST).is_file() {
        allowed_dirs.insert("var".into());
    }
    if dir.join(CONNECTIVITY_MANIFEST).is_file() {
        allowed_dirs.insert("connectivity".into());
    }
    if parts.identity.is_some_and(|i| i.has_vector_fields) {
        allowed_dirs.insert("vectors".into());
    }
    for job in &all {
        let mut path = job.path.as_str();
        while let Some((parent, _)) = path.rsplit_once('/') {
            allowed_dirs.insert(parent.to_string());
            path = parent;
        }
    }
    // A manifest whose payload list could not be derived leaves its directory unjudged.
    let mut unjudged: HashSet<&str> = HashSet::new();
    if parts.obs.is_some_and(|o| !o.complete) {
        unjudged.insert("obs");
    }
    if parts.var.is_some_and(|v| !v.complete) {
        unjudged.insert("var");
    }
    let ctx = Walk {
        declared,
        allowed_dirs,
        unjudged,
    };
    ctx.walk(dir, "", problems);
}

/// What may be in the folder.
struct Walk<'a> {
    declared: HashSet<&'a str>,
    allowed_dirs: HashSet<String>,
    /// Top-level directories whose files cannot be judged.
    unjudged: HashSet<&'a str>,
}

impl Walk<'_> {
    /// Reports every entry under `dir` (relative prefix `rel`) that is neither declared nor an
    /// allowed directory. An undeclared directory is reported once, not entry by entry.
    fn walk(&self, dir: &Path, rel: &str, problems: &mut Vec<Problem>) {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => {
                problems.push(problem(
                    if rel.is_empty() { "." } else { rel },
                    "exists",
                    format!("cannot list the directory: {e}"),
                ));
                return;
            }
        };
        let mut names: Vec<(String, std::fs::FileType)> = Vec::new();
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else { continue };
            match entry.file_name().into_string() {
                Ok(name) => names.push((name, kind)),
                Err(raw) => problems.push(problem(
                    &format!("{rel}{}", raw.to_string_lossy()),
                    "undeclared",
                    "file name is not UTF-8 and no manifest declares it",
                )),
            }
        }
        names.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, kind) in names {
            let path = format!("{rel}{name}");
            if kind.is_dir() {
                if self.allowed_dirs.contains(&path) {
                    self.walk(&dir.join(&name), &format!("{path}/"), problems);
                } else {
                    problems.push(problem(&format!("{path}/"), "undeclared", "directory that no manifest declares"));
                }
            } else if !self.declared.contains(path.as_str()) && !self.unjudged.contains(rel.trim_end_matches('/')) {
                problems.push(problem(&path, "undeclared", "file that no manifest declares"));
            }
        }
    }
}
