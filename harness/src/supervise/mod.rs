//! Running the export in a supervised child process, so that a crash, panic or hang
//! while reading a hostile input is one line on stderr, never the CLI's own death.
//!
//! Why: the `.h5ad` reader sits on a C library (HDF5) that can segfault, abort or loop
//! forever on a corrupt file, and no Rust code in the same process can survive that. The
//! parent (`cellucid-bench export`) therefore exec's a fresh copy of itself as
//! `cellucid-bench __export-worker ARGS…`, which does the whole read + export and
//! reports over a pipe (`channel`): "reading", core's progress events, a panic's
//! message. The parent draws the progress bar from those events, forwards
//! SIGINT/SIGTERM/SIGHUP to the child (`signals`), watches for a read that stops making
//! progress (`watch`), and when the child ends badly rolls back a transaction it left
//! open (`rollback`) and prints exactly one line (`verdict`).
//!
//! Module map: `channel` (the pipe's line protocol, both ends), `spawn` (the worker
//! process and its pipes), `watch` (the wait loop and the watchdog), `signals`,
//! `rollback`, `verdict` (how a child's end becomes an exit code and one line).

pub mod channel;
pub mod rollback;
pub mod signals;
pub mod spawn;
pub mod verdict;
pub mod watch;

/// The hidden subcommand the worker runs under.
pub const WORKER_SUBCOMMAND: &str = "__export-worker";

/// Environment variable that makes `export` run in-process (debugging), like `--in-process`.
pub const IN_PROCESS_ENV: &str = "CELLUCID_EXPORT_IN_PROCESS";
