//! `WriterError`: why a writer cannot be declared, set up or run. Every problem with a
//! writers file names the file, the writer and the field.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum WriterError {
    #[error("cannot read writers file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("writers file {path} is not a valid writers file: {message}")]
    Toml { path: String, message: String },
    /// A field of one writer is wrong.
    #[error("{place}: writer {writer:?}: `{field}` {reason}")]
    Field { place: String, writer: String, field: String, reason: String },
    #[error("writer {name:?} is declared twice ({first} and {second})")]
    Duplicate { name: String, first: String, second: String },
    #[error("there is no writer {name:?} (known: {known}; declare more with --writers FILE)")]
    Unknown { name: String, known: String },
    /// A placeholder that needs an environment variable which is not set.
    #[error("writer {writer:?}: `{field}` uses {{env:{var}}} but {var} is not set")]
    Env { writer: String, field: String, var: String },
    /// The program a writer's command starts is not there.
    #[error("writer {writer:?}: cannot run {program}: {reason}")]
    Program { writer: String, program: String, reason: String },
    #[error("writer {writer:?}: setup {argv} failed ({status}): {output}")]
    Setup { writer: String, argv: String, status: String, output: String },
}
