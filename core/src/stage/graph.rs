//! `connectivity/` and `connectivity_manifest.json` (FORMAT.md §10): exact validation
//! of the graph (no symmetrising), the strict upper triangle as a sorted edge list,
//! f64 weights, and the smallest index width that fits (uint16 up to 65,536 cells).

use super::diagnosis::shape_repr;
use super::output::{f64_bytes, Output, Written};
use crate::codec::json::Json;
use crate::dataset::{Element, Matrix, Values};
use crate::error::{ExportError, Result};
use crate::options::ExportOptions;
use crate::with_values;
use rayon::prelude::*;

const F: &str = "connectivities";

/// The edge list: `src < dst`, sorted by `(src, dst)`.
pub struct Graph {
    pub n_cells: usize,
    pub src: Vec<u32>,
    pub dst: Vec<u32>,
    pub weights: Vec<f64>,
    pub max_neighbors: usize,
}

fn err(msg: &str) -> ExportError {
    ExportError::value(F, msg)
}

/// Stored entries `(row, col, value)` in storage order, for any layout.
fn triplets<T: Element>(m: &Matrix, data: &[T]) -> Vec<(u32, u32, T)> {
    match m {
        Matrix::Csr(c) => (0..c.shape.0)
            .flat_map(|r| (c.indptr[r] as usize..c.indptr[r + 1] as usize).map(move |k| (r as u32, c.indices[k], data[k])))
            .collect(),
        Matrix::Csc(c) => (0..c.shape.1)
            .flat_map(|j| (c.indptr[j] as usize..c.indptr[j + 1] as usize).map(move |k| (c.indices[k], j as u32, data[k])))
            .collect(),
        Matrix::Coo(c) => (0..data.len()).map(|k| (c.rows[k], c.cols[k], data[k])).collect(),
        Matrix::Dense(_) => Vec::new(),
    }
}

/// Whether every value is exactly representable as f64 (only 64-bit integers beyond
/// 2^53 can fail).
fn all_exact_f64(values: &Values) -> bool {
    match values {
        Values::I64(v) => v.iter().all(|&x| (x as f64) as i128 == x as i128),
        Values::U64(v) => v.iter().all(|&x| (x as f64) as u128 == x as u128),
        _ => true,
    }
}

fn check_value<T: Element>(v: T) -> Result<()> {
    let f = v.to_f64();
    if !f.is_finite() {
        return Err(err("Connectivity values must all be finite."));
    }
    if f < 0.0 {
        return Err(err("Connectivity values must all be non-negative."));
    }
    Ok(())
}

/// D.3: validate `connectivities` against `n_cells` and extract the edges.
pub fn prepare(m: Option<&Matrix>, n_cells: usize) -> Result<Option<Graph>> {
    let Some(m) = m else { return Ok(None) };
    if n_cells as u64 > 4_294_967_296 {
        return Err(err("Connectivity cannot exceed 4,294,967,296 cells because edge indices are stored as uint32."));
    }
    let shape = m.shape();
    if shape.len() != 2 {
        return Err(err(&format!("Connectivity matrix must be two-dimensional; got shape {}.", shape_repr(&shape))));
    }
    if shape != [n_cells, n_cells] {
        return Err(err(&format!(
            "Connectivity matrix shape must exactly match the cell axis: expected ({n_cells}, {n_cells}), got {}.",
            shape_repr(&shape)
        )));
    }
    let values = match m {
        Matrix::Dense(d) => &d.values,
        Matrix::Csr(c) | Matrix::Csc(c) => &c.data,
        Matrix::Coo(c) => &c.data,
    };
    let mut upper = match m {
        Matrix::Dense(_) => with_values!(values, data => dense_edges(values, data, n_cells))?,
        _ => with_values!(values, data => sparse_edges(m, values, data))?,
    };
    upper.par_sort_unstable_by_key(|e| (e.0, e.1));
    let mut degree = vec![0u32; n_cells];
    for e in &upper {
        degree[e.0 as usize] += 1;
        degree[e.1 as usize] += 1;
    }
    let max_neighbors = degree.iter().copied().max().unwrap_or(0) as usize;
    let src = upper.iter().map(|e| e.0).collect();
    let dst = upper.iter().map(|e| e.1).collect();
    let weights = upper.iter().map(|e| e.2).collect();
    Ok(Some(Graph { n_cells, src, dst, weights, max_neighbors }))
}

type Edge = (u32, u32, f64);

fn sparse_edges<T: Element>(m: &Matrix, values: &Values, data: &[T]) -> Result<Vec<Edge>> {
    let mut t = triplets(m, data);
    t.par_sort_by_key(|e| (e.0, e.1));
    if let Some(w) = t.windows(2).find(|w| (w[0].0, w[0].1) == (w[1].0, w[1].1)) {
        return Err(err(&format!("Connectivity contains duplicate sparse coordinates at ({}, {}).", w[0].0, w[0].1)));
    }
    for e in &t {
        check_value(e.2)?;
    }
    if t.iter().any(|e| e.2.to_f64() == 0.0) {
        return Err(err("Sparse connectivity must not contain stored zero entries."));
    }
    if !all_exact_f64(values) {
        return Err(err("Connectivity values must be exactly representable as Float64."));
    }
    if t.iter().any(|e| e.0 == e.1) {
        return Err(err("Connectivity diagonal values must all be exactly zero."));
    }
    let upper: Vec<Edge> = t.iter().filter(|e| e.0 < e.1).map(|e| (e.0, e.1, e.2.to_f64())).collect();
    let mut lower: Vec<Edge> = t.iter().filter(|e| e.0 > e.1).map(|e| (e.1, e.0, e.2.to_f64())).collect();
    lower.par_sort_unstable_by_key(|e| (e.0, e.1));
    let symmetric = upper.len() == lower.len()
        && upper.iter().zip(&lower).all(|(a, b)| a.0 == b.0 && a.1 == b.1 && a.2.to_bits() == b.2.to_bits());
    if !symmetric {
        return Err(err("Connectivity matrix must be exactly symmetric in topology and weight."));
    }
    Ok(upper)
}

fn dense_edges<T: Element>(values: &Values, data: &[T], n: usize) -> Result<Vec<Edge>> {
    for &v in data {
        check_value(v)?;
    }
    if !all_exact_f64(values) {
        return Err(err("Connectivity values must be exactly representable as Float64."));
    }
    if (0..n).any(|i| data[i * n + i].to_f64() != 0.0) {
        return Err(err("Connectivity diagonal values must all be exactly zero."));
    }
    let mut upper = Vec::new();
    for i in 0..n {
        for j in i + 1..n {
            let (a, b) = (data[i * n + j].to_f64(), data[j * n + i].to_f64());
            if a.to_bits() != b.to_bits() && a != b {
                return Err(err("Connectivity matrix must be exactly symmetric in topology and weight."));
            }
            if a != 0.0 {
                upper.push((i as u32, j as u32, a));
            }
        }
    }
    Ok(upper)
}

/// Write the three edge payloads and the manifest.
pub fn write(g: &Graph, options: &ExportOptions, output: &Output) -> Result<Written> {
    output.mkdir("connectivity")?;
    let gz = output.suffix();
    let wide = g.n_cells > 65_536;
    let (index_bytes, index_dtype) = if wide { (4, "uint32") } else { (2, "uint16") };
    let pack = |v: &[u32]| -> Vec<u8> {
        let mut out = Vec::with_capacity(v.len() * index_bytes);
        for &x in v {
            if wide {
                out.extend_from_slice(&x.to_le_bytes());
            } else {
                out.extend_from_slice(&(x as u16).to_le_bytes());
            }
        }
        out
    };
    let src_path = format!("connectivity/edges.src.bin{gz}");
    let dst_path = format!("connectivity/edges.dst.bin{gz}");
    let w_path = format!("connectivity/edges.weights.f64.bin{gz}");
    let mut total = output.write(&src_path, &pack(&g.src))?;
    total += output.write(&dst_path, &pack(&g.dst))?;
    total += output.write(&w_path, &f64_bytes(&g.weights))?;
    let manifest = Json::Object(vec![
        ("format".into(), Json::Str("edge_pairs".into())),
        ("n_cells".into(), Json::Int(g.n_cells as i64)),
        ("n_edges".into(), Json::Int(g.src.len() as i64)),
        ("max_neighbors".into(), Json::Int(g.max_neighbors as i64)),
        ("index_bytes".into(), Json::Int(index_bytes as i64)),
        ("index_dtype".into(), Json::Str(index_dtype.into())),
        ("sourcesPath".into(), Json::Str(src_path)),
        ("destinationsPath".into(), Json::Str(dst_path)),
        ("weightsPath".into(), Json::Str(w_path)),
        ("weight_dtype".into(), Json::Str("float64".into())),
        ("weight_bytes".into(), Json::Int(8)),
        ("compression".into(), options.compression.map_or(Json::Null, Json::Int)),
    ]);
    total += output.write_json("connectivity_manifest.json", &manifest.to_compact())?;
    Ok(total)
}
