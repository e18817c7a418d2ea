//! The export pipeline: the reference's order of checks (FORMAT.md §2), then the
//! payloads into a staging directory, then atomic publication (§14).
//!
//! Every refusal happens before the first payload is written, and a failure at any
//! point after the transaction began rolls it back, so `out_dir` is either the previous
//! generation, untouched, or the complete new one.

use crate::error::Result;
use crate::publish::{resolve_out_dir, Transaction};
use crate::report::{ExportReport, Phase};
use crate::stage::clock::PhaseClock;
use crate::stage::output::Output;
use crate::stage::blocks::ColumnBlocks;
use crate::stage::{embeddings, gene_blocks, identity, latent, obs, side, vectors};
use crate::stage::graph;
use crate::report::monotonic_ns;
use crate::{Dataset, ExportOptions, Matrix};
use std::path::Path;

/// Progress of a running export, for progress bars.
#[derive(Clone, Copy, Debug)]
pub enum Progress {
    /// The phase that starts now.
    Phase(Phase),
    /// The gene stage starts: `total` genes to write.
    GenesStarted { total: usize },
    /// One gene file was written (`bytes` on disk).
    GeneDone { bytes: u64 },
}

/// Export `dataset` to `out_dir`, as `cellucid.prepare()` 0.9.2 would.
pub fn export(dataset: &Dataset, options: &ExportOptions, out_dir: &Path) -> Result<ExportReport> {
    export_with_progress(dataset, options, out_dir, &|_| {})
}

/// [`export`], reporting progress to `progress` (called from worker threads too).
pub fn export_with_progress(
    dataset: &Dataset,
    options: &ExportOptions,
    out_dir: &Path,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<ExportReport> {
    export_with_blocks(dataset, None, options, out_dir, progress)
}

/// [`export_with_progress`] with the gene matrix given out of core: `blocks`, when
/// given, stands for `dataset.gene_expression` (which should then be `None`) and is
/// read one column block at a time. The output is the same bytes.
pub fn export_with_blocks(
    dataset: &Dataset,
    blocks: Option<&dyn ColumnBlocks>,
    options: &ExportOptions,
    out_dir: &Path,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<ExportReport> {
    let source = blocks.map_or(GeneSource::Dataset, GeneSource::Blocks);
    export_from(dataset, source, options, out_dir, progress)
}

/// [`export_with_progress`] with the gene matrix built by `build` (standing for
/// `dataset.gene_expression`, which should then be `None`) on the export's rayon pool
/// while this thread checks the graph, embeddings and obs — mostly serial work that
/// would otherwise leave the other cores idle. The Python package builds its CSC from a
/// borrowed CSR this way. `build` cannot fail: whatever can refuse the matrix is checked
/// after it, in the reference's order, as for a matrix in the dataset. Same bytes.
pub fn export_with_built_matrix(
    dataset: &Dataset,
    build: &(dyn Fn() -> Matrix + Sync),
    options: &ExportOptions,
    out_dir: &Path,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<ExportReport> {
    export_from(dataset, GeneSource::Built(build), options, out_dir, progress)
}

/// Where the gene matrix comes from.
#[derive(Clone, Copy)]
enum GeneSource<'a> {
    /// `dataset.gene_expression`.
    Dataset,
    /// Out of core, a column block at a time.
    Blocks(&'a dyn ColumnBlocks),
    /// Built beside the other inputs' checks.
    Built(&'a (dyn Fn() -> Matrix + Sync)),
}

/// The checked inputs other than genes and vectors (D.4–D.6).
struct Early {
    graph: Option<graph::Graph>,
    norms: Vec<embeddings::Normalized>,
    obs: obs::Obs,
}

/// D.4–D.6 in the reference's order: graph, embeddings, latent and obs.
fn early_checks(dataset: &Dataset, options: &ExportOptions, checked: &embeddings::Checked, clock: &mut PhaseClock) -> Result<Early> {
    let n = checked.n_cells;
    clock.switch(Phase::Graph);
    let graph = graph::prepare(dataset.connectivities.as_ref(), n)?;
    clock.switch(Phase::Embeddings);
    let norms = embeddings::normalize(checked)?;
    clock.switch(Phase::Obs);
    let latent = latent::prepare(dataset, n)?;
    let obs = obs::prepare(dataset, options, n, &norms, &latent)?;
    Ok(Early { graph, norms, obs })
}

/// [`early_checks`] while `build` makes the gene matrix on another of the pool's
/// threads; the build's CPU is charged to the gene phase.
fn early_checks_beside(
    dataset: &Dataset,
    options: &ExportOptions,
    checked: &embeddings::Checked,
    clock: &mut PhaseClock,
    build: &(dyn Fn() -> Matrix + Sync),
) -> (Result<Early>, Matrix) {
    clock.begin_background(Phase::Genes);
    let ((early, checks_end), (matrix, start, end)) = rayon::join(
        || {
            let early = early_checks(dataset, options, checked, clock);
            // Waiting for (and helping) the build is gene-phase time.
            clock.switch(Phase::Genes);
            (early, monotonic_ns())
        },
        || {
            let start = monotonic_ns();
            (build(), start, monotonic_ns())
        },
    );
    clock.end_background(end.min(checks_end).saturating_sub(start));
    (early, matrix)
}

fn export_from(
    dataset: &Dataset,
    source: GeneSource<'_>,
    options: &ExportOptions,
    out_dir: &Path,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<ExportReport> {
    let mut clock = PhaseClock::start(Phase::Validation);
    progress(Progress::Phase(Phase::Validation));
    // A. Arguments, before anything touches the disk.
    options.check_arguments()?;
    let out_dir = resolve_out_dir(out_dir)?;
    // B, C. Lock, recovery, out_dir checks, journal, stage. Dropping `txn` rolls back.
    let txn = Transaction::begin(&out_dir, options.force)?;
    // D. Everything that can refuse the input, before the first payload.
    options.check_codecs()?;
    let checked = embeddings::check(dataset)?;
    let n = checked.n_cells;
    let (early, built) = match source {
        GeneSource::Built(build) => {
            let (early, matrix) = early_checks_beside(dataset, options, &checked, &mut clock, build);
            (early, Some(matrix))
        }
        _ => (early_checks(dataset, options, &checked, &mut clock), None),
    };
    let Early { graph, norms, obs } = early?;
    clock.switch(Phase::Genes);
    let genes = match source {
        GeneSource::Dataset => gene_blocks::prepare_in_memory(dataset, dataset.gene_expression.as_ref(), options, n)?,
        GeneSource::Blocks(blocks) => gene_blocks::prepare_blocks(dataset, blocks, options, n)?,
        GeneSource::Built(_) => gene_blocks::prepare_in_memory(dataset, built.as_ref(), options, n)?,
    };
    clock.switch(Phase::Vectors);
    let vectors = vectors::prepare(dataset, options, n, &norms)?;
    clock.switch(Phase::Genes);
    if let Some(g) = &genes {
        g.preflight()?;
    }
    clock.switch(Phase::Obs);
    obs::check_outlier_sets(&obs, options)?;

    // D.10. Payloads and manifests, in the reference's order.
    let output = Output::new(txn.stage_dir(), options);
    clock.switch(Phase::Embeddings);
    progress(Progress::Phase(Phase::Embeddings));
    let w = embeddings::write(&norms, &output)?;
    clock.add_output(Phase::Embeddings, w.files, w.raw_bytes, w.bytes);
    if let Some(v) = &vectors {
        clock.switch(Phase::Vectors);
        progress(Progress::Phase(Phase::Vectors));
        let w = vectors::write(v, &output)?;
        clock.add_output(Phase::Vectors, w.files, w.raw_bytes, w.bytes);
    }
    // Obs and the graph are written while the genes compress (rayon::join): their files
    // are independent of the genes', so the folder is the sequence's, byte for byte.
    // Each phase keeps its own wall time; the side branch's thread CPU is charged to
    // obs and graph and taken off the gene phase, which spans the join.
    clock.switch(Phase::Genes);
    // The three phases start together: obs and the graph are announced first, the genes
    // last, so that a progress display ends on the gene bar (the long one).
    progress(Progress::Phase(Phase::Obs));
    if graph.is_some() {
        progress(Progress::Phase(Phase::Graph));
    }
    progress(Progress::Phase(Phase::Genes));
    let (genes_written, side) = rayon::join(
        || {
            genes.as_ref().map(|g| {
                progress(Progress::GenesStarted { total: g.ids().len() });
                g.write(options, &output, &|bytes| progress(Progress::GeneDone { bytes }))
            })
        },
        || side::write(&obs, graph.as_ref(), options, n, &output),
    );
    // Errors in the sequence's order: obs, genes, graph.
    let side = side.into_results()?;
    let genes_written = genes_written.transpose()?;
    for part in side.into_iter().flatten() {
        clock.charge(part.phase, part.wall_ns, part.cpu_ns);
        clock.add_output(part.phase, part.written.files, part.written.raw_bytes, part.written.bytes);
    }
    if let Some(w) = genes_written {
        clock.add_output(Phase::Genes, w.files, w.raw_bytes, w.bytes);
    }
    clock.switch(Phase::Identity);
    progress(Progress::Phase(Phase::Identity));
    let n_genes = genes.as_ref().map_or(0, |g| g.ids().len());
    let spill_bytes = genes.as_ref().map_or(0, |g| g.spill_bytes());
    let summary = identity::Summary {
        n_cells: n,
        n_genes,
        dims: &checked.dims,
        obs: &obs,
        n_edges: graph.as_ref().map(|g| g.src.len()),
        vectors: vectors.as_ref(),
    };
    let w = identity::write(&summary, options, &output)?;
    clock.add_output(Phase::Identity, w.files, w.raw_bytes, w.bytes);
    let (files, dirs, raw_bytes, bytes) = output.totals();

    // E. Publication.
    clock.switch(Phase::Publish);
    progress(Progress::Phase(Phase::Publish));
    txn.commit(options.durability)?;
    let (phases, wall, cpu) = clock.finish();
    Ok(ExportReport {
        phases,
        wall,
        cpu,
        files_written: files,
        directories_created: dirs,
        raw_bytes,
        bytes_written: bytes,
        n_cells: n as u64,
        n_genes: n_genes as u64,
        n_edges: graph.as_ref().map(|g| g.src.len() as u64),
        threads: rayon::current_num_threads(),
        spill_bytes,
    })
}
