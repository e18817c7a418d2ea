//! `ulimit-nofile:N`: the per-process open-file limit (`ulimit -n N`, RLIMIT_NOFILE) as a
//! target. The files go to a fresh directory on the disk, as for `disk`; what differs is
//! the run: [`Target::wrap`](super::Target::wrap) starts the writer's command through
//! util-linux's `prlimit --nofile=N:N --`, which sets both the soft and the hard limit
//! and execs the command, so the writer (and every process it starts) cannot open more
//! than N files at once and gets EMFILE ("Too many open files") beyond. Nothing else on
//! the machine is limited, and no root is needed.

use super::{finish, private_dir, tools, Footprint, Guard, Target, TargetError, TargetSpec};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The limit a run gets, and the program that applies it.
#[derive(Debug, Clone)]
pub(super) struct Limit {
    prlimit: PathBuf,
    value: u64,
}

impl Limit {
    pub(super) fn value(&self) -> u64 {
        self.value
    }

    /// `prlimit --nofile=N:N -- PROGRAM ARGS…`, with `cmd`'s environment changes and
    /// working directory.
    pub(super) fn wrap(&self, cmd: &Command) -> Command {
        let mut wrapped = Command::new(&self.prlimit);
        wrapped.arg(format!("--nofile={0}:{0}", self.value)).arg("--").arg(cmd.get_program()).args(cmd.get_args());
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => wrapped.env(k, v),
                None => wrapped.env_remove(k),
            };
        }
        if let Some(d) = cmd.get_current_dir() {
            wrapped.current_dir(d);
        }
        wrapped
    }
}

pub(super) fn provision(spec: &TargetSpec, limit: u64, work_dir: &Path) -> Result<Target, TargetError> {
    let name = spec.name();
    let prlimit = tools::require(&name, "prlimit", "util-linux")?;
    let guard = Guard::new();
    let dir = private_dir(&guard, &name, work_dir)?;
    let footprint = Footprint { private_dir: Some(dir.clone()), ..Footprint::default() };
    let mut target = finish(spec, &dir, guard, footprint)?;
    target.nofile = Some(Limit { prlimit, value: limit });
    Ok(target)
}
