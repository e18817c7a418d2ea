//! `points_<d>d.bin`: embedding checks (FORMAT.md §2 D.2), normalisation (§4, in f64
//! from the source values, rounded once to f32) and the payloads.

use super::dense::to_dense;
use super::diagnosis::{diagnose, shape_repr};
use super::output::{f32_bytes, Output, Written};
use crate::dataset::{Dataset, DenseArray};
use crate::error::{ExportError, Result};

/// One normalised embedding: the unrounded f64 coordinates and the scale `s = 2/R`.
pub struct Normalized {
    pub dim: usize,
    /// `n × dim`, row-major, unrounded f64 (feeds the centroids).
    pub coords: Vec<f64>,
    /// `2.0 / R` (feeds vector-field scaling).
    pub scale: f64,
}

/// The embeddings that passed D.2, densified.
pub struct Checked {
    pub n_cells: usize,
    /// Ascending dimensions given.
    pub dims: Vec<usize>,
    arrays: Vec<(usize, DenseArray)>,
}

fn name(d: usize) -> String {
    format!("X_umap_{d}d")
}

/// D.2: dtype and finiteness of each (1d, 2d, 3d), "at least one", shapes, rows, "at least one cell".
pub fn check(ds: &Dataset) -> Result<Checked> {
    let mut arrays = Vec::new();
    for d in 1..=3 {
        let Some(m) = ds.embedding(d) else { continue };
        let label = name(d);
        if !m.dtype().is_real_numeric() {
            return Err(ExportError::type_(&label, format!("{label} must contain real numeric values.")));
        }
        let dense = to_dense(m);
        let diag = diagnose(&dense.values);
        if !diag.is_clean() {
            let cols = (dense.shape.len() == 2).then(|| dense.shape[1]);
            return Err(ExportError::value(&label, diag.array_message(&label, cols)));
        }
        arrays.push((d, dense));
    }
    if arrays.is_empty() {
        return Err(ExportError::value(
            "X_umap_2d",
            "At least one dimensional embedding must be provided. Use X_umap_1d, X_umap_2d, or X_umap_3d.",
        ));
    }
    let mut n_first: Option<usize> = None;
    for (d, a) in &mut arrays {
        let label = name(*d);
        let shape = a.shape.clone();
        if *d == 1 && shape.len() == 1 {
            a.shape = vec![shape[0], 1];
        } else if shape.len() != 2 {
            return Err(ExportError::value(&label, format!("{label} must be a 2D array, got shape {}.", shape_repr(&shape))));
        } else if shape[1] != *d {
            return Err(ExportError::value(
                &label,
                format!("{label} must have exactly {d} columns, got {}. Shape is {}.", shape[1], shape_repr(&shape)),
            ));
        }
        let rows = a.shape[0];
        match n_first {
            None => n_first = Some(rows),
            Some(n) if n != rows => {
                return Err(ExportError::value(
                    &label,
                    format!("All embeddings must have the same number of cells. First embedding has {n} cells, but {label} has {rows} cells."),
                ))
            }
            _ => {}
        }
    }
    let n_cells = n_first.unwrap_or(0);
    if n_cells == 0 {
        return Err(ExportError::value("X_umap", "Embeddings must contain at least one cell."));
    }
    let dims = arrays.iter().map(|(d, _)| *d).collect();
    Ok(Checked { n_cells, dims, arrays })
}

/// D.4: normalise every embedding in f64 from the source values.
pub fn normalize(checked: &Checked) -> Result<Vec<Normalized>> {
    let mut out = Vec::new();
    for (d, a) in &checked.arrays {
        let d = *d;
        let src = a.values.to_f64_vec();
        let n = src.len() / d;
        let mut mins = vec![f64::INFINITY; d];
        let mut maxs = vec![f64::NEG_INFINITY; d];
        for row in src.chunks_exact(d) {
            for j in 0..d {
                mins[j] = mins[j].min(row[j]);
                maxs[j] = maxs[j].max(row[j]);
            }
        }
        let range = (0..d).map(|j| maxs[j] - mins[j]).fold(f64::NEG_INFINITY, f64::max);
        if range <= 0.0 {
            let label = name(d);
            return Err(ExportError::value(&label, format!("{label} has no coordinate variation and cannot be normalized.")));
        }
        let centers: Vec<f64> = (0..d).map(|j| (mins[j] + maxs[j]) / 2.0).collect();
        let scale = 2.0 / range;
        let mut coords = Vec::with_capacity(n * d);
        for row in src.chunks_exact(d) {
            for j in 0..d {
                coords.push((row[j] - centers[j]) * scale);
            }
        }
        out.push(Normalized { dim: d, coords, scale });
    }
    Ok(out)
}

/// The file name of dimension `d`'s points.
pub fn points_path(d: usize, output: &Output) -> String {
    format!("points_{d}d.bin{}", output.suffix())
}

/// Write `points_<d>d.bin[.gz]`: each f64 coordinate rounded once to f32.
pub fn write(norms: &[Normalized], output: &Output) -> Result<Written> {
    let mut total = Written::default();
    let mut buf = Vec::new();
    for e in norms {
        let f: Vec<f32> = e.coords.iter().map(|&x| x as f32).collect();
        f32_bytes(&f, &mut buf);
        total += output.write(&points_path(e.dim, output), &buf)?;
    }
    Ok(total)
}
