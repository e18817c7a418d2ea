//! The built-in PyPI writers `cellucid-py-0.0.9` and `cellucid-py-0.9.5` as users get
//! them: each writer's own setup makes its virtualenv from PyPI and its version probe
//! answers; its driver exports the golden inputs with the kind of output it writes
//! (0.0.9: a key-era folder, one file per exported gene named by key; 0.9.5: one `.h5ad`
//! that anndata opens, with `uns['cellucid']`) and refuses, in one line, a setting its
//! release cannot express; such cells are dropped at sizing with the reason; and a tiny
//! sweep with both stores ok samples (the AnnData output measured but not hashed).

mod support;

use cellucid_bench::store;
use cellucid_bench::writer::{self, builtin, Context, Peer, Writer, Writers, PY_009, PY_095};
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use support::{bin, shared, stderr};

/// The built-in writer `name`, set up. Setups are idempotent and serialized by a lock
/// on the virtualenv, so tests running in parallel may all call this.
fn ready(name: &str) -> Writer {
    let w = Writers::builtin(&Peer::default_location()).get(name).expect("a built-in writer").clone();
    writer::run_setup(&w, &Context::global(&std::env::temp_dir())).unwrap_or_else(|e| panic!("{e}"));
    w
}

fn python(w: &Writer) -> PathBuf {
    builtin::venv_root().join(&w.name).join("bin/python")
}

/// Runs `w` on `input` with `params` into `out`.
fn export(w: &Writer, input: &Path, params: &Path, out: &Path) -> Output {
    let ctx = Context::run(out.parent().expect("parent"), input, out, params);
    w.command(&ctx).expect("command").output().expect("run the driver")
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).expect("json")
}

/// The golden cases: (directory, params, cells, genes 0.9.2 exported).
fn golden() -> Vec<(PathBuf, Value, u64, Option<usize>)> {
    let mut cases: Vec<PathBuf> = fs::read_dir(shared().join("golden"))
        .expect("golden")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("case")))
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 12);
    cases
        .into_iter()
        .map(|dir| {
            let params = json(&dir.join("params.json"));
            let cells = json(&dir.join("expected/dataset_identity.json"))["stats"]["n_cells"].as_u64().expect("n_cells");
            let var = dir.join("expected/var_manifest.json");
            let genes = var.exists().then(|| json(&var)["fields"].as_array().expect("fields").len());
            (dir, params, cells, genes)
        })
        .collect()
}

/// 0.0.9's file name for a key (`_safe_filename_component`).
fn safe(key: &str) -> String {
    let mut out = String::new();
    let mut run = false;
    for c in key.chars() {
        if c.is_ascii_alphanumeric() || "._-".contains(c) {
            out.push(c);
            run = false;
        } else if !run {
            out.push('_');
            run = true;
        }
    }
    let trimmed = out.trim_matches(|c| c == '.' || c == '_');
    if trimmed.is_empty() { "field".into() } else { trimmed.into() }
}

#[test]
fn setup_is_idempotent_and_the_version_probe_answers() {
    for (name, version, output) in [(PY_009, "0.0.9", "compact_v1_key_era"), (PY_095, "0.9.5", "anndata")] {
        let w = ready(name);
        let ctx = Context::global(&std::env::temp_dir());
        assert!(writer::run_setup(&w, &ctx).expect("a second setup succeeds").is_some());
        assert_eq!(writer::probe_version(&w, &ctx).as_deref(), Some(version), "{name}");
        assert_eq!((w.output.as_str(), w.phases, w.export_flags), (output, false, false), "{name}");
        assert!(python(&w).exists(), "{name}: no interpreter at {}", python(&w).display());
    }
}

/// Golden cases 0.0.9 itself refuses, with the message's gist: 0.9.2's uint8 codes
/// hold 255 categories (codes 0-254, 255 the missing marker), 0.0.9's only 254.
const REFUSED_BY_009: &[(&str, &str)] = &[("case05_cats255_uint8_bool_int", "but uint8 can only hold 254")];

#[test]
fn cellucid_009_writes_a_key_era_folder_with_one_file_per_gene_named_by_key() {
    let w = ready(PY_009);
    let tmp = tempfile::tempdir().expect("tmp");
    for (dir, _, cells, genes) in golden() {
        let case = dir.file_name().expect("name").to_string_lossy().into_owned();
        let out = tmp.path().join(&case);
        let o = export(&w, &dir.join("input.h5ad"), &dir.join("params.json"), &out);
        if let Some((_, gist)) = REFUSED_BY_009.iter().find(|(c, _)| *c == case) {
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(1), "{case}: {err}");
            assert!(err.starts_with("error: ") && err.contains(gist) && err.trim_end().lines().count() == 1, "{case}: {err}");
            continue;
        }
        assert!(o.status.success(), "{case}: {}", stderr(&o));
        assert!(o.stdout.is_empty() && o.stderr.is_empty(), "{case}: nothing printed: {}", stderr(&o));
        let identity = json(&out.join("dataset_identity.json"));
        assert_eq!(identity["stats"]["n_cells"].as_u64(), Some(cells), "{case}");
        let Some(genes) = genes else {
            assert!(!out.join("var_manifest.json").exists(), "{case}: no genes, no var manifest");
            continue;
        };
        let manifest = json(&out.join("var_manifest.json"));
        let pattern = manifest["_varSchema"]["pathPattern"].as_str().expect("pathPattern");
        assert!(pattern.starts_with("var/{key}.values."), "{case}: key era: {pattern}");
        let fields = manifest["fields"].as_array().expect("fields");
        assert_eq!(fields.len(), genes, "{case}: the genes 0.9.2 exported");
        for f in fields {
            let key = f[0].as_str().expect("key-era tuples start with the key");
            let file = out.join(pattern.replace("{key}", &safe(key)));
            assert!(file.is_file(), "{case}: gene {key:?} has no file {}", file.display());
        }
        assert_eq!(fs::read_dir(out.join("var")).expect("var").count(), genes, "{case}: one file per exported gene");
    }
}

/// Golden cases 0.9.5 itself refuses (with their quantization and compression left
/// out), with the message's gist: its store makes obs column names paths.
const REFUSED_BY_095: &[(&str, &str)] =
    &[("case07_constant_unicode_gz9_noq", "obs column 'CD4/CD8 ratio' contains a character that cannot appear in a file name")];

#[test]
fn cellucid_095_writes_one_anndata_file_and_refuses_what_it_cannot_express() {
    let w = ready(PY_095);
    let tmp = tempfile::tempdir().expect("tmp");
    let unexpressible = ["var_quantization", "obs_continuous_quantization", "compression"];
    let mut refused = 0;
    for (dir, mut params, cells, genes) in golden() {
        let case = dir.file_name().expect("name").to_string_lossy().into_owned();
        let input = dir.join("input.h5ad");
        let out = tmp.path().join(&case);
        // A setting 0.9.5 has no parameter for: one line naming it, nothing left behind.
        if let Some(key) = unexpressible.iter().find(|k| !params[**k].is_null()) {
            let o = export(&w, &input, &dir.join("params.json"), &out);
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(1), "{case}: {err}");
            assert!(err.starts_with(&format!("error: Unsupported: {key}=")) && err.trim_end().lines().count() == 1, "{case}: {err}");
            assert!(!out.exists(), "{case}: OUT_DIR left after a refusal");
            refused += 1;
            for k in unexpressible {
                params[k] = Value::Null;
            }
        }
        let p = tmp.path().join(format!("{case}.params.json"));
        fs::write(&p, params.to_string()).expect("params");
        let o = export(&w, &input, &p, &out);
        if let Some((_, gist)) = REFUSED_BY_095.iter().find(|(c, _)| *c == case) {
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(1), "{case}: {err}");
            assert!(err.starts_with("error: ValueError: ") && err.contains(gist) && err.trim_end().lines().count() == 1, "{case}: {err}");
            assert!(!out.exists(), "{case}: OUT_DIR left after a refusal");
            continue;
        }
        assert!(o.status.success(), "{case}: {}", stderr(&o));
        let files: Vec<String> = fs::read_dir(&out).expect("out").map(|e| e.expect("entry").file_name().to_string_lossy().into_owned()).collect();
        assert_eq!(files, ["data.h5ad"], "{case}: one file");
        // anndata (in the writer's own virtualenv) opens it and finds the dataset's record.
        let check = "import sys, anndata; a = anndata.read_h5ad(sys.argv[1]); print(a.n_obs, a.n_vars, a.uns['cellucid']['id'])";
        let o = std::process::Command::new(python(&w)).args(["-c", check]).arg(out.join("data.h5ad")).output().expect("python");
        assert!(o.status.success(), "{case}: {}", stderr(&o));
        let want = format!("{cells} {} {}", genes.unwrap_or(0), params["dataset_id"].as_str().expect("dataset_id"));
        assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), want, "{case}: n_obs, n_vars, uns['cellucid']['id']");
    }
    assert!(refused >= 6, "most golden cases quantize or compress: {refused}");
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, text).expect("write");
    p
}

#[test]
fn cells_a_pypi_writer_cannot_express_are_dropped_at_sizing_with_the_reason() {
    let tmp = tempfile::tempdir().expect("tmp");
    let p = write(
        tmp.path(),
        "express.toml",
        "name = \"express\"\nrepeats = 1\nwarmup = 0\n[axes]\ncells = 300\ngenes = 40\ndensity = 0.1\n\
         [[block]]\nname = \"q8\"\nvar_quantization = 8\nwriter = [\"cellucid-py-0.9.5\", \"cellucid-py-0.0.9\"]\n\
         [[block]]\nname = \"gz6\"\ncompression = 6\nwriter = \"cellucid-py-0.9.5\"\n\
         [[block]]\nname = \"zstd\"\ncompression = \"zstd:3\"\nwriter = \"cellucid-py-0.0.9\"\n",
    );
    let o = bin().args(["sweep", "--dry-run", "--plan"]).arg(&p).output().expect("dry run");
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    for reason in [
        "dropped, cellucid-py-0.9.5 cannot express it: var_quantization = 8: cellucid-py-0.9.5 supports only none",
        "dropped, cellucid-py-0.9.5 cannot express it: compression = 6: cellucid-py-0.9.5 has no gzip setting",
        "dropped, cellucid-py-0.0.9 cannot express it: compression = \"zstd:3\": a what-if codec cellucid-py-0.0.9 cannot write",
    ] {
        assert!(err.contains(reason), "{reason}\n{err}");
    }
    assert!(err.contains("plan express: 1 cells"), "0.0.9's q8 cell is kept: {err}");
}

#[test]
fn a_tiny_sweep_with_both_writers_stores_ok_samples() {
    // Both writers set up first (the sweep would, too; this keeps its output short).
    ready(PY_009);
    ready(PY_095);
    let tmp = tempfile::tempdir().expect("tmp");
    let p = write(
        tmp.path(),
        "pypi.toml",
        "name = \"pypi\"\ndescription = \"test plan\"\nseed = 5\nrepeats = 2\nwarmup = 0\nmode = \"factorial\"\n\
         [axes]\ncells = [300, 600]\ngenes = 40\ndensity = 0.1\ntarget = \"tmpfs\"\n\
         writer = [\"cellucid-py-0.0.9\", \"cellucid-py-0.9.5\"]\n",
    );
    let out = tmp.path().join("pypi.jsonl");
    let o = bin().args(["sweep", "--no-floor", "--plan"]).arg(&p).arg("--out").arg(&out).arg("--work-dir").arg(tmp.path().join("work")).output().expect("sweep");
    assert!(o.status.success(), "{}\n{}", stderr(&o), String::from_utf8_lossy(&o.stdout));
    let (header, samples) = store::read(&out).expect("store");
    for (name, version, output) in [(PY_009, "0.0.9", "compact_v1_key_era"), (PY_095, "0.9.5", "anndata")] {
        let info = header.writers.iter().find(|w| w.name == name).unwrap_or_else(|| panic!("{name} in the header"));
        assert_eq!((info.version.as_deref(), info.output.as_str()), (Some(version), output));
    }
    assert_eq!(samples.len(), 2 * 2 * 2, "2 cells × 2 writers × 2 repeats");
    for s in &samples {
        assert!(s.ok, "{}: {:?}", s.label, s.error);
        assert!(s.wall_s > 0.0 && s.max_rss_bytes > 0 && s.bytes_apparent > 0, "{}", s.label);
        if s.writer == PY_095 {
            assert_eq!(s.files, 1, "{}: one .h5ad", s.label);
            assert!(s.output_hash.is_none(), "{}: an AnnData file is not hashed as a folder", s.label);
        } else {
            assert!(s.files > 40 && s.output_hash.is_some(), "{}: a folder, one file per gene", s.label);
        }
    }
}
