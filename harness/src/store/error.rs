//! `StoreError`: why a result store cannot be created, resumed, read or merged. Every
//! variant names the file.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{} already exists (pass --resume to continue it, or choose another --out)", path.display())]
    Exists { path: PathBuf },
    #[error("{} is being written by another process", path.display())]
    Locked { path: PathBuf },
    #[error("{}: no header line (not a cellucid-bench results file, or empty)", path.display())]
    NoHeader { path: PathBuf },
    #[error("{}: bad header: {reason}", path.display())]
    BadHeader { path: PathBuf, reason: String },
    #[error("{}: line {line} is not a valid sample: {reason}", path.display())]
    BadLine { path: PathBuf, line: usize, reason: String },
    #[error("{} holds results of plan `{found}`, not `{expected}`; it cannot be resumed with this plan", path.display())]
    PlanMismatch { path: PathBuf, found: String, expected: String },
    #[error("{} holds shard {found} of the plan, not shard {expected}", path.display())]
    ShardMismatch { path: PathBuf, found: String, expected: String },
    #[error("cannot merge: {0}")]
    Merge(String),
    #[error("cannot serialise a record: {0}")]
    Serialise(#[from] serde_json::Error),
}

pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io { path: path.to_path_buf(), source }
}
