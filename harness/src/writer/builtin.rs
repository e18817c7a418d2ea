//! The built-in writers: `cellucid-bench` (this exporter, as a fresh child process) and
//! `cellucid-py-0.9.2` (the reference, PyPI cellucid 0.9.2 through
//! `shared/peer/cellucid_prepare_092.py` in the interpreter of its virtualenv).

use super::{Budget, Output, Supports, Writer};
use std::path::PathBuf;

/// The name of this exporter as a writer (old plans and stores: `ours`).
pub const OURS: &str = "cellucid-bench";
/// The name of the reference writer (old plans and stores: `reference`).
pub const REFERENCE: &str = "cellucid-py-0.9.2";

/// Where the reference writer lives (`--peer-python`, `--peer-script`).
#[derive(Clone, Debug)]
pub struct Peer {
    pub python: PathBuf,
    pub script: PathBuf,
}

impl Peer {
    /// `$CELLUCID_PEER_VENV/bin/python` (else `.venv-peer/bin/python`) and the script
    /// under the shared directory.
    pub fn default_location() -> Peer {
        let venv = std::env::var_os("CELLUCID_PEER_VENV").map_or_else(|| PathBuf::from(".venv-peer"), PathBuf::from);
        Peer { python: venv.join("bin/python"), script: super::template::shared_dir().join("peer/cellucid_prepare_092.py") }
    }
}

/// Our exporter: `cellucid-bench export {input} {out} --params {params} --quiet --json`.
pub fn ours() -> Writer {
    Writer {
        name: OURS.into(),
        command: ["{bench}", "export", "{input}", "{out}", "--params", "{params}", "--quiet", "--json"].map(String::from).to_vec(),
        setup: None,
        version: Some(vec!["{bench}".into(), "--version".into()]),
        output: Output::CompactV1,
        phases: true,
        supports: Supports::everything(),
        budget: Budget::default(),
        source: "built-in".into(),
        export_flags: true,
    }
}

/// The reference writer at `peer`. Its setup is left to the user
/// (`bash shared/peer/setup.sh VENV`): it installs from PyPI, which a sweep should not
/// do behind one's back. Braces in the paths are escaped so that they are not read as
/// placeholders.
pub fn reference(peer: &Peer) -> Writer {
    let lit = |p: &PathBuf| p.display().to_string().replace('{', "{{").replace('}', "}}");
    let python = lit(&peer.python);
    Writer {
        name: REFERENCE.into(),
        command: vec![python.clone(), lit(&peer.script), "export".into(), "{input}".into(), "{out}".into(), "--params".into(), "{params}".into()],
        setup: None,
        version: Some(vec![python, "-c".into(), "import importlib.metadata as m; print(m.version('cellucid'))".into()]),
        output: Output::CompactV1,
        phases: false,
        supports: Supports::default(),
        budget: Budget::default(),
        source: "built-in".into(),
        export_flags: false,
    }
}
