//! Our gzip members inflated by the viewer's own decoder: the viewer reads every `.gz`
//! with the browser's native `DecompressionStream('gzip')` (VIEWER.md §B.8), so every
//! member of real exports, run-length coded genes included, goes through Debian's
//! Chromium, headless, and must give the exact payload our strict reader gives.

mod support;

use cellucid_core::codec::gzip::gunzip_single_member;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use support::{bin, browser, chromium};

/// A small dataset with every kind of payload: embedding, obs fields, graph, genes.
const SPEC: &str = "cells = 3000\ngenes = 40\ndensity = 0.10\nclusters = 5\nembedding_dims = [3]\n\
latent_dims = 10\ncategorical_fields = [5]\ncontinuous_fields = { count = 2, nan_share = 0.0 }\n\
graph = { kind = \"knn\", k = 10 }\nseed = 7\n";

const PARAMS: &str = r#"{"obs_keys": ["cluster", "n_counts", "percent_mito"], "obs_categorical_dtype": "uint8",
 "dataset_name": "browser", "dataset_id": "browser", "created_at": "2026-01-02T03:04:05Z",
 "inputs": {"latent_space": "obsm/X_latent", "gene_expression": "X",
            "connectivities": "obsp/connectivities", "X_umap_3d": "obsm/X_umap_3d"}}"#;

fn gz_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("list export").flatten() {
        let p = e.path();
        if p.is_dir() {
            gz_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "gz") {
            out.push(p);
        }
    }
}

/// FNV-1a over the payload; the page computes the same over what the browser inflated.
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(2_166_136_261u32, |h, &b| (h ^ u32::from(b)).wrapping_mul(16_777_619))
}

/// A page that inflates each member with `DecompressionStream` and writes
/// `[length, fnv1a]` (or the error) per member into `<pre id="result">`.
fn page(members: &[Vec<u8>]) -> String {
    let mut data = String::from("[");
    for (i, m) in members.iter().enumerate() {
        data.push_str(if i == 0 { "[" } else { ",[" });
        for (j, b) in m.iter().enumerate() {
            let _ = write!(data, "{}{b}", if j == 0 { "" } else { "," });
        }
        data.push(']');
    }
    data.push(']');
    format!(
        r#"<html><body><pre id="result">pending</pre><script>
const members = {data};
async function inflate(bytes) {{
  const stream = new Blob([new Uint8Array(bytes)]).stream().pipeThrough(new DecompressionStream('gzip'));
  const u = new Uint8Array(await new Response(stream).arrayBuffer());
  let h = 2166136261 >>> 0;
  for (const x of u) {{ h ^= x; h = Math.imul(h, 16777619) >>> 0; }}
  return [u.length, h];
}}
(async () => {{
  const res = [];
  for (const m of members) {{ try {{ res.push(await inflate(m)); }} catch (e) {{ res.push(String(e)); }} }}
  document.getElementById('result').textContent = JSON.stringify(res);
}})();
</script></body></html>"#
    )
}

#[test]
fn chromium_inflates_every_member_of_our_exports() {
    let browser_bin = chromium();
    let dir = tempfile::tempdir().expect("tmp");
    let (spec, params, input) = (dir.path().join("spec.toml"), dir.path().join("params.json"), dir.path().join("in.h5ad"));
    std::fs::write(&spec, SPEC).expect("spec");
    std::fs::write(&params, PARAMS).expect("params");
    let st = bin().args(["generate", "--spec"]).arg(&spec).arg("-o").arg(&input).status().expect("generate");
    assert!(st.success());
    let mut members = Vec::new();
    let mut expected = Vec::new();
    // Run-length genes at 1 and 6, the smaller of two codings at 9; 16-bit genes; and
    // libdeflate for everything at f32 (no gene codes at all).
    for (name, flags) in [
        ("q8gz1", &["--var-quantization", "8", "--compression", "1"][..]),
        ("q8gz6", &["--var-quantization", "8", "--obs-continuous-quantization", "8", "--compression", "6"]),
        ("q16gz9", &["--var-quantization", "16", "--compression", "9"]),
        ("f32gz6", &["--compression", "6"]),
    ] {
        let out = dir.path().join(name);
        let st = bin().arg("export").arg(&input).arg(&out).arg("--params").arg(&params).args(flags).arg("--quiet").status().expect("export");
        assert!(st.success(), "export {name}");
        let mut files = Vec::new();
        gz_files(&out, &mut files);
        files.sort();
        assert!(files.len() > 40, "{name}: only {} members", files.len());
        for f in files {
            let bytes = std::fs::read(&f).expect("read member");
            let payload = gunzip_single_member(&bytes).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            expected.push(format!("[{},{}]", payload.len(), fnv1a(&payload)));
            members.push(bytes);
        }
    }
    let html = dir.path().join("inflate.html");
    std::fs::write(&html, page(&members)).expect("page");
    let o = browser(
        &browser_bin,
        &dir.path().join("profile"),
        &["--virtual-time-budget=30000".into(), "--dump-dom".into()],
        &format!("file://{}", html.display()),
    );
    assert!(o.status.success(), "chromium failed: {}", String::from_utf8_lossy(&o.stderr));
    let dom = String::from_utf8_lossy(&o.stdout);
    let start = dom.find("<pre id=\"result\">").expect("result element") + "<pre id=\"result\">".len();
    let result = &dom[start..start + dom[start..].find("</pre>").expect("end of result")];
    assert_eq!(result, format!("[{}]", expected.join(",")), "the browser's inflate differs from ours");
}
