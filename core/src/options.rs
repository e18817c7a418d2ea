//! `ExportOptions`: every `prepare()` parameter of FORMAT.md §1 that is not data,
//! with the reference's defaults and its checks, plus the Rust writer's own knobs.

use crate::error::{ExportError, Result};
use crate::text;

/// How hard the writer works to make the published generation survive a power loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Durability {
    /// Payloads go through the page cache; only the publish renames are ordered.
    #[default]
    Buffered,
    /// fsync every payload and every directory before publishing, as the reference
    /// does for gzip members; what a careful user wants on a network drive.
    Durable,
}

/// The deflate implementation behind the gzip members. The bytes inside the member
/// may differ between backends; the decompressed payload never does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum GzipBackend {
    /// The default: libdeflate, except for quantized gene payloads, which are coded
    /// with run-length deflate ([`crate::codec::run_deflate`]), several times faster at
    /// a smaller size than zlib's level 6 on the genes measured here. At levels 7–9
    /// such a payload is coded both ways and the smaller kept.
    #[default]
    Auto,
    /// flate2 on zlib-rs (pure Rust).
    ZlibRs,
    /// libdeflate, one-shot, for every payload: the fastest LZ77 backend at every
    /// level measured here (see ARCHITECTURE.md, "gzip backend").
    Libdeflate,
    /// miniz_oxide, pure Rust (slowest; kept for comparison).
    Miniz,
}

/// The options of one export. Field names are `prepare()`'s parameter names.
///
/// Numeric options are plain integers so that every value a user can type, valid
/// or not, can be expressed and refused with the reference's message.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportOptions {
    pub var_gene_id_column: Option<String>,
    pub gene_identifiers: Option<Vec<String>>,
    pub obs_keys: Option<Vec<String>>,
    /// Default `Some(0.95)`.
    pub centroid_outlier_quantile: Option<f64>,
    /// Default 10.
    pub centroid_min_points: i64,
    pub force: bool,
    pub var_quantization: Option<i64>,
    pub obs_continuous_quantization: Option<i64>,
    pub compression: Option<i64>,
    /// Required: `"uint8"` or `"uint16"`.
    pub obs_categorical_dtype: String,
    pub dataset_name: String,
    pub dataset_id: String,
    /// `None` means now, in UTC.
    pub created_at: Option<String>,
    pub dataset_description: Option<String>,
    pub source_name: Option<String>,
    pub source_url: Option<String>,
    pub source_citation: Option<String>,
    pub vector_field_default: Option<String>,

    // --- not prepare() parameters: the Rust writer's own knobs ---
    /// `cellucid_data_version` in the identity; `"0.9.2"` for byte equality with the reference.
    pub cellucid_data_version: String,
    pub durability: Durability,
    pub gzip_backend: GzipBackend,
    /// A what-if, not a prepare() parameter: compress payloads with zstd at this level
    /// (1–22) instead of gzip. The viewer cannot load such a folder (it reads gzip only);
    /// the harness uses it to measure what zstd would cost and save. Requires
    /// `compression = None`; manifests then carry `.zst` paths and `compression: null`.
    pub zstd_what_if: Option<i32>,
}

impl ExportOptions {
    /// Options with the reference's defaults and the three required arguments.
    pub fn new(
        dataset_name: impl Into<String>,
        dataset_id: impl Into<String>,
        obs_categorical_dtype: impl Into<String>,
    ) -> Self {
        ExportOptions {
            var_gene_id_column: None,
            gene_identifiers: None,
            obs_keys: None,
            centroid_outlier_quantile: Some(0.95),
            centroid_min_points: 10,
            force: false,
            var_quantization: None,
            obs_continuous_quantization: None,
            compression: None,
            obs_categorical_dtype: obs_categorical_dtype.into(),
            dataset_name: dataset_name.into(),
            dataset_id: dataset_id.into(),
            created_at: None,
            dataset_description: None,
            source_name: None,
            source_url: None,
            source_citation: None,
            vector_field_default: None,
            cellucid_data_version: "0.9.2".to_string(),
            durability: Durability::Buffered,
            gzip_backend: GzipBackend::default(),
            zstd_what_if: None,
        }
    }

    /// Step A of FORMAT.md §2 (the checks `prepare()` runs before touching the disk),
    /// minus `force` (a Rust bool cannot be wrong) and `out_dir` (see `publish`).
    pub fn check_arguments(&self) -> Result<()> {
        check_name(&self.dataset_name)?;
        check_id(&self.dataset_id)?;
        if self.centroid_min_points < 1 {
            return Err(ExportError::value("centroid_min_points", "centroid_min_points must be a positive integer."));
        }
        if let Some(d) = &self.dataset_description {
            if !d.is_empty() {
                check_display("dataset_description", d)?;
            }
        }
        for (label, v) in [
            ("source_name", &self.source_name),
            ("source_url", &self.source_url),
            ("source_citation", &self.source_citation),
        ] {
            if let Some(v) = v {
                if v.is_empty() {
                    return Err(ExportError::value(label, format!("{label} must be None or a non-empty string.")));
                }
                check_display(label, v)?;
            }
        }
        if let Some(c) = &self.created_at {
            text::check_created_at(c).map_err(|m| ExportError::value("created_at", m))?;
        }
        if self.source_name.is_none() && (self.source_url.is_some() || self.source_citation.is_some()) {
            return Err(ExportError::value(
                "source_name",
                "source_name is required whenever source_url or source_citation is provided.",
            ));
        }
        Ok(())
    }

    /// Step D.1 of FORMAT.md §2: the codec options, then name and id again.
    pub fn check_codecs(&self) -> Result<()> {
        if let Some(c) = self.compression {
            if !(1..=9).contains(&c) {
                return Err(ExportError::value("compression", "compression must be None or one integer from 1 to 9."));
            }
        }
        for (label, bits) in [
            ("var_quantization", self.var_quantization),
            ("obs_continuous_quantization", self.obs_continuous_quantization),
        ] {
            if let Some(b) = bits {
                if b != 8 && b != 16 {
                    return Err(ExportError::value(label, format!("{label} must be None, 8, or 16.")));
                }
            }
        }
        if self.obs_categorical_dtype != "uint8" && self.obs_categorical_dtype != "uint16" {
            return Err(ExportError::value(
                "obs_categorical_dtype",
                "obs_categorical_dtype must be exactly 'uint8' or 'uint16'.",
            ));
        }
        if let Some(q) = self.centroid_outlier_quantile {
            if !(q.is_finite() && q > 0.5 && q < 1.0) {
                return Err(ExportError::value(
                    "centroid_outlier_quantile",
                    "centroid_outlier_quantile must be None or one finite number strictly between 0.5 and 1.",
                ));
            }
        }
        if let Some(z) = self.zstd_what_if {
            if !(1..=22).contains(&z) || self.compression.is_some() {
                return Err(ExportError::value(
                    "zstd_what_if",
                    "zstd_what_if must be a level from 1 to 22, and compression must then be None.",
                ));
            }
        }
        check_name(&self.dataset_name)?;
        check_id(&self.dataset_id)
    }

    /// Bits of the categorical code storage (8 or 16), once validated.
    pub fn categorical_bits(&self) -> u32 {
        if self.obs_categorical_dtype == "uint16" {
            16
        } else {
            8
        }
    }

    /// The gzip level, once validated.
    pub fn gzip_level(&self) -> Option<u32> {
        self.compression.map(|c| c as u32)
    }
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(ExportError::value("dataset_name", "dataset_name must be a non-empty string."));
    }
    check_display("dataset_name", name)
}

fn check_id(id: &str) -> Result<()> {
    match text::portable_id_error(id) {
        Some(m) => Err(ExportError::value("dataset_id", m)),
        None => Ok(()),
    }
}

/// Refuse display text with a defect; `label` is both the field and the message's subject.
pub(crate) fn check_display(label: &str, value: &str) -> Result<()> {
    check_display_as(label, label, value)
}

/// As [`check_display`], with a field name different from the message's subject
/// (e.g. field `obs_keys`, subject `Observation field identifier at position 1`).
pub(crate) fn check_display_as(field: &str, subject: &str, value: &str) -> Result<()> {
    match text::display_text_defect(value) {
        Some(defect) => Err(ExportError::value(field, text::display_text_message(subject, value, &defect))),
        None => Ok(()),
    }
}
