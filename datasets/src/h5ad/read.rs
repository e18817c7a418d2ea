//! Reading an `.h5ad` file into a [`Dataset`].
//!
//! Two layouts are understood:
//! - **anndata ≥ 0.8** (every element carries `encoding-type`/`encoding-version`):
//!   dataframes with `_index` and `column-order`, `categorical` groups (`codes` +
//!   `categories`, kept in stored order), `string-array`, `array`, `nullable-integer`,
//!   `nullable-boolean`, `nullable-string-array`, `csr_matrix`/`csc_matrix` groups with a
//!   `shape` attribute. anndata 0.7's `__categories` subgroup is accepted too.
//! - **pre-0.7 (h5sparse era)**, as in scanpy's `pbmc68k_reduced.h5ad`: `obs`, `var` and
//!   `obsm` are compound datasets (one field per column; `obsm` fields are `(k,)` arrays),
//!   categoricals are integer codes with their categories in `uns/<column>_categories`,
//!   and sparse groups carry `h5sparse_format`/`h5sparse_shape` instead of an encoding.
//!
//! Only the arrays named by the [`Mapping`] are loaded, plus obs (always) and var (when a
//! gene matrix is mapped). Stored dtypes and sparse formats are kept: a CSR `X` stays
//! [`Matrix::Csr`] unless [`ReadOptions::x_as_csc`] asks for the streamed conversion.
//!
//! **CSR → CSC at read time.** The exporter needs genes as columns and converts a CSR
//! matrix itself, but then the CSR and the CSC copies coexist. With `x_as_csc` the reader
//! never materialises the CSR: pass 1 streams `indices` in blocks to count entries per
//! column, pass 2 streams `indices`+`data` again and scatters them into the preallocated
//! CSC arrays (rows ascending within a column, duplicates kept, as scipy's `tocsc`). Peak
//! memory is the CSC matrix plus the row `indptr`, a column cursor and two block buffers.

use std::path::{Path, PathBuf};

use cellucid_core::{Compressed, Dataset, DenseArray, Label, Matrix, ObsColumn, ObsData, ObsFrame, Values, VarFrame};
use hdf5::types::TypeDescriptor;
use hdf5::{File, Group, LocationType};

use super::encoding::{attr_ints, attr_string, attr_strings, kind_or_none, Encoding};
use super::error::{H5adError, Result};
use super::mapping::Mapping;
use super::raw::{self, Field};
use super::spill::SpillBudget;
use super::x_read::SparseParts;

/// Elements per block when streaming sparse index/data arrays.
pub(super) const BLOCK: usize = 1 << 20;

/// How to read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// Convert a CSR gene matrix to CSC while reading (two streamed passes, no CSR copy).
    pub x_as_csc: bool,
    /// Materialise only these var columns of the gene matrix (a panel); the others
    /// arrive as empty columns of a CSC of the full shape. CSR is streamed once keeping
    /// the panel's entries, CSC reads only the panel's index ranges, dense reads only
    /// the panel's columns. Applies with `x_as_csc`.
    pub x_columns: Option<Vec<usize>>,
    /// Spill a CSR gene matrix larger than this budget (see [`super::spill`]); only
    /// [`read_for_export`] honours it, since the result is not a [`Matrix`].
    pub x_budget: Option<SpillBudget>,
}

/// Reads the mapped arrays of `path`, keeping stored dtypes and sparse formats.
pub fn read(path: &Path, mapping: &Mapping) -> Result<Dataset> {
    read_with(path, mapping, &ReadOptions::default())
}

/// As [`read`], but a CSR gene matrix arrives as [`Matrix::Csc`] (streamed conversion):
/// what an export wants, since it reads the matrix gene by gene.
pub fn read_csr_as_csc(path: &Path, mapping: &Mapping) -> Result<Dataset> {
    read_with(path, mapping, &ReadOptions { x_as_csc: true, ..ReadOptions::default() })
}

/// Reads with explicit options (a spill budget is ignored: the matrix stays in memory).
pub fn read_with(path: &Path, mapping: &Mapping, options: &ReadOptions) -> Result<Dataset> {
    let options = ReadOptions { x_budget: None, ..options.clone() };
    Ok(read_for_export(path, mapping, &options)?.0)
}

/// The var dataframe alone (to resolve a gene panel before reading the matrix).
pub fn read_var(path: &Path) -> Result<VarFrame> {
    H5adFile::open(path)?.read_var()
}

/// Reads for an export: with `options.x_budget`, a gene matrix that does not fit is
/// returned beside the dataset as column blocks (CSR spilled, CSC and dense read from
/// the file block by block); the dataset's `gene_expression` is then `None`.
pub fn read_for_export(path: &Path, mapping: &Mapping, options: &ReadOptions) -> Result<(Dataset, Option<GeneBlocks>)> {
    let file = H5adFile::open(path)?;
    let (obs, n_obs) = file.read_obs()?;
    let mut ds = Dataset { obs: Some(obs), ..Dataset::default() };
    let mut spilled = None;

    if let Some(p) = &mapping.gene_expression {
        let var = file.read_var()?;
        let x = match (&options.x_columns, options.x_as_csc) {
            (Some(cols), true) => file.read_x_columns(p, cols, options.x_budget.as_ref())?,
            _ if options.x_as_csc => file.read_x_csc(p, options.x_budget.as_ref())?,
            _ => XRead::Matrix(file.read_matrix(p, false, false)?),
        };
        let shape = match &x {
            XRead::Matrix(m) => m.shape(),
            XRead::Blocks(s) => {
                let (r, c) = s.shape();
                vec![r, c]
            }
        };
        if shape.len() != 2 || shape[0] != n_obs || shape[1] != var.len() {
            return Err(H5adError::malformed(
                p,
                format!("shape {shape:?} disagrees with obs ({n_obs} rows) and var ({} rows)", var.len()),
            ));
        }
        match x {
            XRead::Matrix(m) => ds.gene_expression = Some(m),
            XRead::Blocks(s) => spilled = Some(s),
        }
        ds.var = Some(var);
    }
    if let Some(p) = &mapping.latent_space {
        ds.latent_space = Some(file.read_matrix(p, false, true)?);
    }
    for d in 1..=3 {
        if let Some(p) = &mapping.x_umap[d - 1] {
            *ds.embedding_mut(d) = Some(file.read_matrix(p, false, true)?);
        }
    }
    if let Some(p) = &mapping.connectivities {
        ds.connectivities = Some(file.read_matrix(p, false, false)?);
    }
    if !mapping.vector_fields.is_empty() {
        let mut fields = Vec::with_capacity(mapping.vector_fields.len());
        for (key, p) in &mapping.vector_fields {
            fields.push((key.clone(), file.read_matrix(p, false, true)?));
        }
        ds.vector_fields = Some(fields);
    }
    Ok((ds, spilled))
}

/// A gene matrix read block by block (spilled CSR, or CSC/dense read from the file).
pub type GeneBlocks = Box<dyn cellucid_core::ColumnBlocks + Send>;

/// The gene matrix as read for an export: in memory, or by column blocks.
pub(crate) enum XRead {
    Matrix(Matrix),
    Blocks(GeneBlocks),
}

/// An open `.h5ad` file and the path it came from.
pub(crate) struct H5adFile {
    file: File,
}

/// A dataframe as stored: its index and its columns in `column-order`.
struct Frame {
    index: Vec<Label>,
    columns: Vec<ObsColumn>,
}

impl H5adFile {
    pub(crate) fn open(path: &Path) -> Result<H5adFile> {
        let file = File::open(path).map_err(|cause| H5adError::Open { file: PathBuf::from(path), cause })?;
        Ok(H5adFile { file })
    }

    /// Whether an object exists at `h5path`, checking each component so that a missing
    /// parent is "absent", not an HDF5 error.
    pub(crate) fn exists(&self, h5path: &str) -> bool {
        let mut prefix = String::new();
        for part in h5path.split('/').filter(|p| !p.is_empty()) {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(part);
            if !self.file.link_exists(&prefix) {
                return false;
            }
        }
        !prefix.is_empty()
    }

    pub(super) fn loc_type(&self, h5path: &str) -> Result<LocationType> {
        self.file.loc_type_by_name(h5path).map_err(H5adError::hdf5(h5path))
    }

    pub(super) fn group(&self, h5path: &str) -> Result<Group> {
        self.file.group(h5path).map_err(H5adError::hdf5(h5path))
    }

    pub(super) fn dataset(&self, h5path: &str) -> Result<hdf5::Dataset> {
        self.file.dataset(h5path).map_err(H5adError::hdf5(h5path))
    }

    /// Whether `obsm` is a pre-0.7 compound dataset rather than a group.
    fn obsm_is_compound(&self) -> Result<bool> {
        Ok(self.exists("obsm") && self.loc_type("obsm")? == LocationType::Dataset)
    }

    pub(crate) fn exists_obsm(&self, key: &str) -> Result<bool> {
        if self.obsm_is_compound()? {
            let ds = self.dataset("obsm")?;
            Ok(raw::compound_fields(&ds, "obsm")?.iter().any(|(n, _)| n == key))
        } else {
            Ok(self.exists(&format!("obsm/{key}")))
        }
    }

    /// Column count of an obsm entry (1 for a 1-D array), without reading it.
    pub(crate) fn obsm_columns(&self, key: &str) -> Result<usize> {
        let path = format!("obsm/{key}");
        if self.obsm_is_compound()? {
            let ds = self.dataset("obsm")?;
            let fields = raw::compound_fields(&ds, "obsm")?;
            return match fields.iter().find(|(n, _)| n == key) {
                Some((_, TypeDescriptor::FixedArray(_, k))) => Ok(*k),
                Some(_) => Ok(1),
                None => Err(H5adError::Missing { path, detail: "no such obsm field".into() }),
            };
        }
        match self.loc_type(&path)? {
            LocationType::Dataset => {
                let shape = self.dataset(&path)?.shape();
                Ok(shape.get(1).copied().unwrap_or(1))
            }
            _ => {
                let g = self.group(&path)?;
                let shape = sparse_shape(&g, &path)?;
                Ok(shape.1)
            }
        }
    }

    // ---------------------------------------------------------------- matrices

    /// Reads the array at `h5path`. `obsm_like` turns a 1-D array into `(n, 1)`, as
    /// anndata does for obsm entries.
    pub(super) fn read_matrix(&self, h5path: &str, to_csc: bool, obsm_like: bool) -> Result<Matrix> {
        if let Some(key) = h5path.strip_prefix("obsm/") {
            if self.obsm_is_compound()? {
                return self.read_compound_obsm(key, h5path);
            }
        }
        if !self.exists(h5path) {
            return Err(H5adError::Missing { path: h5path.to_string(), detail: "not in the file".into() });
        }
        match self.loc_type(h5path)? {
            LocationType::Dataset => {
                let ds = self.dataset(h5path)?;
                let enc = Encoding::of(&ds, h5path)?;
                if let Some(e) = &enc {
                    if e.kind != "array" {
                        return Err(H5adError::unsupported(h5path, &e.kind, "expected a dense array"));
                    }
                }
                let shape = ds.shape();
                if shape.is_empty() || shape.len() > 2 {
                    return Err(H5adError::unsupported(
                        h5path,
                        kind_or_none(&enc),
                        format!("{}-dimensional array; matrices have 1 or 2 dimensions", shape.len()),
                    ));
                }
                let values = raw::values(&ds, h5path, &kind_or_none(&enc))?;
                let shape = if obsm_like && shape.len() == 1 { vec![shape[0], 1] } else { shape };
                Ok(Matrix::Dense(DenseArray { shape, values }))
            }
            LocationType::Group => {
                let g = self.group(h5path)?;
                self.read_sparse(&g, h5path, to_csc)
            }
            _ => Err(H5adError::unsupported(h5path, "none", "a named datatype is not an array")),
        }
    }

    fn read_compound_obsm(&self, key: &str, h5path: &str) -> Result<Matrix> {
        let ds = self.dataset("obsm")?;
        let fields = raw::compound_fields(&ds, "obsm")?;
        let (_, ty) = fields
            .iter()
            .find(|(n, _)| n == key)
            .ok_or_else(|| H5adError::Missing { path: h5path.to_string(), detail: "no such field in compound obsm".into() })?;
        match raw::compound_field(&ds, key, ty, "obsm")? {
            Field::Numeric { values, width } => {
                let n = ds.size();
                Ok(Matrix::Dense(DenseArray { shape: vec![n, width], values }))
            }
            Field::Strings(_) => Err(H5adError::unsupported(h5path, "compound field", "string field is not an array")),
        }
    }

    fn read_sparse(&self, g: &Group, path: &str, to_csc: bool) -> Result<Matrix> {
        let parts = self.sparse_parts(g, path)?;
        if parts.csr && to_csc {
            return Ok(Matrix::Csc(parts.csr_to_csc(None)?));
        }
        let minor = if parts.csr { parts.shape.1 } else { parts.shape.0 };
        let indices = read_indices(&parts.idx_ds, &parts.idx_path, minor)?;
        let data = raw::values(&parts.data_ds, &parts.data_path, "array")?;
        let c = Compressed { shape: parts.shape, indptr: parts.indptr, indices, data };
        Ok(if parts.csr { Matrix::Csr(c) } else { Matrix::Csc(c) })
    }

    /// A sparse group's format, shape, checked `indptr`, dtype and component datasets.
    pub(super) fn sparse_parts(&self, g: &Group, path: &str) -> Result<SparseParts> {
        let enc = Encoding::of(g, path)?;
        let format = match &enc {
            Some(e) if e.kind == "csr_matrix" => "csr",
            Some(e) if e.kind == "csc_matrix" => "csc",
            Some(e) => return Err(H5adError::unsupported(path, &e.kind, "expected a sparse matrix or dense array")),
            None => match attr_string(g, "h5sparse_format", path)?.as_deref() {
                Some("csr") => "csr",
                Some("csc") => "csc",
                Some(other) => return Err(H5adError::unsupported(path, format!("h5sparse {other}"), "unknown sparse format")),
                None => return Err(H5adError::unsupported(path, "none", "group without an encoding is not an array")),
            },
        };
        let shape = sparse_shape(g, path)?;
        let major = if format == "csr" { shape.0 } else { shape.1 };

        let child = |name: &str| -> Result<(hdf5::Dataset, String)> {
            let p = format!("{path}/{name}");
            if !g.link_exists(name) {
                return Err(H5adError::Missing { path: p, detail: "sparse component absent".into() });
            }
            Ok((g.dataset(name).map_err(H5adError::hdf5(&p))?, p))
        };
        let (data_ds, data_path) = child("data")?;
        let (idx_ds, idx_path) = child("indices")?;
        let (ptr_ds, ptr_path) = child("indptr")?;

        let nnz = data_ds.size();
        if idx_ds.size() != nnz {
            return Err(H5adError::malformed(&idx_path, format!("{} indices for {nnz} stored values", idx_ds.size())));
        }
        let indptr = read_indptr(&ptr_ds, &ptr_path, major, nnz)?;
        raw::require_integers(&idx_ds, &idx_path)?;
        let dtype = raw::dtype_of(&raw::descriptor(&data_ds, &data_path)?)
            .ok_or_else(|| H5adError::unsupported(&data_path, "array", "sparse data is not numeric"))?;
        Ok(SparseParts { csr: format == "csr", shape, indptr, dtype, data_ds, data_path, idx_ds, idx_path })
    }

    // ---------------------------------------------------------------- frames

    /// obs as a frame, and its row count.
    fn read_obs(&self) -> Result<(ObsFrame, usize)> {
        if !self.exists("obs") {
            return Err(H5adError::Missing { path: "obs".into(), detail: "every AnnData has an obs dataframe".into() });
        }
        let frame = self.read_frame("obs")?;
        let n = frame.index.len();
        Ok((ObsFrame { n_rows: n, columns: frame.columns }, n))
    }

    fn read_var(&self) -> Result<VarFrame> {
        if !self.exists("var") {
            return Err(H5adError::Missing { path: "var".into(), detail: "a gene matrix needs var".into() });
        }
        let frame = self.read_frame("var")?;
        let mut columns = Vec::with_capacity(frame.columns.len());
        for c in frame.columns {
            let path = format!("var/{}", c.name);
            columns.push((c.name, column_labels(c.data, &path)?));
        }
        Ok(VarFrame { index: frame.index, columns })
    }

    fn read_frame(&self, path: &str) -> Result<Frame> {
        match self.loc_type(path)? {
            LocationType::Group => self.read_group_frame(path),
            LocationType::Dataset => self.read_compound_frame(path),
            _ => Err(H5adError::unsupported(path, "none", "expected a dataframe")),
        }
    }

    fn read_group_frame(&self, path: &str) -> Result<Frame> {
        let g = self.group(path)?;
        let enc = Encoding::of(&g, path)?;
        match &enc {
            Some(e) if e.kind == "dataframe" => {}
            _ => return Err(H5adError::unsupported(path, kind_or_none(&enc), "expected a dataframe")),
        }
        let index_name = attr_string(&g, "_index", path)?
            .ok_or_else(|| H5adError::malformed(path, "dataframe without an _index attribute"))?;
        let index_path = format!("{path}/{index_name}");
        if !g.link_exists(&index_name) {
            return Err(H5adError::Missing { path: index_path, detail: "the dataframe index named by _index".into() });
        }
        let index = match self.read_column(&g, path, &index_name)? {
            ObsData::Strings(v) => v.into_iter().map(|s| Label::Str(s.unwrap_or_default())).collect(),
            other => column_labels(other, &index_path)?,
        };
        let order = attr_strings(&g, "column-order", path)?.unwrap_or_default();
        let mut columns = Vec::with_capacity(order.len());
        for name in order {
            let data = self.read_column(&g, path, &name)?;
            if data.len().is_some_and(|l| l != index.len()) {
                return Err(H5adError::malformed(
                    format!("{path}/{name}"),
                    format!("{} rows, the index has {}", data.len().unwrap_or(0), index.len()),
                ));
            }
            columns.push(ObsColumn { name, data });
        }
        Ok(Frame { index, columns })
    }

    /// One dataframe column in the ≥ 0.7 layouts.
    fn read_column(&self, g: &Group, frame_path: &str, name: &str) -> Result<ObsData> {
        let path = format!("{frame_path}/{name}");
        if !g.link_exists(name) {
            return Err(H5adError::Missing { path, detail: "listed in column-order but absent".into() });
        }
        match self.loc_type(&path)? {
            LocationType::Dataset => {
                let ds = self.dataset(&path)?;
                let enc = Encoding::of(&ds, &path)?;
                let kind = kind_or_none(&enc);
                if !matches!(kind.as_str(), "none" | "array" | "string-array") {
                    return Err(H5adError::unsupported(&path, kind, "not a dataframe column encoding"));
                }
                // anndata 0.7: codes here, categories in the `__categories` subgroup.
                let legacy_cats = format!("{frame_path}/__categories/{name}");
                if self.exists(&legacy_cats) {
                    let categories = self.read_labels(&legacy_cats)?;
                    let codes = read_codes(&ds, &path, categories.len())?;
                    return Ok(ObsData::Categorical { categories, codes });
                }
                let desc = raw::descriptor(&ds, &path)?;
                if ds.ndim() != 1 {
                    return Err(H5adError::unsupported(&path, kind, format!("{}-D column", ds.ndim())));
                }
                if raw::is_string(&desc) {
                    Ok(ObsData::Strings(raw::strings(&ds, &path)?.into_iter().map(Some).collect()))
                } else {
                    match raw::values(&ds, &path, &kind)? {
                        Values::Bool(b) => Ok(ObsData::Bool(b)),
                        v => Ok(ObsData::Numeric(v)),
                    }
                }
            }
            LocationType::Group => {
                let sub = self.group(&path)?;
                let enc = Encoding::of(&sub, &path)?;
                let kind = kind_or_none(&enc);
                match kind.as_str() {
                    "categorical" => {
                        let categories = self.read_labels(&format!("{path}/categories"))?;
                        let codes_path = format!("{path}/codes");
                        let codes = read_codes(&self.dataset(&codes_path)?, &codes_path, categories.len())?;
                        Ok(ObsData::Categorical { categories, codes })
                    }
                    "nullable-integer" | "nullable-boolean" | "nullable-string-array" => {
                        let vpath = format!("{path}/values");
                        let mpath = format!("{path}/mask");
                        let vds = self.dataset(&vpath)?;
                        let mask = match raw::values(&self.dataset(&mpath)?, &mpath, "array")? {
                            Values::Bool(m) => m,
                            other => {
                                return Err(H5adError::malformed(&mpath, format!("mask of dtype {}", other.dtype().name())))
                            }
                        };
                        if mask.len() != vds.size() {
                            return Err(H5adError::malformed(&mpath, "mask and values differ in length"));
                        }
                        match kind.as_str() {
                            "nullable-integer" => Ok(ObsData::NullableNumeric { values: raw::values(&vds, &vpath, &kind)?, missing: mask }),
                            "nullable-boolean" => match raw::values(&vds, &vpath, &kind)? {
                                Values::Bool(b) => Ok(ObsData::NullableBool(
                                    b.into_iter().zip(&mask).map(|(v, &m)| (!m).then_some(v)).collect(),
                                )),
                                other => Err(H5adError::unsupported(&vpath, kind, format!("values of dtype {}", other.dtype().name()))),
                            },
                            _ => Ok(ObsData::Strings(
                                raw::strings(&vds, &vpath)?.into_iter().zip(&mask).map(|(v, &m)| (!m).then_some(v)).collect(),
                            )),
                        }
                    }
                    _ => Err(H5adError::unsupported(&path, kind, "not a dataframe column encoding")),
                }
            }
            _ => Err(H5adError::unsupported(&path, "none", "not a dataframe column")),
        }
    }

    /// Category labels, keeping their stored type and order.
    fn read_labels(&self, path: &str) -> Result<Vec<Label>> {
        let ds = self.dataset(path)?;
        let desc = raw::descriptor(&ds, path)?;
        if raw::is_string(&desc) {
            return Ok(raw::strings(&ds, path)?.into_iter().map(Label::Str).collect());
        }
        values_to_labels(raw::values(&ds, path, "array")?)
            .ok_or_else(|| H5adError::unsupported(path, "array", "categories of this dtype"))
    }

    /// A pre-0.7 dataframe: a compound dataset with an `index` field; categorical
    /// columns are integer codes whose categories live in `uns/<column>_categories`.
    fn read_compound_frame(&self, path: &str) -> Result<Frame> {
        let ds = self.dataset(path)?;
        let fields = raw::compound_fields(&ds, path)?;
        let n = ds.size();
        let mut index = None;
        let mut columns = Vec::new();
        for (name, ty) in &fields {
            let col_path = format!("{path}/{name}");
            let field = raw::compound_field(&ds, name, ty, path)?;
            if name == "index" {
                index = Some(match field {
                    Field::Strings(s) => s.into_iter().map(Label::Str).collect(),
                    Field::Numeric { values, .. } => values_to_labels(values)
                        .ok_or_else(|| H5adError::unsupported(&col_path, "compound field", "index dtype"))?,
                });
                continue;
            }
            let cats_path = format!("uns/{name}_categories");
            let data = match field {
                Field::Strings(s) => ObsData::Strings(s.into_iter().map(Some).collect()),
                Field::Numeric { width, .. } if width != 1 => {
                    return Err(H5adError::unsupported(&col_path, "compound field", "array-valued column"));
                }
                Field::Numeric { values, .. } if self.exists(&cats_path) => {
                    let categories = self.read_labels(&cats_path)?;
                    let codes = codes_from(values.to_f64_vec().into_iter().map(|c| c as i64), categories.len(), &col_path)?;
                    ObsData::Categorical { categories, codes }
                }
                Field::Numeric { values: Values::Bool(b), .. } => ObsData::Bool(b),
                Field::Numeric { values, .. } => ObsData::Numeric(values),
            };
            columns.push(ObsColumn { name: name.clone(), data });
        }
        let index = index.unwrap_or_else(|| (0..n).map(|i| Label::Str(i.to_string())).collect());
        Ok(Frame { index, columns })
    }
}

/// `(rows, cols)` from `shape` (≥ 0.8) or `h5sparse_shape` (pre-0.7).
pub(super) fn sparse_shape(g: &Group, path: &str) -> Result<(usize, usize)> {
    let shape = match attr_ints(g, "shape", path)? {
        Some(s) => s,
        None => attr_ints(g, "h5sparse_shape", path)?
            .ok_or_else(|| H5adError::malformed(path, "sparse matrix without a shape attribute"))?,
    };
    match shape.as_slice() {
        [r, c] if *r >= 0 && *c >= 0 => Ok((*r as usize, *c as usize)),
        other => Err(H5adError::malformed(path, format!("shape attribute {other:?} is not two non-negative sizes"))),
    }
}

pub(super) fn read_indptr(ds: &hdf5::Dataset, path: &str, major: usize, nnz: usize) -> Result<Vec<u64>> {
    let raw = raw::ints(ds, path)?;
    if raw.len() != major + 1 {
        return Err(H5adError::malformed(
            path,
            format!("{} entries, the shape attribute implies {}", raw.len(), major + 1),
        ));
    }
    if raw[0] != 0 || raw.windows(2).any(|w| w[1] < w[0]) || raw[major] as u64 != nnz as u64 {
        return Err(H5adError::malformed(path, format!("not a non-decreasing 0..{nnz} offset array")));
    }
    Ok(raw.into_iter().map(|x| x as u64).collect())
}

/// Indices streamed in blocks (no i64 copy of the whole array), checked against `minor`.
pub(super) fn read_indices(ds: &hdf5::Dataset, path: &str, minor: usize) -> Result<Vec<u32>> {
    let n = ds.size();
    let mut out = Vec::with_capacity(n);
    for start in (0..n).step_by(BLOCK) {
        let end = (start + BLOCK).min(n);
        let block = ds.read_slice_1d::<i64, _>(start..end).map_err(H5adError::hdf5(path))?;
        for &j in block.iter() {
            out.push(check_index(j, minor, path)?);
        }
    }
    Ok(out)
}

pub(super) fn check_index(j: i64, minor: usize, path: &str) -> Result<u32> {
    if j < 0 || j as u64 >= minor as u64 || j > u32::MAX as i64 {
        return Err(H5adError::malformed(path, format!("index {j} outside 0..{minor} (wrong shape attribute?)")));
    }
    Ok(j as u32)
}

/// Categorical codes, any stored integer width, checked against the category count.
fn read_codes(ds: &hdf5::Dataset, path: &str, n_categories: usize) -> Result<Vec<i32>> {
    codes_from(raw::ints(ds, path)?, n_categories, path)
}

fn codes_from(codes: impl IntoIterator<Item = i64>, n_categories: usize, path: &str) -> Result<Vec<i32>> {
    codes
        .into_iter()
        .map(|c| {
            if c < -1 || c >= n_categories as i64 {
                Err(H5adError::malformed(path, format!("code {c} outside -1..{n_categories}")))
            } else {
                Ok(c as i32)
            }
        })
        .collect()
}

/// Numeric/bool values as labels of the matching JSON type.
fn values_to_labels(values: Values) -> Option<Vec<Label>> {
    Some(match values {
        Values::Bool(v) => v.into_iter().map(Label::Bool).collect(),
        Values::F32(v) => v.into_iter().map(|x| Label::Float(x as f64)).collect(),
        Values::F64(v) => v.into_iter().map(Label::Float).collect(),
        Values::U64(v) => v.into_iter().map(|x| i64::try_from(x).map(Label::Int).ok()).collect::<Option<_>>()?,
        other => other.to_f64_vec().into_iter().map(|x| Label::Int(x as i64)).collect(),
    })
}

/// One var column as per-gene values. Missing entries (categorical code -1, masked
/// nullable values, absent strings) become `Float(NaN)`, which is what pandas holds there.
fn column_labels(data: ObsData, path: &str) -> Result<Vec<Label>> {
    let nan = || Label::Float(f64::NAN);
    Ok(match data {
        ObsData::Numeric(v) => values_to_labels(v).ok_or_else(|| H5adError::unsupported(path, "array", "dtype"))?,
        ObsData::Bool(b) => b.into_iter().map(Label::Bool).collect(),
        ObsData::Strings(s) => s.into_iter().map(|x| x.map_or_else(nan, Label::Str)).collect(),
        ObsData::NullableBool(b) => b.into_iter().map(|x| x.map_or_else(nan, Label::Bool)).collect(),
        ObsData::NullableNumeric { values, missing } => {
            let labels = values_to_labels(values).ok_or_else(|| H5adError::unsupported(path, "nullable-integer", "dtype"))?;
            labels.into_iter().zip(missing).map(|(l, m)| if m { nan() } else { l }).collect()
        }
        ObsData::Categorical { categories, codes } => {
            codes.into_iter().map(|c| if c < 0 { nan() } else { categories[c as usize].clone() }).collect()
        }
        ObsData::Unsupported { dtype_repr } => return Err(H5adError::unsupported(path, dtype_repr, "var column")),
    })
}
