//! Predicting one run's peak memory (resident set) per writer, so that a sweep or a
//! recommendation can warn before a run that would not fit in RAM.
//!
//! A run's peak RSS is modelled from the dataset's parts, each with its own cost per
//! byte, because they are held differently: the expression matrix (`X`, as CSR/CSC: an
//! f32 value and an i32 index per non-zero, or dense f32), the graph (12 bytes an edge:
//! value, row, column) and the other per-cell arrays (embeddings, latent, obs):
//!
//! ```text
//! peak = margin × (fixed + x × X bytes + g × graph bytes + o × other bytes)
//! ```
//!
//! Fitted by least squares on every stored run of `docs/measurements/` (2026-12-01 and
//! -02, 10,000 to 500,000 cells, 100 to 20,000 genes, with and without graphs):
//!
//! | writer | fixed | x | g | o | runs | worst measured / fit |
//! |---|---|---|---|---|---|---|
//! | ours (cellucid-bench) | 23 MB | 1.00 | 2.8 | 3.0 | 49 | 1.21 |
//! | cellucid 0.9.2 | 117 MB | 1.99 | 3.7 | 2.7 | 35 | 1.09 |
//!
//! (0.9.2 holds the CSR it read and the CSC `tocsc()` makes of it; ours converts once and
//! drops nothing it still needs.) The defaults below round those coefficients up and add
//! a 25 % margin, so they bound every stored run. Every writer other than ours gets the
//! reference's model until its own runs are known: cellucid 0.9.5's two stored atlas runs
//! (200k and 500k × 20k) fall within 1 % of it, and cellucid-r was never measured here
//! (an R session holding a dgCMatrix and its transpose needs at least as much).
//! [`MemoryScales::from_runs`] refits a writer's margin on its own stored runs.

use cellucid_datasets::synthetic::{DatasetSpec, GraphSpec, Layout};
use std::collections::BTreeMap;

/// Peak-RSS model of one writer; see the module docs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MemoryModel {
    pub fixed_bytes: f64,
    pub per_matrix_byte: f64,
    pub per_graph_byte: f64,
    pub per_other_byte: f64,
    /// The share of a memory limit the writer gives its gene matrix (ours: half, see
    /// `export --memory-limit`); `None`: the writer has no limit and holds it whole.
    pub matrix_share_of_limit: Option<f64>,
    /// Multiplies the sum: 1.25 by default, or the worst measured/predicted ratio of the
    /// writer's own runs when they are known.
    pub margin: f64,
}

/// The default margin over the least-squares fit (module docs).
pub const DEFAULT_MARGIN: f64 = 1.25;

impl MemoryModel {
    /// Our exporter: the matrix once, plus its CSC when the input is CSR.
    pub const OURS: MemoryModel =
        MemoryModel {
            fixed_bytes: 32e6,
            per_matrix_byte: 1.0,
            per_graph_byte: 3.0,
            per_other_byte: 3.0,
            matrix_share_of_limit: Some(0.5),
            margin: DEFAULT_MARGIN,
        };
    /// cellucid 0.9.2 (and, until measured, every other writer): Python's imports, the
    /// matrix as read and as converted.
    pub const REFERENCE: MemoryModel =
        MemoryModel {
            fixed_bytes: 128e6,
            per_matrix_byte: 2.0,
            per_graph_byte: 4.0,
            per_other_byte: 3.0,
            matrix_share_of_limit: None,
            margin: DEFAULT_MARGIN,
        };

    /// The model of the writer named `writer`.
    pub fn for_writer(writer: &str) -> MemoryModel {
        if writer == crate::writer::OURS {
            MemoryModel::OURS
        } else {
            MemoryModel::REFERENCE
        }
    }

    /// The model's sum before the margin, for a run under `limit` bytes of memory budget
    /// (ours: the `--memory-limit`, or its default; other writers have none).
    pub fn unscaled_bytes(&self, d: &DatasetSpec, limit: Option<u64>) -> f64 {
        let parts = DatasetParts::of(d);
        let matrix = self.per_matrix_byte * parts.matrix;
        // Above its share of the limit, the matrix is spilled and held one block at a time.
        let matrix = match (self.matrix_share_of_limit, limit) {
            (Some(share), Some(limit)) => matrix.min(share * limit as f64),
            _ => matrix,
        };
        self.fixed_bytes + matrix + self.per_graph_byte * parts.graph + self.per_other_byte * parts.other
    }

    /// Predicted peak RSS of one run of this writer on `d` under `limit`.
    pub fn peak_bytes(&self, d: &DatasetSpec, limit: Option<u64>) -> f64 {
        self.margin * self.unscaled_bytes(d, limit)
    }
}

/// The bytes of a dataset's parts as the model sees them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DatasetParts {
    pub matrix: f64,
    pub graph: f64,
    pub other: f64,
}

impl DatasetParts {
    pub fn of(d: &DatasetSpec) -> DatasetParts {
        let n = d.cells as f64;
        let matrix = match d.layout {
            Layout::Dense => n * d.genes as f64 * 4.0,
            _ => n * d.genes as f64 * d.density * 8.0,
        };
        let edges = match d.graph {
            GraphSpec::None => 0.0,
            // Symmetrised kNN: between k and 2k entries a cell.
            GraphSpec::Knn { k } => n * k as f64 * 1.5,
            GraphSpec::Density { edges_per_cell } => n * edges_per_cell * 2.0,
        };
        let dims: usize = d.embedding_dims.iter().sum();
        let columns = d.latent_dims + dims + d.continuous_fields.count + d.categorical_fields.len();
        DatasetParts { matrix, graph: edges * 12.0, other: n * columns as f64 * 4.0 }
    }
}

/// Per-writer margins refitted on measured runs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MemoryScales(pub BTreeMap<String, f64>);

impl MemoryScales {
    /// `runs`: `(writer, dataset, measured peak RSS bytes)`. A writer's margin becomes the
    /// worst measured / unscaled ratio of its runs (never below 1.05: a bound that
    /// leaves nothing for a run that reads a little more than the stored ones would warn
    /// too late). Runs without an RSS (0, a writer that was not measured) are ignored.
    pub fn from_runs<'a>(runs: impl IntoIterator<Item = (&'a str, &'a DatasetSpec, u64)>) -> MemoryScales {
        let mut worst: BTreeMap<String, f64> = BTreeMap::new();
        for (writer, d, rss) in runs {
            if rss == 0 {
                continue;
            }
            // Stored runs carry no limit: an unlimited fit is an upper bound of theirs.
            let ratio = rss as f64 / MemoryModel::for_writer(writer).unscaled_bytes(d, None);
            let w = worst.entry(writer.to_string()).or_insert(1.05);
            *w = w.max(ratio);
        }
        MemoryScales(worst)
    }

    /// The model of `writer`, with its refitted margin when one is known.
    pub fn model(&self, writer: &str) -> MemoryModel {
        let mut m = MemoryModel::for_writer(writer);
        if let Some(&margin) = self.0.get(writer) {
            m.margin = margin;
        }
        m
    }
}

/// RAM this machine can give a run now (`MemAvailable`), when it can be read.
pub fn available_ram_bytes() -> Option<u64> {
    let mut sys = sysinfo::System::new();
    sys.refresh_memory();
    let avail = sys.available_memory();
    (avail > 0).then_some(avail)
}

/// Our exporter's default `--memory-limit`: half of the RAM available now, so that an
/// export never pushes the machine into swap; 2 GiB where that cannot be read.
pub fn default_memory_limit() -> u64 {
    available_ram_bytes().map_or(2 << 30, |b| b / 2)
}

/// `4G`, `512M`, `64k`, `1.5G`, `1000` (bytes); K/M/G/T are binary (KiB, MiB, …), an
/// optional `B`/`iB` after them is accepted. The error says why, without the flag's name.
pub fn parse_memory_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (num, unit) = match t.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => (&t[..i], t[i..].to_ascii_lowercase()),
        None => (t, String::new()),
    };
    let scale: u64 = match unit.trim_end_matches("ib").trim_end_matches('b') {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        "t" => 1 << 40,
        _ => return Err(format!("{text:?}: unknown unit (expected K, M, G or T)")),
    };
    match num.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok((v * scale as f64).round().max(1.0) as u64),
        _ => Err(format!("{text:?} is not a positive size like 4G or 512M")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(cells: usize, genes: usize, density: f64) -> DatasetSpec {
        DatasetSpec { cells, genes, density, ..DatasetSpec::default() }
    }

    #[test]
    fn the_defaults_bound_the_stored_atlas_runs() {
        // docs/measurements/2026-12-02: 500,000 x 20,000 at 5 %, no graph: ours peaked at
        // 4,255 MB, cellucid 0.9.2 at 8,293 MB, 0.9.5 at 8,318 MB.
        let d = spec(500_000, 20_000, 0.05);
        let ours = MemoryModel::OURS.peak_bytes(&d, None);
        let reference = MemoryModel::REFERENCE.peak_bytes(&d, None);
        assert!(ours > 4_255e6 && ours < 1.5 * 4_255e6, "{ours}");
        assert!(reference > 8_318e6 && reference < 1.5 * 8_318e6, "{reference}");
    }

    #[test]
    fn a_memory_limit_bounds_our_matrix_and_no_other_writers() {
        // 2M x 20k at 5 %: a 16 GB matrix; ours under 4 GiB holds 2 GiB of it at a time.
        let d = spec(2_000_000, 20_000, 0.05);
        let limited = MemoryModel::OURS.peak_bytes(&d, Some(4 << 30));
        assert!(limited < 4.5e9 && limited > 2.0 * (1u64 << 30) as f64, "{limited}");
        assert!(MemoryModel::OURS.peak_bytes(&d, None) > 16e9);
        assert_eq!(MemoryModel::REFERENCE.peak_bytes(&d, Some(4 << 30)), MemoryModel::REFERENCE.peak_bytes(&d, None));
    }

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_memory_size("4G"), Ok(4 << 30));
        assert_eq!(parse_memory_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_memory_size("64k"), Ok(64 << 10));
        assert_eq!(parse_memory_size("1000"), Ok(1000));
        assert_eq!(parse_memory_size("1.5G"), Ok(3 << 29));
        for bad in ["-1G", "4X", "G", "", "nanG"] {
            assert!(parse_memory_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_writer_but_ours_gets_the_reference_model() {
        assert_eq!(MemoryModel::for_writer(crate::writer::OURS), MemoryModel::OURS);
        assert_eq!(MemoryModel::for_writer("cellucid-r-0.9.1"), MemoryModel::REFERENCE);
    }

    #[test]
    fn the_graph_and_a_dense_layout_count() {
        let sparse = spec(100_000, 2_000, 0.1);
        let graph = DatasetSpec { graph: GraphSpec::Knn { k: 15 }, ..sparse.clone() };
        let dense = DatasetSpec { layout: Layout::Dense, ..sparse.clone() };
        let m = MemoryModel::OURS;
        assert!(m.peak_bytes(&graph, None) > m.peak_bytes(&sparse, None) + 3.0 * 100_000.0 * 15.0 * 1.5 * 12.0);
        // Dense f32 is 4 bytes a value against 8 a non-zero at 10 %: five times the matrix.
        assert!((DatasetParts::of(&dense).matrix / DatasetParts::of(&sparse).matrix - 5.0).abs() < 1e-9);
    }

    #[test]
    fn own_runs_refit_the_margin_upwards_and_downwards() {
        let d = spec(200_000, 2_000, 0.05);
        let unscaled = MemoryModel::OURS.unscaled_bytes(&d, None);
        let hungry = MemoryScales::from_runs([("cellucid-bench", &d, (2.0 * unscaled) as u64), ("cellucid-bench", &d, 0)]);
        assert!((hungry.model("cellucid-bench").margin - 2.0).abs() < 1e-6);
        let lean = MemoryScales::from_runs([("cellucid-bench", &d, (0.5 * unscaled) as u64)]);
        assert!((lean.model("cellucid-bench").margin - 1.05).abs() < 1e-9);
        assert_eq!(lean.model("cellucid-py-0.9.2").margin, DEFAULT_MARGIN);
    }
}
