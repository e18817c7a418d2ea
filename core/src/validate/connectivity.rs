//! `connectivity_manifest.json` and the edge payloads (VIEWER.md B.6).
//!
//! The three payloads are checked together: indices below `n_cells`, `src < dst`, pairs
//! strictly sorted by (src, dst), weights finite and positive, and the maximum degree over
//! both endpoints equal to `max_neighbors`.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use super::json::{self, key};
use super::values::{Content, Job};
use super::{paths, payload, problem, Problem, Sink, CONNECTIVITY_MANIFEST};

const KEYS: &[&str] = &[
    "format",
    "n_cells",
    "n_edges",
    "max_neighbors",
    "index_bytes",
    "index_dtype",
    "sourcesPath",
    "destinationsPath",
    "weightsPath",
    "weight_bytes",
    "weight_dtype",
    "compression",
];
const PATH_KEYS: [&str; 3] = ["sourcesPath", "destinationsPath", "weightsPath"];
/// Largest index count that uint16 indices must be used for.
const UINT16_MAX_CELLS: u64 = 65_536;
/// Beyond this many cells, degrees are counted in a map instead of a dense vector.
const DENSE_DEGREE_LIMIT: u64 = 1 << 26;

/// What the rest of the validator needs from the connectivity manifest.
#[derive(Clone, Debug, Default)]
pub(crate) struct Connectivity {
    pub n_cells: Option<u64>,
    pub n_edges: Option<u64>,
    pub max_neighbors: Option<u64>,
    /// 2 or 4, only when it is the width the viewer requires.
    pub index_bytes: Option<u64>,
    pub compression: Option<Option<u32>>,
    /// (path, manifest key) for each of the three paths that is a safe relative path.
    pub paths: [Option<(String, String)>; 3],
}

impl Connectivity {
    /// The three payloads as jobs (for the folder-tree checks; edges are read by [`check_edges`]).
    pub(crate) fn adverts(&self) -> Vec<Job> {
        self.paths
            .iter()
            .flatten()
            .map(|(path, field)| Job {
                path: path.clone(),
                len: None,
                content: Content::Opaque,
                label: "connectivity".into(),
                source: CONNECTIVITY_MANIFEST,
                source_field: field.clone(),
            })
            .collect()
    }
}

/// Checks the 12-key manifest.
pub(crate) fn check_manifest(doc: &Value, problems: &mut Vec<Problem>) -> Connectivity {
    let mut out = Connectivity::default();
    let mut s = Sink::new(CONNECTIVITY_MANIFEST, problems);
    let Some(top) = json::object(&mut s, "", doc) else { return out };
    json::exact_keys(&mut s, "", top, KEYS, &[]);
    json::expect_str(&mut s, "", top, "format", "edge_pairs");

    out.n_cells = json::count(&mut s, "", top, "n_cells").filter(|&n| {
        let ok = (1..=1u64 << 32).contains(&n);
        if !ok {
            s.report("n_cells", format!("must be between 1 and 2^32, found {n}"));
        }
        ok
    });
    out.n_edges = json::count(&mut s, "", top, "n_edges");
    out.max_neighbors = json::count(&mut s, "", top, "max_neighbors");
    if let (Some(n), Some(e)) = (out.n_cells, out.n_edges) {
        let pairs = n as u128 * (n as u128 - 1) / 2;
        if e as u128 > pairs {
            s.report("n_edges", format!("is {e}, more than n_cells(n_cells-1)/2 = {pairs}"));
        }
    }
    if let (Some(n), Some(e), Some(m)) = (out.n_cells, out.n_edges, out.max_neighbors) {
        if m > (n - 1).min(e) {
            s.report(
                "max_neighbors",
                format!("is {m}, more than min(n_cells - 1, n_edges) = {}", (n - 1).min(e)),
            );
        }
    }
    if let (Some(e), Some(m)) = (out.n_edges, out.max_neighbors) {
        if (e == 0) != (m == 0) {
            s.report(
                "max_neighbors",
                format!("is {m} with n_edges {e}: n_edges == 0 exactly when max_neighbors == 0"),
            );
        }
    }

    // The index width must be the smallest that fits.
    let bytes = json::count(&mut s, "", top, "index_bytes");
    let dtype = json::string(&mut s, "", top, "index_dtype");
    let pair = match (dtype, bytes) {
        (Some("uint16"), Some(2)) => Some(2),
        (Some("uint32"), Some(4)) => Some(4),
        (Some(d), Some(b)) => {
            s.report(
                "index_dtype",
                format!("index_dtype {d:?} with index_bytes {b}: must be uint16/2 or uint32/4"),
            );
            None
        }
        _ => None,
    };
    if let (Some(width), Some(n)) = (pair, out.n_cells) {
        let required = if n <= UINT16_MAX_CELLS { 2 } else { 4 };
        if width != required {
            let name = if required == 2 { "uint16" } else { "uint32" };
            s.report(
                "index_dtype",
                format!("must be {name} ({required} bytes) for {n} cells: the smallest width that fits"),
            );
        } else {
            out.index_bytes = Some(width);
        }
    }
    json::expect_str(&mut s, "", top, "weight_dtype", "float64");
    if let Some(v) = top.get("weight_bytes") {
        if v.as_u64() != Some(8) {
            s.report("weight_bytes", format!("must be 8, found {v}"));
        }
    }

    out.compression = json::compression(&mut s, "", top, "compression");
    let compressed = out.compression.map(|c| c.is_some());
    let mut seen: Vec<&str> = Vec::new();
    for (slot, k) in PATH_KEYS.iter().enumerate() {
        let Some(p) = json::string(&mut s, "", top, k) else { continue };
        let safe = paths::check_safe(&mut s, k, p);
        paths::check_gz(&mut s, k, p, compressed);
        if seen.contains(&p) {
            s.report(*k, format!("path {p:?} is also used by another connectivity payload"));
            continue;
        }
        seen.push(p);
        if safe {
            out.paths[slot] = Some((p.to_string(), key("", k)));
        }
    }
    out
}

/// Reads the three payloads and checks the edge list. Returns the number of files read.
pub(crate) fn check_edges(dir: &Path, conn: &Connectivity, problems: &mut Vec<Problem>) -> usize {
    let [Some((src_path, _)), Some((dst_path, _)), Some((w_path, _))] = &conn.paths else {
        return 0;
    };
    let (Some(n_edges), Some(n_cells)) = (conn.n_edges, conn.n_cells) else {
        return 0;
    };
    let Some(ib) = conn.index_bytes else {
        // The width is wrong or unknown: only check the weights' length and the files' presence.
        let mut read = 0;
        for path in [src_path, dst_path] {
            if !path.split('/').fold(dir.to_path_buf(), |p, seg| p.join(seg)).is_file() {
                problems.push(problem(path, "exists", "advertised payload is missing"));
            }
        }
        let w = payload::read(dir, w_path, n_edges.saturating_mul(8));
        read += usize::from(w.read);
        problems.extend(w.problems.into_iter().map(|(a, m)| problem(w_path, a, m)));
        return read;
    };

    let src = payload::read(dir, src_path, n_edges.saturating_mul(ib));
    let dst = payload::read(dir, dst_path, n_edges.saturating_mul(ib));
    let weights = payload::read(dir, w_path, n_edges.saturating_mul(8));
    let read = [&src, &dst, &weights].iter().filter(|p| p.read).count();
    for (path, p) in [(src_path, &src), (dst_path, &dst), (w_path, &weights)] {
        problems.extend(p.problems.iter().map(|(a, m)| problem(path, *a, m.clone())));
    }

    if let Some(w) = &weights.data {
        let bad: Vec<usize> = w
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
            .enumerate()
            .filter(|(_, x)| !(x.is_finite() && *x > 0.0))
            .map(|(i, _)| i)
            .collect();
        if let Some(first) = bad.first() {
            problems.push(problem(
                w_path,
                "values",
                format!("{} weights are not finite and > 0 (first at edge {first})", bad.len()),
            ));
        }
    }

    let (Some(src), Some(dst)) = (src.data, dst.data) else {
        return read;
    };
    let decode = |data: &[u8]| -> Vec<u64> {
        if ib == 2 {
            data.chunks_exact(2).map(|b| u16::from_le_bytes([b[0], b[1]]) as u64).collect()
        } else {
            data.chunks_exact(4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64)
                .collect()
        }
    };
    let (src, dst) = (decode(&src), decode(&dst));
    let mut in_range = true;
    for (path, ids) in [(src_path, &src), (dst_path, &dst)] {
        if let Some(e) = ids.iter().position(|&i| i >= n_cells) {
            let count = ids.iter().filter(|&&i| i >= n_cells).count();
            problems.push(problem(
                path,
                "values",
                format!("{count} indices are >= n_cells {n_cells} (first at edge {e}: {})", ids[e]),
            ));
            in_range = false;
        }
    }
    if let Some(e) = (0..src.len()).find(|&e| src[e] >= dst[e]) {
        let count = (0..src.len()).filter(|&e| src[e] >= dst[e]).count();
        problems.push(problem(
            src_path,
            "edges.order",
            format!("{count} edges do not have src < dst (first at edge {e}: {} -> {})", src[e], dst[e]),
        ));
    }
    if let Some(e) = (1..src.len()).find(|&e| (src[e - 1], dst[e - 1]) >= (src[e], dst[e])) {
        problems.push(problem(
            src_path,
            "edges.order",
            format!(
                "edges are not strictly sorted by (src, dst): edge {} is ({}, {}) after ({}, {})",
                e,
                src[e],
                dst[e],
                src[e - 1],
                dst[e - 1]
            ),
        ));
    }
    if in_range {
        let max_degree = max_degree(&src, &dst, n_cells);
        if let Some(m) = conn.max_neighbors {
            if max_degree != m {
                problems.push(problem(
                    CONNECTIVITY_MANIFEST,
                    "max_neighbors",
                    format!("is {m}, but the edges give a maximum degree of {max_degree}"),
                ));
            }
        }
    }
    read
}

/// The maximum number of edges any cell is an endpoint of.
fn max_degree(src: &[u64], dst: &[u64], n_cells: u64) -> u64 {
    let ends = src.iter().chain(dst);
    if n_cells <= DENSE_DEGREE_LIMIT {
        let mut degree = vec![0u32; n_cells as usize];
        for &i in ends {
            degree[i as usize] += 1;
        }
        degree.into_iter().max().unwrap_or(0) as u64
    } else {
        let mut degree: HashMap<u64, u64> = HashMap::new();
        for &i in ends {
            *degree.entry(i).or_default() += 1;
        }
        degree.into_values().max().unwrap_or(0)
    }
}
