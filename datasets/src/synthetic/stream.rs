//! Generating a dataset straight into an `.h5ad`, X by blocks of rows, so that atlases
//! (2M cells × 20k genes at 5 %: 2·10⁹ non-zeros, a 16 GB X) are generated in memory
//! proportional to the cells, not to the non-zeros.
//!
//! CSR X is generated a block of [`CHUNKS_PER_BLOCK`] random-stream chunks at a time
//! (in parallel within the block), normalised per cell (a cell's total is known once its
//! row is), and appended to the file (`h5ad::write_stream`); the per-cell totals are
//! kept for `obs`. Every other part is built as [`super::generate`] builds it, after X.
//! The matrix is the in-memory generator's, bit for bit: both call `counts::chunk_lines`
//! with the same streams and normalise with the same function (tested). CSC and dense
//! layouts are generated in memory and written whole.

use rayon::prelude::*;

use super::counts::{self, Chunk, Scratch, CELLS_PER_CHUNK};
use super::spec::{DatasetSpec, Layout, Normalisation, SpecError};
use super::{everything_but_x, population, GenerationStats};
use crate::h5ad::{self, H5adError, StreamingH5ad};

/// Random-stream chunks (of 256 cells) generated and appended together: 16,384 cells,
/// ~130 MB of entries at 20k genes and 5 %.
const CHUNKS_PER_BLOCK: usize = 64;

/// Why a dataset could not be generated into a file.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(transparent)]
    H5ad(#[from] H5adError),
}

/// Generates `spec` into the `.h5ad` at `path` (created or truncated); `progress` is
/// called with (cells written, cells) after each block of X.
pub fn write_h5ad(spec: &DatasetSpec, path: &std::path::Path, progress: &dyn Fn(usize, usize)) -> Result<GenerationStats, GenerateError> {
    if spec.layout != Layout::Csr {
        let g = super::generate_with_stats(spec)?;
        h5ad::write(&g.dataset, path)?;
        progress(spec.cells, spec.cells);
        return Ok(g.stats);
    }
    spec.validate()?;
    let pop = population(spec);
    let programme = counts::programme(spec);
    let sampler = counts::Sampler::new(&spec.count_model);
    let alpha = counts::calibrate(spec, &pop, &programme, &sampler);
    let groups = counts::gene_groups(spec, &programme);
    drop(programme);
    let line = counts::cell_line(&pop, &groups, &sampler, alpha);

    let file = StreamingH5ad::create(path)?;
    let mut x = file.csr_x((spec.cells, spec.genes))?;
    let mut totals: Vec<u64> = Vec::with_capacity(spec.cells);
    let n_chunks = spec.cells.div_ceil(CELLS_PER_CHUNK);
    let expected = spec.density * spec.genes as f64;
    for first in (0..n_chunks).step_by(CHUNKS_PER_BLOCK) {
        let last = (first + CHUNKS_PER_BLOCK).min(n_chunks);
        let block: Vec<(Chunk, Vec<u64>)> = (first..last)
            .into_par_iter()
            .map_init(
                || Scratch::new(spec.genes),
                |scratch, c| {
                    let mut chunk = counts::chunk_lines(spec.seed, c, spec.cells, CELLS_PER_CHUNK, expected, &line, scratch);
                    let chunk_totals = normalise(&mut chunk, spec.normalisation);
                    (chunk, chunk_totals)
                },
            )
            .collect();
        for (chunk, chunk_totals) in &block {
            x.append_rows(&chunk.lens, &chunk.indices, &chunk.values)?;
            totals.extend_from_slice(chunk_totals);
        }
        progress(x.rows(), spec.cells);
    }
    let nnz = x.finish()?;
    let (rest, graph_edges) = everything_but_x(spec, &pop, &totals);
    file.finish(&rest)?;
    Ok(GenerationStats {
        nnz,
        achieved_density: nnz as f64 / (spec.cells as f64 * spec.genes as f64),
        expression_scale: alpha,
        graph_edges,
    })
}

/// Each row's total raw count, and the row normalised in place when the spec asks for it.
fn normalise(chunk: &mut Chunk, how: Normalisation) -> Vec<u64> {
    let mut totals = Vec::with_capacity(chunk.lens.len());
    let mut start = 0;
    for &n in &chunk.lens {
        let row = &mut chunk.values[start..start + n as usize];
        // Integer sums: any order gives the in-memory generator's totals.
        let total: u64 = row.iter().map(|&v| v as u64).sum();
        if how == Normalisation::Log1pCp10k {
            let factor = counts::cp10k_factor(total);
            row.iter_mut().for_each(|v| *v = counts::log1p_cp10k(*v, factor));
        }
        totals.push(total);
        start += n as usize;
    }
    totals
}
