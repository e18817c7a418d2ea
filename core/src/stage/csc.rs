//! Sparse layout conversion to CSC (column-major), the layout the gene stage reads:
//! one counting pass and one fill pass, O(nnz), keeping each column's entries in row
//! order and duplicates in storage order (as scipy's `tocsc()` does).

use crate::dataset::{Compressed, Coo, Element, Values};
use crate::with_values;

/// CSR → CSC.
pub fn csr_to_csc(csr: &Compressed) -> Compressed {
    let (rows, cols) = csr.shape;
    let nnz = csr.indices.len();
    let mut counts = vec![0u64; cols + 1];
    for &c in &csr.indices {
        counts[c as usize + 1] += 1;
    }
    for j in 0..cols {
        counts[j + 1] += counts[j];
    }
    let indptr = counts.clone();
    let mut next = counts;
    let mut indices = vec![0u32; nnz];
    let mut order = vec![0usize; nnz];
    for r in 0..rows {
        for k in csr.indptr[r] as usize..csr.indptr[r + 1] as usize {
            let c = csr.indices[k] as usize;
            let dst = next[c] as usize;
            next[c] += 1;
            indices[dst] = r as u32;
            order[dst] = k;
        }
    }
    let data = with_values!(&csr.data, v => Values::from_vec(gather(v, &order)));
    Compressed { shape: csr.shape, indptr, indices, data }
}

/// COO → CSC (duplicates kept, in storage order).
pub fn coo_to_csc(coo: &Coo) -> Compressed {
    let (_, cols) = coo.shape;
    let nnz = coo.rows.len();
    // Stable sort of entry positions by (col, row).
    let mut order: Vec<usize> = (0..nnz).collect();
    order.sort_by_key(|&k| (coo.cols[k], coo.rows[k]));
    let mut indptr = vec![0u64; cols + 1];
    for &k in &order {
        indptr[coo.cols[k] as usize + 1] += 1;
    }
    for j in 0..cols {
        indptr[j + 1] += indptr[j];
    }
    let indices = order.iter().map(|&k| coo.rows[k]).collect();
    let data = with_values!(&coo.data, v => Values::from_vec(gather(v, &order)));
    Compressed { shape: coo.shape, indptr, indices, data }
}

fn gather<T: Element>(v: &[T], order: &[usize]) -> Vec<T> {
    order.iter().map(|&k| v[k]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csr_to_csc_keeps_values_and_order() {
        // [[1, 0, 2], [0, 3, 0], [4, 0, 5]]
        let csr = Compressed {
            shape: (3, 3),
            indptr: vec![0, 2, 3, 5],
            indices: vec![0, 2, 1, 0, 2],
            data: Values::F32(vec![1.0, 2.0, 3.0, 4.0, 5.0]),
        };
        let csc = csr_to_csc(&csr);
        assert_eq!(csc.indptr, vec![0, 2, 3, 5]);
        assert_eq!(csc.indices, vec![0, 2, 1, 0, 2]);
        assert_eq!(csc.data, Values::F32(vec![1.0, 4.0, 3.0, 2.0, 5.0]));
    }
}
