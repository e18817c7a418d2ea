//! A gene matrix that is not in memory: column blocks loaded one at a time.
//!
//! An input larger than the memory budget (an atlas stored as CSR) is transposed out
//! of core by its reader into blocks of consecutive var columns; the gene stage pulls
//! one block at a time, as CSC, and writes its genes with the same worker as an
//! in-memory matrix, so the bytes cannot differ. Only the reader knows where the
//! blocks live (spill files, column ranges of the input file), hence a trait.

use crate::dataset::{Compressed, DType};
use crate::error::Result;

/// Column blocks of a `(rows, cols)` gene matrix.
pub trait ColumnBlocks: Sync {
    /// `(cells, genes)`, as the whole matrix's `.shape`.
    fn shape(&self) -> (usize, usize);
    /// The stored element type (duplicates are summed in it, as in memory).
    fn dtype(&self) -> DType;
    /// Block boundaries: block `b` holds var columns `starts[b]..starts[b + 1]`; the
    /// last entry is the column count.
    fn starts(&self) -> &[usize];
    /// Block `b` as CSC of shape `(cells, width)`, columns numbered from the block's
    /// start, each column's entries in the order an in-memory CSR → CSC conversion
    /// gives (row order, duplicates in storage order).
    fn load(&self, block: usize) -> Result<Compressed>;
    /// Bytes the blocks occupy outside memory (spill files), for the report.
    fn spill_bytes(&self) -> u64;
    /// Whether var column `col` is known to pass the pre-flight without loading it:
    /// every stored value finite and float32-safe, and no duplicate entry (whose sum
    /// the pre-flight would have to check). A reader that saw every entry while
    /// spilling knows this; `false` means "load and check".
    fn known_clean(&self, _col: usize) -> bool {
        false
    }
}

/// The block holding var column `col`.
pub fn block_of(starts: &[usize], col: usize) -> usize {
    starts.partition_point(|&s| s <= col).saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::block_of;

    #[test]
    fn columns_map_to_their_block() {
        let starts = [0, 3, 4, 10];
        assert_eq!(block_of(&starts, 0), 0);
        assert_eq!(block_of(&starts, 2), 0);
        assert_eq!(block_of(&starts, 3), 1);
        assert_eq!(block_of(&starts, 4), 2);
        assert_eq!(block_of(&starts, 9), 2);
    }
}
