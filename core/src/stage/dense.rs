//! Densifying small matrix arguments (embeddings, latent, vector fields), as the
//! reference does with `toarray()`: duplicate sparse entries are summed in the
//! matrix's own dtype, in storage order.

use crate::dataset::{Compressed, Coo, DenseArray, Element, Matrix, Values};
use crate::with_values;

/// The matrix as a dense row-major array (a clone for dense input).
pub fn to_dense(m: &Matrix) -> DenseArray {
    match m {
        Matrix::Dense(d) => d.clone(),
        Matrix::Csr(c) => compressed_to_dense(c, true),
        Matrix::Csc(c) => compressed_to_dense(c, false),
        Matrix::Coo(c) => coo_to_dense(c),
    }
}

fn scatter<T: Element>(rows: usize, cols: usize, entries: impl Iterator<Item = (usize, usize, T)>) -> Vec<T> {
    let mut out = vec![T::zero(); rows * cols];
    for (r, c, v) in entries {
        let slot = &mut out[r * cols + c];
        *slot = slot.add_same(v);
    }
    out
}

fn compressed_to_dense(c: &Compressed, row_major: bool) -> DenseArray {
    let (rows, cols) = c.shape;
    let majors = if row_major { rows } else { cols };
    let values = with_values!(&c.data, data => {
        let entries = (0..majors).flat_map(|major| {
            let (a, b) = (c.indptr[major] as usize, c.indptr[major + 1] as usize);
            (a..b).map(move |k| {
                let minor = c.indices[k] as usize;
                if row_major { (major, minor, data[k]) } else { (minor, major, data[k]) }
            })
        });
        Values::from_vec(scatter(rows, cols, entries))
    });
    DenseArray { shape: vec![rows, cols], values }
}

fn coo_to_dense(c: &Coo) -> DenseArray {
    let (rows, cols) = c.shape;
    let values = with_values!(&c.data, data => {
        let entries = (0..data.len()).map(|k| (c.rows[k] as usize, c.cols[k] as usize, data[k]));
        Values::from_vec(scatter(rows, cols, entries))
    });
    DenseArray { shape: vec![rows, cols], values }
}
