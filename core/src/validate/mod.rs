//! The viewer's checks on a finished export folder (VIEWER.md B.2–B.17 and its Summary).
//!
//! [`validate()`] reads a folder the way the newest Cellucid viewer adopts a local folder
//! (the strictest of its loaders): the identity and the three manifests with exact key
//! sets, the cross-file agreements of the load sequence, every advertised payload with
//! its exact decoded length and value rules, the local-folder rules of B.14, and finally
//! the writer contract's "nothing else is in the folder". It never stops at the first
//! problem: every problem found is returned, each naming the file (relative to the root)
//! and the JSON key path or payload aspect concerned.
//!
//! Module map:
//! - `json`: exact key sets and typed accessors over `serde_json::Value`.
//! - `paths`: safe relative paths and `{index}` pattern rules.
//! - `payload`: reading one payload (exact raw length, or the single-member gzip envelope).
//! - `values`: content rules for decoded obs, gene, point and vector payloads.
//! - `identity`, `vectors`, `obs`, `var`, `connectivity`: one per JSON file.
//! - `cross`: the load sequence's cross-file checks and B.14's local-folder rules.
//! - `tree`: declared paths, their uniqueness, and files no manifest declares.

mod connectivity;
mod cross;
mod identity;
mod json;
mod obs;
mod paths;
mod payload;
mod tree;
mod values;
mod var;
mod vectors;

use std::path::Path;

use rayon::prelude::*;

/// One problem found in an export folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Path relative to the export root.
    pub file: String,
    /// The JSON key or payload aspect concerned.
    pub field: String,
    pub message: String,
}

/// Every problem found.
#[derive(Clone, Debug, Default)]
pub struct ValidationReport {
    pub problems: Vec<Problem>,
    pub files_checked: usize,
}

impl ValidationReport {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// File names of the four JSON documents.
pub(crate) const IDENTITY: &str = "dataset_identity.json";
pub(crate) const OBS_MANIFEST: &str = "obs_manifest.json";
pub(crate) const VAR_MANIFEST: &str = "var_manifest.json";
pub(crate) const CONNECTIVITY_MANIFEST: &str = "connectivity_manifest.json";

/// Largest JSON document the viewer reads (`MAX_METADATA_JSON_BYTES`).
pub(crate) const MAX_JSON_BYTES: u64 = 64 << 20;
/// Largest binary file or decoded payload (`MAX_PREPARED_BROWSER_BYTES`).
pub(crate) const MAX_PAYLOAD_BYTES: u64 = 512 << 20;

/// Collects problems for one file, so checkers need not repeat its name.
pub(crate) struct Sink<'a> {
    file: &'a str,
    problems: &'a mut Vec<Problem>,
}

impl<'a> Sink<'a> {
    pub(crate) fn new(file: &'a str, problems: &'a mut Vec<Problem>) -> Self {
        Sink { file, problems }
    }

    pub(crate) fn report(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            file: self.file.to_string(),
            field: field.into(),
            message: message.into(),
        });
    }
}

/// Builds a [`Problem`]; used where no [`Sink`] is at hand (parallel payload checks).
pub(crate) fn problem(file: &str, field: impl Into<String>, message: impl Into<String>) -> Problem {
    Problem {
        file: file.to_string(),
        field: field.into(),
        message: message.into(),
    }
}

/// Check `dir` as the viewer would.
pub fn validate(dir: &Path) -> ValidationReport {
    let mut problems = Vec::new();
    let mut files_checked = 0usize;

    // B.13: the identity and the obs manifest are required; var and connectivity
    // manifests are read whenever present, and their absence is judged by `cross`.
    let identity_doc = json::load(dir, IDENTITY, true, &mut problems, &mut files_checked);
    let obs_doc = json::load(dir, OBS_MANIFEST, true, &mut problems, &mut files_checked);
    let var_doc = json::load(dir, VAR_MANIFEST, false, &mut problems, &mut files_checked);
    let conn_doc = json::load(dir, CONNECTIVITY_MANIFEST, false, &mut problems, &mut files_checked);

    let identity = identity_doc.as_ref().map(|doc| identity::check(doc, &mut problems));
    let obs = obs_doc.as_ref().map(|doc| obs::check(&doc.value, &mut problems));
    let var = var_doc.as_ref().map(|doc| var::check(&doc.value, &mut problems));
    let conn = conn_doc.as_ref().map(|doc| connectivity::check_manifest(&doc.value, &mut problems));

    let parts = cross::Parts {
        identity: identity.as_ref(),
        obs: obs.as_ref(),
        var: var.as_ref(),
        conn: conn.as_ref(),
    };
    cross::check(&parts, &mut problems);

    // Every payload the JSON files advertise, with the length and content rules it must meet.
    let mut jobs = Vec::new();
    if let Some(identity) = &identity {
        jobs.extend(identity.payload_jobs());
    }
    if let Some(obs) = &obs {
        jobs.extend(obs.payload_jobs());
    }
    if let Some(var) = &var {
        jobs.extend(var.payload_jobs());
    }

    tree::check(dir, &parts, &jobs, &mut problems);

    // Gene folders can hold tens of thousands of files: read them in parallel.
    let job_results: Vec<(bool, Vec<Problem>)> = jobs.par_iter().map(|job| values::check_job(dir, job)).collect();
    for (read, found) in job_results {
        files_checked += usize::from(read);
        problems.extend(found);
    }
    if let Some(conn) = &conn {
        files_checked += connectivity::check_edges(dir, conn, &mut problems);
    }

    ValidationReport { problems, files_checked }
}
