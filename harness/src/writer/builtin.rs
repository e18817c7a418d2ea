//! The built-in writers: `cellucid-bench` (this exporter, as a fresh child process),
//! `cellucid-py-0.9.2` (the reference, PyPI cellucid 0.9.2 through
//! `shared/peer/cellucid_prepare_092.py` in the interpreter of its virtualenv), and two
//! more PyPI releases, each in a virtualenv its own setup creates: `cellucid-py-0.0.9`
//! (the guide's era: a key-era folder) and `cellucid-py-0.9.5` (one Cellucid-ready
//! AnnData instead of a folder), driven by `scripts/writers/cellucid_py_*.py`.

use super::{Budget, Output, Supports, Writer};
use std::path::{Path, PathBuf};

/// The name of this exporter as a writer (old plans and stores: `ours`).
pub const OURS: &str = "cellucid-bench";
/// The name of the reference writer (old plans and stores: `reference`).
pub const REFERENCE: &str = "cellucid-py-0.9.2";
/// PyPI cellucid 0.0.9, the writer of the tuning guide's era.
pub const PY_009: &str = "cellucid-py-0.0.9";
/// PyPI cellucid 0.9.5, whose `prepare()` writes one Cellucid-ready AnnData.
pub const PY_095: &str = "cellucid-py-0.9.5";

/// The numeric and IO stack of every PyPI writer's virtualenv: the versions the golden
/// set was generated with (`shared/peer/setup.sh`), so that the writers differ only in
/// cellucid.
const STACK: &[&str] = &["numpy==2.4.6", "pandas==2.3.3", "scipy==1.17.1", "anndata==0.12.19", "h5py==3.16.0"];

const VERSION_PROBE: &str = "import importlib.metadata as m; print(m.version('cellucid'))";

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
/// (`bash shared/peer/setup.sh VENV`): it installs from PyPI into a virtualenv the user
/// chose (`--peer-python`), which a sweep should not change behind one's back. Braces in
/// the paths are escaped so that they are not read as placeholders.
pub fn reference(peer: &Peer) -> Writer {
    let python = lit(&peer.python);
    Writer {
        name: REFERENCE.into(),
        command: vec![python.clone(), lit(&peer.script), "export".into(), "{input}".into(), "{out}".into(), "--params".into(), "{params}".into()],
        setup: None,
        version: Some(vec![python, "-c".into(), VERSION_PROBE.into()]),
        output: Output::CompactV1,
        phases: false,
        supports: Supports::default(),
        budget: Budget::default(),
        source: "built-in".into(),
        export_flags: false,
    }
}

/// A path as a template argument: braces escaped, so that they are not read as
/// placeholders.
fn lit(p: &Path) -> String {
    p.display().to_string().replace('{', "{{").replace('}', "}}")
}

/// Where the PyPI writers' virtualenvs live, one directory per writer:
/// `$CELLUCID_WRITER_VENVS`, else `$XDG_CACHE_HOME/cellucid-bench/writers`, else
/// `~/.cache/cellucid-bench/writers`.
pub fn venv_root() -> PathBuf {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("CELLUCID_WRITER_VENVS")
        .or_else(|| var("XDG_CACHE_HOME").map(|c| c.join("cellucid-bench/writers")))
        .or_else(|| var("HOME").map(|h| h.join(".cache/cellucid-bench/writers")))
        .unwrap_or_else(|| PathBuf::from(".cache/cellucid-bench/writers"))
}

/// PyPI `cellucid==version` in the virtualenv `venv_root()/name`, behind the driver
/// `scripts/writers/driver`. Unlike the reference's, its setup is built in: the
/// virtualenv is the writer's own, in a cache nothing else uses, and holds exactly the
/// pinned release (idempotent: a virtualenv that has every pin is left alone).
fn pypi(name: &str, version: &str, driver: &str, output: Output, supports: Supports) -> Writer {
    let venv = venv_root().join(name);
    let python = lit(&venv.join("bin/python"));
    let mut setup = vec!["bash".to_string(), "{repo}/scripts/writers/setup-venv.sh".into(), lit(&venv), format!("cellucid=={version}")];
    setup.extend(STACK.iter().map(|p| p.to_string()));
    Writer {
        name: name.into(),
        command: vec![python.clone(), format!("{{repo}}/scripts/writers/{driver}"), "{input}".into(), "{out}".into(), "--params".into(), "{params}".into()],
        setup: Some(setup),
        version: Some(vec![python, "-c".into(), VERSION_PROBE.into()]),
        output,
        phases: false,
        supports,
        budget: Budget::default(),
        source: "built-in".into(),
        export_flags: false,
    }
}

/// cellucid 0.0.9: the folder of the guide's era (payloads named by key), with every
/// setting 0.9.2 has (8/16-bit quantization, gzip 1-9, gene panels).
pub fn py_009() -> Writer {
    pypi(PY_009, "0.0.9", "cellucid_py_009.py", Output::CompactV1KeyEra, Supports::default())
}

/// cellucid 0.9.5: one `.h5ad` (`OUT_DIR/data.h5ad`). It has no quantization and no
/// compression parameter (its chunks are compressed its own way), so only float32
/// plain cells are expressible; gene panels are (`gene_identifiers`).
pub fn py_095() -> Writer {
    let supports = Supports {
        var_quantization: Vec::new(),
        obs_continuous_quantization: Vec::new(),
        gzip_levels: Vec::new(),
        zstd: false,
        gene_panel: true,
        durable: false,
        memory_limit: false,
    };
    pypi(PY_095, "0.9.5", "cellucid_py_095.py", Output::Anndata, supports)
}
