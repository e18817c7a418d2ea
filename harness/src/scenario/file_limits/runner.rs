//! One export of the scenario, run exactly as the sweep runs a cell: a synthetic dataset
//! from the sweep's dataset cache (`.h5ad`, generated once per spec), the sweep's params
//! for the cell (plus a gene subset or `force` where a step needs them), the writer's
//! command from its template, wrapped by the target (`ulimit-nofile:N`), as a measured
//! child through the launcher (`scenario::export`, shared by every scenario).

use crate::benchmark::executor::{ChildRun, Executor};
use crate::plan::{Cell, Codec, Durability, Settings};
use crate::sweep::dataset_cache::DatasetCache;
use crate::sweep::executor::RunPaths;
use crate::target::Target;
use crate::writer::Writer;
use anyhow::Result;
use serde_json::Value;
use cellucid_datasets::synthetic::DatasetSpec;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Cells of every dataset: small, so a step costs its files, not its values.
pub const CELLS: usize = 200;

/// Runs one writer's exports on one target.
pub struct Runner<'a> {
    pub executor: &'a Executor,
    pub cache: &'a DatasetCache,
    /// Where params files go.
    pub params_dir: &'a Path,
    /// The writer's `{workdir}`.
    pub work_dir: &'a Path,
    pub target: &'a Target,
    pub writer: &'a Writer,
    /// Numbers the params files.
    pub runs: usize,
}

/// What one export writes.
#[derive(Clone, Debug)]
pub struct Export {
    /// Genes of the dataset.
    pub genes: usize,
    /// Export only these genes (`gene_identifiers`); `None`: all.
    pub subset: Option<Range<usize>>,
    /// `force=True`: replace an existing `out_dir`.
    pub force: bool,
}

impl Export {
    pub fn all(genes: usize) -> Export {
        Export { genes, subset: None, force: false }
    }
}

/// The sweep cell of a dataset of `genes` genes: q8, gzip 6, buffered, warm.
pub fn cell(genes: usize, target: &str, writer: &str) -> Cell {
    Cell {
        dataset: DatasetSpec { cells: CELLS, genes, ..DatasetSpec::default() },
        settings: Settings { var_quantization: Some(8), obs_continuous_quantization: None, compression: Codec::Gzip(6), gene_panel: None },
        target: target.into(),
        writer: writer.into(),
        durability: Durability::Buffered,
        cold_cache: false,
        block: "too-many-files".into(),
        memory_limit: None,
    }
}

impl Runner<'_> {
    /// The cell of a dataset of `genes` genes for this writer and target.
    pub fn cell(&self, genes: usize) -> Cell {
        cell(genes, &self.target.spec.to_string(), &self.writer.name)
    }

    /// Runs `export` into `out`.
    pub fn run(&mut self, export: &Export, out: &Path) -> Result<ChildRun> {
        let cell = self.cell(export.genes);
        let (input, _) = self.cache.get_or_generate(&cell.dataset_id(), &cell.dataset)?;
        let params_file = self.params_file(&cell, export)?;
        let paths = RunPaths { input: &input, params: &params_file, out: out.to_path_buf(), work_dir: self.work_dir };
        super::super::export::run(self.executor, self.writer, &cell, &paths, Some(self.target))
    }

    /// The cell's params as the sweep writes them, with the subset and `force`.
    fn params_file(&mut self, cell: &Cell, export: &Export) -> Result<PathBuf> {
        let mut extra: Vec<(&str, Value)> = Vec::new();
        if let Some(r) = &export.subset {
            extra.push(("gene_identifiers", r.clone().map(|g| format!("gene_{g}")).collect::<Vec<_>>().into()));
        }
        if export.force {
            extra.push(("force", true.into()));
        }
        self.runs += 1;
        let path = self.params_dir.join(format!("{}-{}.params.json", cell.id(), self.runs));
        super::super::export::write_params(cell, &extra, &path)?;
        Ok(path)
    }
}
