//! Combining the result files of a plan's shards (e.g. a Slurm job array) into one.

use super::error::{io, StoreError};
use super::read::read_contents;
use super::record::{Header, Sample};
use super::writer::sync_parent;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// What [`merge`] did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MergeReport {
    pub inputs: usize,
    pub samples_read: usize,
    pub samples_written: usize,
    /// Samples dropped because an earlier input already had their `(cell_id, repeat)`.
    pub duplicates: usize,
    /// Inputs whose partial last line was ignored.
    pub truncated: Vec<PathBuf>,
    /// Distinct machines among the inputs.
    pub machines: usize,
    /// Things worth knowing that do not stop the merge (different commits, ...).
    pub warnings: Vec<String>,
}

/// Merges result files of the same plan into `output` (which must not exist): one
/// header (shard `None`, the earliest start, every machine and every commit listed when
/// they differ, each sample then naming its own by index),
/// then every sample once per `(cell_id, repeat)`: the first successful one, in input
/// order, or the first one when none succeeded. The file appears atomically.
pub fn merge(inputs: &[PathBuf], output: &Path) -> Result<MergeReport, StoreError> {
    if inputs.is_empty() {
        return Err(StoreError::Merge("no input files".into()));
    }
    if output.exists() {
        return Err(StoreError::Exists { path: output.to_path_buf() });
    }
    let mut report = MergeReport { inputs: inputs.len(), ..MergeReport::default() };
    let mut header: Option<Header> = None;
    let mut machines = Vec::new();
    let mut commits: Vec<Option<String>> = Vec::new();
    let mut out: Vec<Sample> = Vec::new();
    let mut index: HashMap<(String, u32), usize> = HashMap::new();
    for path in inputs {
        let c = read_contents(path)?;
        if c.truncated.is_some() {
            report.truncated.push(path.clone());
        }
        if let Some(h) = &header {
            if h.plan != c.header.plan {
                return Err(StoreError::Merge(format!(
                    "{} holds plan `{}` but {} holds plan `{}`",
                    inputs[0].display(),
                    h.plan,
                    path.display(),
                    c.header.plan
                )));
            }
        }
        let machine_index = index_in(&mut machines, &c.header.machine);
        let commit_index = index_in(&mut commits, &c.header.git_commit);
        match &mut header {
            None => header = Some(c.header.clone()),
            Some(h) if c.header.started < h.started => h.started = c.header.started.clone(),
            Some(_) => {}
        }
        for mut s in c.samples {
            report.samples_read += 1;
            s.extra.insert("machine".into(), machine_index.into());
            s.extra.insert("commit".into(), commit_index.into());
            match index.get(&s.key()) {
                None => {
                    index.insert(s.key(), out.len());
                    out.push(s);
                }
                Some(&i) => {
                    report.duplicates += 1;
                    if !out[i].ok && s.ok {
                        out[i] = s;
                    }
                }
            }
        }
    }
    let Some(mut header) = header else { return Err(StoreError::Merge("no input files".into())) };
    header.shard = None;
    report.machines = machines.len();
    if machines.len() > 1 {
        header.machines = machines;
    } else {
        // One machine: the per-sample index says nothing.
        for s in &mut out {
            s.extra.remove("machine");
        }
    }
    if commits.len() > 1 {
        let list: Vec<String> = commits.iter().map(|c| c.clone().unwrap_or_else(|| "unknown".into())).collect();
        report.warnings.push(format!("the shards were built from different commits: {}", list.join(", ")));
        header.git_commits = list;
    } else {
        for s in &mut out {
            s.extra.remove("commit");
        }
    }

    let tmp = output.with_extension(format!("merge-tmp-{}", std::process::id()));
    let write = || -> Result<(), StoreError> {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp).map_err(io(&tmp))?);
        let mut line = serde_json::to_string(&header)?;
        line.push('\n');
        f.write_all(line.as_bytes()).map_err(io(&tmp))?;
        for s in &out {
            let mut line = serde_json::to_string(s)?;
            line.push('\n');
            f.write_all(line.as_bytes()).map_err(io(&tmp))?;
        }
        let f = f.into_inner().map_err(|e| StoreError::Io { path: tmp.clone(), source: e.into_error() })?;
        f.sync_all().map_err(io(&tmp))?;
        std::fs::rename(&tmp, output).map_err(io(output))?;
        sync_parent(output)
    };
    if let Err(e) = write() {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    report.samples_written = out.len();
    Ok(report)
}

/// The index of `item` in `list`, appended first if it is not there yet.
fn index_in<T: PartialEq + Clone>(list: &mut Vec<T>, item: &T) -> usize {
    match list.iter().position(|x| x == item) {
        Some(i) => i,
        None => {
            list.push(item.clone());
            list.len() - 1
        }
    }
}
