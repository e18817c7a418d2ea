//! `DatasetSpec`: what to generate, readable from and writable to TOML.
//!
//! Every field has a default, so a spec file only names what it changes:
//!
//! ```toml
//! cells = 200000
//! genes = 20000
//! density = 0.05
//! layout = "csc"
//! count_model = { kind = "negative_binomial", dispersion = 0.3 }
//! graph = { kind = "knn", k = 15 }
//! seed = 7
//! ```
//!
//! [`DatasetSpec::validate`] refuses impossible specs and names the offending field.

use serde::{Deserialize, Serialize};

/// How counts are drawn given a cell's expected count `mu`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum CountModel {
    /// Gamma–Poisson counts with variance `mu + dispersion * mu^2` (overdispersed, like
    /// real UMI data; 0.1–1 is typical).
    NegativeBinomial { dispersion: f64 },
    /// Poisson counts (variance = mean).
    Poisson,
}

/// What the stored expression values are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Normalisation {
    /// `ln(1 + count / total_counts_of_cell * 1e4)` as f32 (scanpy's normalize_total + log1p).
    Log1pCp10k,
    /// The raw integer counts, stored as f32.
    None,
}

/// How the expression matrix is stored in the [`Dataset`](cellucid_core::Dataset).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    Csr,
    Csc,
    /// Row-major dense f32: `cells * genes * 4` bytes, so only for small specs.
    Dense,
}

/// The connectivity graph to generate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum GraphSpec {
    /// No `connectivities`.
    None,
    /// Each cell links to its `k` nearest latent-space neighbours among nearby candidates,
    /// then the graph is made symmetric (so degrees are at least `k`).
    Knn { k: usize },
    /// About `edges_per_cell` undirected edges per cell, with a varying degree.
    Density { edges_per_cell: f64 },
}

/// The continuous obs fields: `n_counts`, `percent_mito`, `score`, then `continuous_<i>`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContinuousFields {
    pub count: usize,
    /// Share of each continuous field's values replaced by NaN. The exporter refuses NaN in
    /// continuous obs, so a spec with `nan_share > 0` is meant for refusal tests.
    pub nan_share: f64,
}

impl Default for ContinuousFields {
    fn default() -> Self {
        ContinuousFields { count: 3, nan_share: 0.0 }
    }
}

/// Everything that determines a synthetic dataset. Same spec (including `seed`) → the same
/// dataset, bit for bit, on any machine and with any number of threads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatasetSpec {
    pub cells: usize,
    pub genes: usize,
    /// Target fraction of non-zero entries in X; the expression scale is calibrated to it.
    pub density: f64,
    /// Number of cell clusters (cell types), with uneven sizes.
    pub clusters: usize,
    pub count_model: CountModel,
    pub normalisation: Normalisation,
    pub layout: Layout,
    /// Which of `X_umap_1d`, `X_umap_2d`, `X_umap_3d` to generate.
    pub embedding_dims: Vec<usize>,
    /// Columns of the latent space (always generated: the exporter requires it).
    pub latent_dims: usize,
    pub continuous_fields: ContinuousFields,
    /// Cardinalities of the categorical obs fields. The first is the cluster labels
    /// (`cluster`, categories `c0`..) and must equal `clusters`; the others are
    /// `category_<i>` with categories `k0`... Empty: no categorical fields.
    pub categorical_fields: Vec<usize>,
    pub graph: GraphSpec,
    /// Vector field ids such as `velocity_umap`; each gets one array per embedding dimension,
    /// keyed `<id>_<d>d`.
    pub vector_fields: Vec<String>,
    pub seed: u64,
}

impl Default for DatasetSpec {
    fn default() -> Self {
        DatasetSpec {
            cells: 10_000,
            genes: 2_000,
            density: 0.05,
            clusters: 12,
            count_model: CountModel::NegativeBinomial { dispersion: 0.3 },
            normalisation: Normalisation::Log1pCp10k,
            layout: Layout::Csr,
            embedding_dims: vec![2],
            latent_dims: 30,
            continuous_fields: ContinuousFields::default(),
            categorical_fields: vec![12, 3],
            graph: GraphSpec::None,
            vector_fields: Vec::new(),
            seed: 0,
        }
    }
}

/// Why a spec cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// A field has an impossible value; `field` is its name as written in TOML
    /// (with `[i]` for list elements).
    #[error("synthetic spec field `{field}` {reason}")]
    Invalid { field: String, reason: String },
    #[error("synthetic spec is not valid TOML for DatasetSpec: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("synthetic spec could not be written as TOML: {0}")]
    Write(#[from] toml::ser::Error),
}

impl SpecError {
    /// The offending field, for [`SpecError::Invalid`].
    pub fn field(&self) -> Option<&str> {
        match self {
            SpecError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> SpecError {
    SpecError::Invalid { field: field.into(), reason: reason.into() }
}

/// Indices are stored as u32 and category codes as i32, which bounds these sizes.
const MAX_AXIS: usize = u32::MAX as usize;
const MAX_CATEGORIES: usize = 65_535;

impl DatasetSpec {
    /// Parses a spec from TOML; missing fields take their defaults. The spec is validated.
    pub fn from_toml_str(text: &str) -> Result<DatasetSpec, SpecError> {
        let spec: DatasetSpec = toml::from_str(text)?;
        spec.validate()?;
        Ok(spec)
    }

    /// The spec as TOML text that [`DatasetSpec::from_toml_str`] reads back unchanged.
    pub fn to_toml_string(&self) -> Result<String, SpecError> {
        Ok(toml::to_string(self)?)
    }

    /// Checks that the spec can be generated; the error names the first bad field.
    pub fn validate(&self) -> Result<(), SpecError> {
        if self.cells == 0 || self.cells > MAX_AXIS {
            return Err(invalid("cells", format!("must be between 1 and {MAX_AXIS}, got {}", self.cells)));
        }
        if self.genes == 0 || self.genes > MAX_AXIS {
            return Err(invalid("genes", format!("must be between 1 and {MAX_AXIS}, got {}", self.genes)));
        }
        if !(self.density > 0.0 && self.density < 1.0) {
            return Err(invalid("density", format!("must be strictly between 0 and 1, got {}", self.density)));
        }
        if self.clusters == 0 || self.clusters > self.cells || self.clusters > MAX_CATEGORIES {
            return Err(invalid(
                "clusters",
                format!("must be between 1 and min(cells, {MAX_CATEGORIES}), got {}", self.clusters),
            ));
        }
        if let CountModel::NegativeBinomial { dispersion } = self.count_model {
            if !(dispersion > 0.0 && dispersion <= 100.0) {
                return Err(invalid(
                    "count_model.dispersion",
                    format!("must be in (0, 100] (use kind = \"poisson\" for no overdispersion), got {dispersion}"),
                ));
            }
        }
        if self.embedding_dims.is_empty() {
            return Err(invalid("embedding_dims", "must name at least one of 1, 2, 3"));
        }
        for (i, &d) in self.embedding_dims.iter().enumerate() {
            if !(1..=3).contains(&d) {
                return Err(invalid(format!("embedding_dims[{i}]"), format!("must be 1, 2 or 3, got {d}")));
            }
            if self.embedding_dims[..i].contains(&d) {
                return Err(invalid(format!("embedding_dims[{i}]"), format!("repeats dimension {d}")));
            }
        }
        if self.latent_dims == 0 {
            return Err(invalid("latent_dims", "must be at least 1 (the exporter requires a latent space)"));
        }
        let nan = self.continuous_fields.nan_share;
        if !(0.0..=1.0).contains(&nan) {
            return Err(invalid("continuous_fields.nan_share", format!("must be in [0, 1], got {nan}")));
        }
        for (i, &c) in self.categorical_fields.iter().enumerate() {
            if c == 0 || c > MAX_CATEGORIES {
                return Err(invalid(
                    format!("categorical_fields[{i}]"),
                    format!("must be between 1 and {MAX_CATEGORIES}, got {c}"),
                ));
            }
        }
        if let Some(&first) = self.categorical_fields.first() {
            if first != self.clusters {
                return Err(invalid(
                    "categorical_fields[0]",
                    format!(
                        "is the cluster labels, so it must equal clusters ({}), got {first}",
                        self.clusters
                    ),
                ));
            }
        }
        match self.graph {
            GraphSpec::None => {}
            GraphSpec::Knn { k } => {
                if k == 0 || k > 1000 {
                    return Err(invalid("graph.k", format!("must be between 1 and 1000, got {k}")));
                }
            }
            GraphSpec::Density { edges_per_cell } => {
                if !(edges_per_cell > 0.0 && edges_per_cell <= 1000.0) {
                    return Err(invalid(
                        "graph.edges_per_cell",
                        format!("must be in (0, 1000], got {edges_per_cell}"),
                    ));
                }
            }
        }
        for (i, id) in self.vector_fields.iter().enumerate() {
            if id.len() <= "_umap".len() || !id.ends_with("_umap") {
                return Err(invalid(
                    format!("vector_fields[{i}]"),
                    format!("must be a field id ending in `_umap` with a non-empty prefix, got {id:?}"),
                ));
            }
            if self.vector_fields[..i].contains(id) {
                return Err(invalid(format!("vector_fields[{i}]"), format!("repeats {id:?}")));
            }
        }
        Ok(())
    }
}
