//! The gene stage over either matrix: in memory ([`Genes`]) or out of core
//! ([`BlockGenes`], column blocks pulled one at a time from a [`ColumnBlocks`]).
//!
//! A block is loaded as CSC and becomes an ordinary in-memory [`Genes`] view of its
//! columns, so pre-flight, encoding and writing run the very code of the in-memory
//! path: same worker, same file names (`var/{g}` by panel position), same manifest.
//! Only the panel's blocks are loaded; each block is dropped before the next loads, so
//! memory holds one block at a time.

use super::blocks::{block_of, ColumnBlocks};
use super::genes::{check_dtype, prepare_matrix, select, write_manifest, Columns, Genes};
use crate::dataset::{Dataset, Matrix};
use super::output::{Output, Written};
use crate::error::{ExportError, Result};
use crate::options::ExportOptions;
use std::borrow::Cow;

/// The prepared gene stage.
pub enum GeneStage<'a> {
    Memory(Genes<'a>),
    Blocks(BlockGenes<'a>),
}

/// Exported genes whose matrix is read block by block.
pub struct BlockGenes<'a> {
    pub ids: Vec<String>,
    /// Var column of each exported gene, in panel order.
    pub columns: Vec<usize>,
    pub blocks: &'a dyn ColumnBlocks,
    pub n_cells: usize,
}

impl GeneStage<'_> {
    /// Exported gene ids, in panel order.
    pub fn ids(&self) -> &[String] {
        match self {
            GeneStage::Memory(g) => &g.ids,
            GeneStage::Blocks(g) => &g.ids,
        }
    }

    /// D.9, see [`Genes::preflight`].
    pub fn preflight(&self) -> Result<()> {
        match self {
            GeneStage::Memory(g) => g.preflight(),
            GeneStage::Blocks(g) => g.preflight(),
        }
    }

    /// Every exported gene and the manifest.
    pub fn write(&self, options: &ExportOptions, output: &Output, on_gene: &(dyn Fn(u64) + Sync)) -> Result<Written> {
        match self {
            GeneStage::Memory(g) => g.write(options, output, on_gene),
            GeneStage::Blocks(g) => g.write(options, output, on_gene),
        }
    }

    /// Bytes spilled outside memory for this stage (0 in memory).
    pub fn spill_bytes(&self) -> u64 {
        match self {
            GeneStage::Memory(_) => 0,
            GeneStage::Blocks(g) => g.blocks.spill_bytes(),
        }
    }
}

/// D.7 for a gene matrix in memory: `matrix` stands for `ds.gene_expression` (it is
/// that, or one built outside the dataset).
pub fn prepare_in_memory<'a>(
    ds: &Dataset,
    matrix: Option<&'a Matrix>,
    options: &ExportOptions,
    n_cells: usize,
) -> Result<Option<GeneStage<'a>>> {
    Ok(prepare_matrix(matrix, ds, options, n_cells)?.map(GeneStage::Memory))
}

/// D.7 for a gene matrix given out of core as column blocks (`src` stands for
/// `ds.gene_expression`; the checks are the same).
pub fn prepare_blocks<'a>(
    ds: &Dataset,
    src: &'a dyn ColumnBlocks,
    options: &ExportOptions,
    n_cells: usize,
) -> Result<Option<GeneStage<'a>>> {
    let (rows, cols) = src.shape();
    let (ids, columns) = select(ds.var.as_ref(), &[rows, cols], options, n_cells)?;
    Ok(Some(GeneStage::Blocks(BlockGenes { ids, columns, blocks: src, n_cells })))
}

/// One loaded block as an in-memory view: its exported genes as `(g, local column)`.
struct BlockView<'a> {
    genes: Genes<'a>,
    jobs: Vec<(usize, usize)>,
}

impl<'a> BlockGenes<'a> {
    /// Panel positions grouped by block: `(g, column within the block)`, g ascending.
    fn jobs_by_block(&self) -> Vec<Vec<(usize, usize)>> {
        let starts = self.blocks.starts();
        let mut by_block = vec![Vec::new(); starts.len().saturating_sub(1)];
        for (g, &col) in self.columns.iter().enumerate() {
            let b = block_of(starts, col);
            by_block[b].push((g, col - starts[b]));
        }
        by_block
    }

    /// Load block `b` (a CSC of its columns) as a view of the genes `jobs` export from it.
    fn view(&self, b: usize, jobs: Vec<(usize, usize)>) -> Result<BlockView<'a>> {
        let csc = self.blocks.load(b)?;
        let (starts, (rows, _)) = (self.blocks.starts(), self.blocks.shape());
        let width = starts[b + 1] - starts[b];
        if csc.shape != (rows, width) || csc.indptr.len() != width + 1 {
            return Err(ExportError::Internal(format!(
                "gene block {b} has shape {:?}, expected ({rows}, {width})",
                csc.shape
            )));
        }
        let columns = jobs.iter().map(|&(_, c)| c).collect();
        let genes = Genes { ids: Vec::new(), columns, matrix: Columns::Csc(Cow::Owned(csc)), n_cells: self.n_cells };
        Ok(BlockView { genes, jobs })
    }

    /// D.9 over the blocks, before any payload: the first failing gene in panel order
    /// wins, whichever block holds it. Only blocks holding a column the reader could
    /// not vouch for ([`ColumnBlocks::known_clean`]) are loaded.
    pub fn preflight(&self) -> Result<()> {
        if !check_dtype(self.blocks.dtype(), &self.ids)? {
            return Ok(());
        }
        let mut first: Option<(usize, ExportError)> = None;
        for (b, mut jobs) in self.jobs_by_block().into_iter().enumerate() {
            // Columns the reader already vouches for need not be read again.
            let start = self.blocks.starts()[b];
            jobs.retain(|&(_, c)| !self.blocks.known_clean(start + c));
            if jobs.is_empty() {
                continue;
            }
            let v = self.view(b, jobs)?;
            let Some(pos) = v.genes.first_unclean() else { continue };
            let g = v.jobs[pos].0;
            if first.as_ref().is_none_or(|(best, _)| g < *best) {
                first = Some((g, v.genes.non_finite(pos, &self.ids[g])));
            }
        }
        first.map_or(Ok(()), |(_, e)| Err(e))
    }

    /// Every exported gene, one block at a time, then the manifest.
    pub fn write(&self, options: &ExportOptions, output: &Output, on_gene: &(dyn Fn(u64) + Sync)) -> Result<Written> {
        output.mkdir("var")?;
        let mut results = vec![(None, Written::default()); self.ids.len()];
        for (b, jobs) in self.jobs_by_block().into_iter().enumerate() {
            if jobs.is_empty() {
                continue;
            }
            let v = self.view(b, jobs)?;
            for (g, bounds, written) in v.genes.write_payloads(&v.jobs, options, output, on_gene)? {
                results[g] = (bounds, written);
            }
        }
        write_manifest(&self.ids, results, self.n_cells, options, output)
    }
}
