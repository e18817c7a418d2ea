//! `recommend --writer NAME`: calibration through a writer's own command (the sweep's
//! machinery: its template, a cached synthetic `.h5ad`, the sweep's params file, a fresh
//! measured child per export), for writers that are not this process's exporter.

use crate::benchmark::executor::Executor;
use crate::measure::tree::tree_stats;
use crate::plan::{self, Cell, Durability, Settings};
use crate::sweep::dataset_cache::DatasetCache;
use crate::sweep::executor::{command, RunPaths};
use crate::sweep::params::write_params;
use crate::writer::Writer;
use anyhow::{Context, Result};
use cellucid_datasets::synthetic::DatasetSpec;
use cellucid_reports::model::Codec;
use cellucid_reports::recommend::{Observation, Setting};
use std::path::Path;

/// The sweep's cell for one calibration export (the same dataset seed as the in-process
/// calibration).
fn cell(writer: &Writer, cells: usize, genes: usize, density: f64, s: Setting) -> Cell {
    Cell {
        dataset: DatasetSpec { cells, genes, density, seed: 7, ..DatasetSpec::default() },
        settings: Settings {
            var_quantization: s.var_quantization,
            obs_continuous_quantization: None,
            compression: match s.codec {
                Codec::None => plan::Codec::None,
                Codec::Gzip(l) => plan::Codec::Gzip(l),
                Codec::Zstd(l) => plan::Codec::Zstd(l),
            },
            gene_panel: None,
        },
        target: "calibration".into(),
        writer: writer.name.clone(),
        durability: Durability::Buffered,
        cold_cache: false,
        block: "calibration".into(),
        memory_limit: None,
    }
}

/// The settings `writer` can express, and a line for each it cannot.
pub fn supported(writer: &Writer, settings: &[Setting]) -> (Vec<Setting>, Vec<String>) {
    let (mut ok, mut dropped) = (Vec::new(), Vec::new());
    for &s in settings {
        match writer.supports.why_not(&cell(writer, 1, 1, 0.1, s), &writer.name) {
            None => ok.push(s),
            Some(reason) => dropped.push(format!("setting {}: left out, {reason}", s.label())),
        }
    }
    (ok, dropped)
}

/// Exports every size × setting `repeats` times with `writer` into `target`, in seeded
/// rounds as the in-process calibration does; datasets and params live in `work`.
pub fn calibrate_writer(
    writer: &Writer,
    target: &Path,
    work: &Path,
    density: f64,
    sizes: &[(usize, usize)],
    settings: &[Setting],
    repeats: usize,
) -> Result<Vec<Observation>> {
    let cache = DatasetCache::new(&work.join("datasets"))?;
    let params_dir = work.join("params");
    std::fs::create_dir_all(&params_dir).with_context(|| format!("cannot create {}", params_dir.display()))?;
    let mut points = Vec::new();
    for &(cells, genes) in sizes {
        for &s in settings {
            let c = cell(writer, cells, genes, density, s);
            let (input, _) = cache.get_or_generate(&c.dataset_id(), &c.dataset)?;
            let params = write_params(&c, &params_dir)?;
            points.push((c, s, input, params));
        }
    }
    let executor = Executor::current().context("cannot locate this executable")?;
    let mut order: Vec<usize> = (0..points.len()).collect();
    let mut rng = plan::SplitMix64::new(0x5245_434f_4d4d_454e);
    let mut obs = Vec::with_capacity(points.len() * repeats);
    let out = target.join(format!("cellucid-recommend-{}", std::process::id()));
    for round in 0..repeats {
        rng.shuffle(&mut order);
        for (n, &i) in order.iter().enumerate() {
            let (c, s, input, params) = &points[i];
            if out.exists() {
                std::fs::remove_dir_all(&out).with_context(|| format!("cannot clear {}", out.display()))?;
            }
            let paths = RunPaths { input, params, out: out.clone(), work_dir: work };
            let run = executor.run(&command(writer, c, &paths)?).with_context(|| format!("cannot run {}", writer.name))?;
            if !run.success() {
                anyhow::bail!("{} failed on {}: {}", writer.name, c.label(), run.error_line());
            }
            let tree = tree_stats(&out, false).with_context(|| format!("cannot measure {}", out.display()))?;
            eprint!("\rcalibrating {}: round {}/{repeats}, export {}/{}", writer.name, round + 1, n + 1, order.len());
            obs.push(Observation {
                setting: *s,
                cells: c.dataset.cells as f64,
                genes_exported: c.dataset.genes as f64,
                time_s: run.wall.as_secs_f64(),
                bytes: tree.bytes_apparent as f64,
                files: tree.files as f64,
            });
        }
    }
    eprintln!();
    let _ = std::fs::remove_dir_all(&out);
    Ok(obs)
}
