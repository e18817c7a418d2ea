//! Sparse layout conversion to CSC (column-major), the layout the gene stage reads:
//! one counting pass and one fill pass, O(nnz), keeping each column's entries in row
//! order and duplicates in storage order (as scipy's `tocsc()` does).

use crate::dataset::{Compressed, Coo, Element, Values};
use crate::with_values;
use rayon::prelude::*;

/// CSR → CSC.
pub fn csr_to_csc(csr: &Compressed) -> Compressed {
    csr_to_csc_kept(csr, None)
}

/// CSR → CSC holding only the columns `keep` marks (all when `None`); the others are
/// empty, so the shape and column numbers stay those of the whole matrix.
pub fn csr_to_csc_kept(csr: &Compressed, keep: Option<&[bool]>) -> Compressed {
    let view = CsrView { shape: csr.shape, indptr: &csr.indptr, indices: &csr.indices };
    with_values!(&csr.data, v => transpose(&view, v, keep))
}

/// An index a sparse matrix stores (core's u32/u64, scipy's int32/int64), as a position.
///
/// Callers check indices before a transpose (non-negative and in range): a negative one
/// read `as usize` becomes huge and fails a bounds check (a panic, never a wrong write).
pub trait SparseIndex: Copy + Sync {
    fn at(self) -> usize;
}

macro_rules! sparse_index {
    ($($t:ty),*) => {$(
        impl SparseIndex for $t {
            #[inline]
            fn at(self) -> usize {
                self as usize
            }
        }
    )*};
}
sparse_index!(u32, u64, i32, i64);

/// A CSR's structure, borrowed (from core's own `Compressed`, or from numpy's buffers by
/// the Python package, which thereby transposes without copying its input).
pub struct CsrView<'a, P, J> {
    pub shape: (usize, usize),
    pub indptr: &'a [P],
    pub indices: &'a [J],
}

/// The CSC of `csr` with `values`, keeping only the columns `keep` marks.
///
/// On rayon's threads, the classic two-pass parallel transpose: the rows are split into
/// chunks of about equal entry counts; pass 1 counts each chunk's entries per column;
/// the prefix sums over (column, chunk) give every chunk its own output positions for
/// each column; pass 2 lets each chunk place its entries there. Each entry is read
/// once and written once, and a column's entries come out in row order (chunks are in
/// row order), duplicates in storage order — what a serial transpose gives.
pub fn transpose<T: Element, P: SparseIndex, J: SparseIndex>(
    csr: &CsrView<'_, P, J>,
    values: &[T],
    keep: Option<&[bool]>,
) -> Compressed {
    let cols = csr.shape.1;
    let chunks = row_chunks(csr.indptr, rayon::current_num_threads());
    let counts: Vec<Vec<u64>> = chunks.par_iter().map(|&rows| chunk_counts(csr, rows, keep)).collect();
    let mut indptr = vec![0u64; cols + 1];
    let mut starts = vec![vec![0u64; cols]; chunks.len()];
    let mut pos = 0u64;
    for c in 0..cols {
        for (t, chunk) in counts.iter().enumerate() {
            starts[t][c] = pos;
            pos += chunk[c];
        }
        indptr[c + 1] = pos;
    }
    let mut indices = huge_zeroed::<u32>(pos as usize);
    let mut data = huge_zeroed::<T>(pos as usize);
    {
        let (idx_out, val_out) = (DisjointWrites::new(&mut indices), DisjointWrites::new(&mut data));
        chunks.par_iter().zip(starts).for_each(|(&(r0, r1), mut next)| {
            for r in r0..r1 {
                for k in csr.indptr[r].at()..csr.indptr[r + 1].at() {
                    let c = csr.indices[k].at();
                    if keep.is_some_and(|m| !m[c]) {
                        continue;
                    }
                    let p = next[c] as usize;
                    next[c] += 1;
                    // SAFETY: chunk t writes column c's entries at positions
                    // starts[t][c] .. starts[t][c] + counts[t][c], and exactly counts[t][c]
                    // of them: the same rows, the same keep mask and the same immutable
                    // CSR as when they were counted. Those ranges are consecutive, never
                    // overlapping, pieces of 0..pos (prefix sums over (column, chunk)), so
                    // no two chunks (threads) write one position; `write` checks the bound.
                    unsafe {
                        idx_out.write(p, r as u32);
                        val_out.write(p, values[k]);
                    }
                }
            }
        });
    }
    Compressed { shape: csr.shape, indptr, indices, data: Values::from_vec(data) }
}

/// `n` zeros in memory the kernel may back with transparent huge pages.
///
/// The transpose writes its output once, scattered over every page: with 4 KiB pages
/// the first touch of each (a page fault, the kernel zeroing it) was most of its time
/// (16,384 faults for 4·10⁶ entries). Where THP is `madvise` (Debian's default), a large
/// zeroed allocation (fresh, untouched mmap memory from calloc) is advised before its
/// first touch, so it faults in 2 MiB pages. Advice only: if it is refused, nothing
/// changes but the speed.
fn huge_zeroed<T: Element>(n: usize) -> Vec<T> {
    let v = vec![T::zero(); n];
    advise_huge_pages(v.as_ptr() as *const u8, std::mem::size_of_val(v.as_slice()));
    v
}

#[cfg(target_os = "linux")]
fn advise_huge_pages(ptr: *const u8, len: usize) {
    const HUGE: usize = 2 << 20;
    let start = (ptr as usize).next_multiple_of(HUGE);
    let end = (ptr as usize + len) / HUGE * HUGE;
    if end > start {
        // SAFETY: madvise only gives the kernel advice about [start, end), which lies
        // inside the live allocation behind `ptr` (rounded inwards to whole huge pages);
        // MADV_HUGEPAGE never changes the memory's contents or validity.
        unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE) };
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_ptr: *const u8, _len: usize) {}

/// Row ranges `[r0, r1)` covering every row, each holding about `1/parts` of the entries.
fn row_chunks<P: SparseIndex>(indptr: &[P], parts: usize) -> Vec<(usize, usize)> {
    let rows = indptr.len().saturating_sub(1);
    let total = indptr.last().map_or(0, |p| p.at());
    let parts = parts.clamp(1, rows.max(1));
    let mut chunks = Vec::with_capacity(parts);
    let mut start = 0;
    for t in 1..=parts {
        let goal = total * t / parts;
        let end = if t == parts { rows } else { indptr.partition_point(|p| p.at() < goal).clamp(start, rows) };
        chunks.push((start, end));
        start = end;
    }
    chunks
}

/// Kept entries per column among rows `r0..r1`.
fn chunk_counts<P: SparseIndex, J: SparseIndex>(csr: &CsrView<'_, P, J>, (r0, r1): (usize, usize), keep: Option<&[bool]>) -> Vec<u64> {
    let mut counts = vec![0u64; csr.shape.1];
    let (a, b) = (csr.indptr[r0].at(), csr.indptr[r1].at());
    for &c in &csr.indices[a..b] {
        let c = c.at();
        if keep.is_none_or(|m| m[c]) {
            counts[c] += 1;
        }
    }
    counts
}

/// A slice that several threads write at positions their caller proves disjoint.
struct DisjointWrites<'a, T> {
    ptr: *mut T,
    len: usize,
    _slice: std::marker::PhantomData<&'a mut [T]>,
}

// SAFETY: the wrapper only writes `T`s (moved in) through `write`, whose contract makes
// every position written by at most one thread; the exclusive borrow it was built from
// keeps anyone else from reading or writing the slice meanwhile.
unsafe impl<T: Send> Send for DisjointWrites<'_, T> {}
unsafe impl<T: Send> Sync for DisjointWrites<'_, T> {}

impl<'a, T: Copy> DisjointWrites<'a, T> {
    fn new(slice: &'a mut [T]) -> Self {
        DisjointWrites { ptr: slice.as_mut_ptr(), len: slice.len(), _slice: std::marker::PhantomData }
    }

    /// Writes `value` at `i` (bounds-checked: out of range panics).
    ///
    /// # Safety
    /// No other thread may write position `i` during this wrapper's life.
    unsafe fn write(&self, i: usize, value: T) {
        assert!(i < self.len, "position {i} outside a slice of {}", self.len);
        // SAFETY: `i` is in bounds (checked above) of the live, exclusively borrowed
        // slice, and by the contract no other thread touches position `i`. `T: Copy`, so
        // overwriting the old value without dropping it leaks nothing.
        unsafe { self.ptr.add(i).write(value) }
    }
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
    /// The plain serial transpose the parallel one must equal.
    fn reference(csr: &Compressed, keep: Option<&[bool]>) -> (Vec<u64>, Vec<u32>, Vec<f32>) {
        let Values::F32(v) = &csr.data else { unreachable!() };
        let mut cols: Vec<Vec<(u32, f32)>> = vec![Vec::new(); csr.shape.1];
        for r in 0..csr.shape.0 {
            for k in csr.indptr[r] as usize..csr.indptr[r + 1] as usize {
                let c = csr.indices[k] as usize;
                if keep.is_none_or(|m| m[c]) {
                    cols[c].push((r as u32, v[k]));
                }
            }
        }
        let mut indptr = vec![0u64];
        let (mut idx, mut data) = (Vec::new(), Vec::new());
        for col in cols {
            for (r, x) in col {
                idx.push(r);
                data.push(x);
            }
            indptr.push(idx.len() as u64);
        }
        (indptr, idx, data)
    }

    /// A seeded pseudo-random CSR with repeated and unsorted column indices.
    fn random_csr(rows: usize, cols: usize, seed: u64) -> Compressed {
        let mut state = seed;
        let mut next = move || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) as usize
        };
        let mut indptr = vec![0u64];
        let (mut indices, mut data) = (Vec::new(), Vec::new());
        for _ in 0..rows {
            for _ in 0..if cols == 0 { 0 } else { next() % 7 } {
                indices.push((next() % cols) as u32);
                data.push(next() as f32);
            }
            indptr.push(indices.len() as u64);
        }
        Compressed { shape: (rows, cols), indptr, indices, data: Values::F32(data) }
    }

    #[test]
    fn parallel_transpose_equals_the_serial_one_with_and_without_a_panel() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(4).build().unwrap();
        for (rows, cols, seed) in [(0, 3, 1), (50, 1, 2), (200, 17, 3), (1000, 300, 4), (3, 0, 5)] {
            let csr = random_csr(rows, cols, seed);
            let keep: Vec<bool> = (0..cols).map(|c| c % 3 != 1).collect();
            for mask in [None, Some(keep.as_slice())] {
                let got = pool.install(|| csr_to_csc_kept(&csr, mask));
                let (indptr, idx, data) = reference(&csr, mask);
                assert_eq!(got.indptr, indptr, "{rows}x{cols}");
                assert_eq!(got.indices, idx, "{rows}x{cols}");
                assert_eq!(got.data, Values::F32(data), "{rows}x{cols}");
                assert_eq!(got.shape, csr.shape);
            }
        }
    }

    #[test]
    fn borrowed_int32_and_int64_structures_transpose_like_core_own() {
        let csr = random_csr(300, 40, 9);
        let Values::F32(v) = &csr.data else { unreachable!() };
        let want = csr_to_csc(&csr);
        let p32: Vec<i32> = csr.indptr.iter().map(|&p| p as i32).collect();
        let j32: Vec<i32> = csr.indices.iter().map(|&j| j as i32).collect();
        let p64: Vec<i64> = csr.indptr.iter().map(|&p| p as i64).collect();
        let j64: Vec<i64> = csr.indices.iter().map(|&j| j as i64).collect();
        let a = transpose(&CsrView { shape: csr.shape, indptr: &p32, indices: &j32 }, v, None);
        let b = transpose(&CsrView { shape: csr.shape, indptr: &p64, indices: &j64 }, v, None);
        assert_eq!((a.indptr.clone(), a.indices.clone(), a.data.clone()), (want.indptr.clone(), want.indices.clone(), want.data.clone()));
        assert_eq!((b.indptr, b.indices, b.data), (want.indptr, want.indices, want.data));
    }

    #[test]
    fn row_chunks_cover_every_row_once() {
        for (indptr, parts) in [(vec![0u64], 4), (vec![0, 10, 10, 10, 40], 2), (vec![0, 1, 2, 3], 8), (vec![0, 0, 0], 3)] {
            let r = row_chunks(&indptr, parts);
            assert_eq!(r.first().map(|x| x.0), Some(0));
            assert_eq!(r.last().map(|x| x.1), Some(indptr.len() - 1));
            assert!(r.windows(2).all(|w| w[0].1 == w[1].0 && w[0].0 <= w[0].1), "{r:?}");
        }
    }
}
