//! Writing a [`Dataset`] as an `.h5ad` file that `anndata.read_h5ad` (0.8 – 0.12) loads
//! back to the same values.
//!
//! Layout (anndata ≥ 0.8 encodings): root `anndata`; `obs`/`var` dataframes with
//! `_index` (`cell0…` for obs; the var index, or `gene0…` when the dataset has none),
//! `column-order`; `X` as stored (dense `array`, `csr_matrix`, `csc_matrix`; COO is
//! written as CSR); `obsm/X_latent`, `obsm/X_umap_<d>d` (a 1-D embedding becomes
//! `(n, 1)`, as anndata requires), vector fields as `obsm/<key>`, `obsp/connectivities`;
//! empty `layers`, `uns`, `varm`, `varp`. [`super::Mapping::written`] is the mapping that
//! reads these names back.
//!
//! Column encodings: numeric and bool → `array`; categoricals → `categorical` with codes
//! in the smallest signed width pandas would pick and categories in their order and JSON
//! type; strings → `string-array`, or `nullable-string-array` when some are missing;
//! nullable ints → `nullable-integer`; nullable bools → `nullable-boolean`. Var columns
//! are written by label type (all strings → `string-array`, all ints → int64, …).
//! Not expressible, hence refused: nullable floats (anndata has no encoding), mixed-type
//! label lists, `Unsupported` columns, strings containing NUL.
//!
//! **Speed.** Every array is one contiguous, unchunked, uncompressed dataset written
//! with a single `H5Dwrite` from the caller's buffer (no copy) — except sparse index
//! arrays, which are narrowed to int32 (scipy's choice) or widened to int64 block by
//! block through a fixed 4 Mi-element buffer, so no second full-size copy exists.

use std::path::{Path, PathBuf};

use cellucid_core::{with_values, Compressed, Coo, Dataset, Label, Matrix, ObsData, Values};
use hdf5::types::VarLenUnicode;
use hdf5::{File, Group, H5Type};

use super::encoding::{set_bool, set_encoding, set_ints, set_string, set_strings};
use super::error::{H5adError, Result};

/// obsm key of the latent space.
pub const LATENT_KEY: &str = "X_latent";
/// obsp key of the connectivity graph.
pub const CONNECTIVITIES_KEY: &str = "connectivities";
/// obsm key of the `d`-dimensional embedding: `X_umap_<d>d`.
pub fn umap_key(d: usize) -> String {
    format!("X_umap_{d}d")
}

/// Elements converted per block when narrowing/widening sparse index arrays.
const INDEX_BLOCK: usize = 4 << 20;

/// Writes `dataset` to `path` (created or truncated).
pub fn write(dataset: &Dataset, path: &Path) -> Result<()> {
    let file = create_file(path)?;
    write_contents(&file, dataset)?;
    file.flush().map_err(H5adError::hdf5("/"))?;
    Ok(())
}

/// A new `.h5ad` file at `path` (created or truncated), its root marked `anndata`.
pub(super) fn create_file(path: &Path) -> Result<File> {
    let file = File::create(path).map_err(|cause| H5adError::Open { file: PathBuf::from(path), cause })?;
    set_encoding(&file, "anndata", "/")?;
    Ok(file)
}

/// Everything of `dataset` below the root: obs, var, X (when it has one), obsm, obsp and
/// the empty groups.
pub(super) fn write_contents(root: &Group, dataset: &Dataset) -> Result<()> {
    let n_obs = n_obs(dataset);
    let n_vars = match (&dataset.var, &dataset.gene_expression) {
        (Some(v), _) => v.len(),
        (None, Some(x)) => x.shape().get(1).copied().unwrap_or(0),
        (None, None) => 0,
    };

    // obs
    let obs = create_group(root, "obs")?;
    let obs_cols: Vec<(String, &ObsData)> =
        dataset.obs.iter().flat_map(|o| o.columns.iter().map(|c| (c.name.clone(), &c.data))).collect();
    let index: Vec<String> = (0..n_obs).map(|i| format!("cell{i}")).collect();
    write_frame_header(&obs, "obs", &index, obs_cols.iter().map(|(n, _)| n.clone()).collect())?;
    for (name, data) in &obs_cols {
        write_obs_column(&obs, name, data, &format!("obs/{name}"))?;
    }

    // var
    let var = create_group(root, "var")?;
    match &dataset.var {
        Some(v) => {
            let index = v
                .index
                .iter()
                .map(|l| match l {
                    Label::Str(s) => Ok(s.clone()),
                    other => Err(H5adError::unwritable("var/_index", format!("gene id {other:?} is not a string"))),
                })
                .collect::<Result<Vec<_>>>()?;
            write_frame_header(&var, "var", &index, v.columns.iter().map(|(n, _)| n.clone()).collect())?;
            for (name, values) in &v.columns {
                write_labels(&var, name, values, &format!("var/{name}"))?;
            }
        }
        None => {
            let index: Vec<String> = (0..n_vars).map(|i| format!("gene{i}")).collect();
            write_frame_header(&var, "var", &index, Vec::new())?;
        }
    }

    if let Some(x) = &dataset.gene_expression {
        write_matrix(root, "X", x, "X")?;
    }
    let obsm = create_group(root, "obsm")?;
    if let Some(m) = &dataset.latent_space {
        write_matrix(&obsm, LATENT_KEY, m, &format!("obsm/{LATENT_KEY}"))?;
    }
    for d in 1..=3 {
        if let Some(m) = dataset.embedding(d) {
            let key = umap_key(d);
            write_obsm(&obsm, &key, m)?;
        }
    }
    for (key, m) in dataset.vector_fields.iter().flatten() {
        write_obsm(&obsm, key, m)?;
    }
    let obsp = create_group(root, "obsp")?;
    if let Some(m) = &dataset.connectivities {
        write_matrix(&obsp, CONNECTIVITIES_KEY, m, &format!("obsp/{CONNECTIVITIES_KEY}"))?;
    }
    for empty in ["layers", "uns", "varm", "varp"] {
        create_group(root, empty)?;
    }
    Ok(())
}

fn n_obs(dataset: &Dataset) -> usize {
    if let Some(o) = &dataset.obs {
        return o.n_rows;
    }
    [&dataset.latent_space, &dataset.gene_expression, &dataset.x_umap_1d, &dataset.x_umap_2d, &dataset.x_umap_3d]
        .into_iter()
        .flatten()
        .map(|m| m.shape()[0])
        .next()
        .unwrap_or(0)
}

fn create_group(parent: &Group, name: &str) -> Result<Group> {
    let path = if parent.name() == "/" { name.to_string() } else { format!("{}/{name}", parent.name().trim_start_matches('/')) };
    let g = parent.create_group(name).map_err(H5adError::hdf5(&path))?;
    if !matches!(name, "obs" | "var") {
        set_encoding(&g, "dict", &path)?;
    }
    Ok(g)
}

/// obsm entries must be 2-D for anndata: a `(n,)` array is written as `(n, 1)`.
fn write_obsm(obsm: &Group, key: &str, m: &Matrix) -> Result<()> {
    let path = format!("obsm/{key}");
    match m {
        Matrix::Dense(d) if d.shape.len() == 1 => write_dense(obsm, key, &d.values, &[d.shape[0], 1], &path, true),
        other => write_matrix(obsm, key, other, &path),
    }
}

fn write_frame_header(g: &Group, path: &str, index: &[String], columns: Vec<String>) -> Result<()> {
    set_encoding(g, "dataframe", path)?;
    set_string(g, "_index", "_index", path)?;
    set_strings(g, "column-order", &columns, path)?;
    write_strings(g, "_index", index, &format!("{path}/_index"))
}

// ------------------------------------------------------------------ datasets

/// One contiguous dataset written from `data` in a single call.
fn write_typed<T: H5Type>(g: &Group, name: &str, data: &[T], shape: &[usize], path: &str) -> Result<hdf5::Dataset> {
    let ds = g.new_dataset::<T>().shape(shape).create(name).map_err(H5adError::hdf5(path))?;
    if !data.is_empty() {
        ds.write_raw(data).map_err(H5adError::hdf5(path))?;
    }
    Ok(ds)
}

fn write_dense(g: &Group, name: &str, values: &Values, shape: &[usize], path: &str, encoded: bool) -> Result<()> {
    let ds = with_values!(values, v => write_typed(g, name, v, shape, path))?;
    if encoded {
        set_encoding(&ds, "array", path)?;
    }
    Ok(())
}

fn write_array(g: &Group, name: &str, values: &Values, path: &str) -> Result<()> {
    write_dense(g, name, values, &[values.len()], path, true)
}

fn write_strings(g: &Group, name: &str, values: &[String], path: &str) -> Result<()> {
    let v = values
        .iter()
        .map(|s| s.parse::<VarLenUnicode>())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|_| H5adError::unwritable(path, "a string contains a NUL byte"))?;
    let ds = write_typed(g, name, &v, &[v.len()], path)?;
    set_encoding(&ds, "string-array", path)
}

fn write_bools(g: &Group, name: &str, values: &[bool], path: &str) -> Result<()> {
    let ds = write_typed(g, name, values, &[values.len()], path)?;
    set_encoding(&ds, "array", path)
}

// ------------------------------------------------------------------ matrices

fn write_matrix(g: &Group, name: &str, m: &Matrix, path: &str) -> Result<()> {
    match m {
        Matrix::Dense(d) => write_dense(g, name, &d.values, &d.shape, path, true),
        Matrix::Csr(c) => write_compressed(g, name, c, "csr_matrix", path),
        Matrix::Csc(c) => write_compressed(g, name, c, "csc_matrix", path),
        Matrix::Coo(c) => write_compressed(g, name, &coo_to_csr(c, path)?, "csr_matrix", path),
    }
}

fn write_compressed(g: &Group, name: &str, c: &Compressed, kind: &str, path: &str) -> Result<()> {
    let (major, minor) = if kind == "csr_matrix" { c.shape } else { (c.shape.1, c.shape.0) };
    if c.indptr.len() != major + 1 || c.indices.len() != c.nnz() {
        return Err(H5adError::unwritable(path, "indptr/indices lengths disagree with the shape"));
    }
    let sub = g.create_group(name).map_err(H5adError::hdf5(path))?;
    set_encoding(&sub, kind, path)?;
    set_ints(&sub, "shape", &[c.shape.0 as i64, c.shape.1 as i64], path)?;
    write_dense(&sub, "data", &c.data, &[c.nnz()], &format!("{path}/data"), false)?;
    // int32 while the values fit, else int64, decided per array (indices by the minor
    // dimension, indptr by nnz) so that a writer streaming rows, which learns nnz only at
    // the end, writes the same dtypes (`write_stream`). scipy and anndata read mixed
    // index dtypes (scipy casts both to a common one).
    if minor > i32::MAX as usize {
        write_converted::<u32, i64>(&sub, "indices", &c.indices, &format!("{path}/indices"), |x| x as i64)?;
    } else {
        write_converted::<u32, i32>(&sub, "indices", &c.indices, &format!("{path}/indices"), |x| x as i32)?;
    }
    write_indptr(&sub, &c.indptr, &format!("{path}/indptr"))
}

/// `indptr` as int32 when its last offset (nnz) fits, else int64.
pub(super) fn write_indptr(g: &Group, indptr: &[u64], path: &str) -> Result<()> {
    if indptr.last().is_some_and(|&n| n > i32::MAX as u64) {
        write_converted::<u64, i64>(g, "indptr", indptr, path, |x| x as i64)
    } else {
        write_converted::<u64, i32>(g, "indptr", indptr, path, |x| x as i32)
    }
}

/// Writes `src` converted element-wise, one block at a time into a contiguous dataset.
fn write_converted<S: Copy, T: H5Type + Copy>(
    g: &Group,
    name: &str,
    src: &[S],
    path: &str,
    conv: impl Fn(S) -> T,
) -> Result<()> {
    let ds = g.new_dataset::<T>().shape([src.len()]).create(name).map_err(H5adError::hdf5(path))?;
    let mut buf: Vec<T> = Vec::with_capacity(INDEX_BLOCK.min(src.len()));
    for start in (0..src.len()).step_by(INDEX_BLOCK) {
        let end = (start + INDEX_BLOCK).min(src.len());
        buf.clear();
        buf.extend(src[start..end].iter().map(|&x| conv(x)));
        ds.write_slice(buf.as_slice(), start..end).map_err(H5adError::hdf5(path))?;
    }
    Ok(())
}

/// COO → CSR by a stable counting sort on rows: duplicates and their order are kept.
fn coo_to_csr(c: &Coo, path: &str) -> Result<Compressed> {
    let (n_rows, _) = c.shape;
    let nnz = c.data.len();
    if c.rows.len() != nnz || c.cols.len() != nnz {
        return Err(H5adError::unwritable(path, "COO rows/cols/data lengths differ"));
    }
    let mut indptr = vec![0u64; n_rows + 1];
    for &r in &c.rows {
        let r = r as usize;
        if r >= n_rows {
            return Err(H5adError::unwritable(path, format!("COO row {r} outside 0..{n_rows}")));
        }
        indptr[r + 1] += 1;
    }
    for r in 0..n_rows {
        indptr[r + 1] += indptr[r];
    }
    let mut next = indptr[..n_rows].to_vec();
    let mut order = vec![0usize; nnz];
    for (k, &r) in c.rows.iter().enumerate() {
        order[next[r as usize] as usize] = k;
        next[r as usize] += 1;
    }
    let indices = order.iter().map(|&k| c.cols[k]).collect();
    let data = with_values!(&c.data, v => Values::from_permuted(v, &order));
    Ok(Compressed { shape: c.shape, indptr, indices, data })
}

/// Gathers `v[order[i]]` into a `Values` of the same dtype.
trait FromPermuted<T> {
    fn from_permuted(v: &[T], order: &[usize]) -> Values;
}

macro_rules! permuted {
    ($t:ty, $var:ident) => {
        impl FromPermuted<$t> for Values {
            fn from_permuted(v: &[$t], order: &[usize]) -> Values {
                Values::$var(order.iter().map(|&k| v[k]).collect())
            }
        }
    };
}
permuted!(bool, Bool);
permuted!(i8, I8);
permuted!(i16, I16);
permuted!(i32, I32);
permuted!(i64, I64);
permuted!(u8, U8);
permuted!(u16, U16);
permuted!(u32, U32);
permuted!(u64, U64);
permuted!(f32, F32);
permuted!(f64, F64);

// ------------------------------------------------------------------ columns

fn write_obs_column(g: &Group, name: &str, data: &ObsData, path: &str) -> Result<()> {
    match data {
        ObsData::Numeric(v) => write_array(g, name, v, path),
        ObsData::Bool(b) => write_bools(g, name, b, path),
        ObsData::Categorical { categories, codes } => write_categorical(g, name, categories, codes, path),
        ObsData::Strings(s) => {
            if s.iter().all(Option::is_some) {
                let v: Vec<String> = s.iter().flatten().cloned().collect();
                write_strings(g, name, &v, path)
            } else {
                let sub = nullable_group(g, name, "nullable-string-array", path)?;
                let v: Vec<String> = s.iter().map(|x| x.clone().unwrap_or_default()).collect();
                let mask: Vec<bool> = s.iter().map(Option::is_none).collect();
                write_strings(&sub, "values", &v, &format!("{path}/values"))?;
                write_bools(&sub, "mask", &mask, &format!("{path}/mask"))
            }
        }
        ObsData::NullableNumeric { values, missing } => {
            if values.dtype().is_float() || values.dtype() == cellucid_core::DType::Bool {
                return Err(H5adError::unwritable(
                    path,
                    format!("nullable {} has no AnnData encoding (only nullable integers do)", values.dtype().name()),
                ));
            }
            let sub = nullable_group(g, name, "nullable-integer", path)?;
            write_array(&sub, "values", values, &format!("{path}/values"))?;
            write_bools(&sub, "mask", missing, &format!("{path}/mask"))
        }
        ObsData::NullableBool(b) => {
            let sub = nullable_group(g, name, "nullable-boolean", path)?;
            let v: Vec<bool> = b.iter().map(|x| x.unwrap_or(false)).collect();
            let mask: Vec<bool> = b.iter().map(Option::is_none).collect();
            write_bools(&sub, "values", &v, &format!("{path}/values"))?;
            write_bools(&sub, "mask", &mask, &format!("{path}/mask"))
        }
        ObsData::Unsupported { dtype_repr } => {
            Err(H5adError::unwritable(path, format!("column of dtype {dtype_repr} has no AnnData encoding here")))
        }
    }
}

fn nullable_group(g: &Group, name: &str, kind: &str, path: &str) -> Result<Group> {
    let sub = g.create_group(name).map_err(H5adError::hdf5(path))?;
    set_encoding(&sub, kind, path)?;
    Ok(sub)
}

fn write_categorical(g: &Group, name: &str, categories: &[Label], codes: &[i32], path: &str) -> Result<()> {
    let sub = g.create_group(name).map_err(H5adError::hdf5(path))?;
    set_encoding(&sub, "categorical", path)?;
    set_bool(&sub, "ordered", false, path)?;
    write_labels(&sub, "categories", categories, &format!("{path}/categories"))?;
    let codes_path = format!("{path}/codes");
    let n = categories.len();
    // pandas picks the narrowest signed code type that holds every code and -1.
    let codes = if n < i8::MAX as usize {
        Values::I8(codes.iter().map(|&c| c as i8).collect())
    } else if n < i16::MAX as usize {
        Values::I16(codes.iter().map(|&c| c as i16).collect())
    } else {
        Values::I32(codes.to_vec())
    };
    write_array(&sub, "codes", &codes, &codes_path)
}

/// A list of labels as one typed array; all labels must share one JSON type.
fn write_labels(g: &Group, name: &str, labels: &[Label], path: &str) -> Result<()> {
    let mixed = || H5adError::unwritable(path, "labels mix types (strings, ints, floats, bools)");
    match labels.first() {
        None | Some(Label::Str(_)) => {
            let v = labels.iter().map(|l| if let Label::Str(s) = l { Ok(s.clone()) } else { Err(mixed()) }).collect::<Result<Vec<_>>>()?;
            write_strings(g, name, &v, path)
        }
        Some(Label::Int(_)) => {
            let v = labels.iter().map(|l| if let Label::Int(x) = l { Ok(*x) } else { Err(mixed()) }).collect::<Result<Vec<_>>>()?;
            write_array(g, name, &Values::I64(v), path)
        }
        Some(Label::Float(_)) => {
            let v = labels.iter().map(|l| if let Label::Float(x) = l { Ok(*x) } else { Err(mixed()) }).collect::<Result<Vec<_>>>()?;
            write_array(g, name, &Values::F64(v), path)
        }
        Some(Label::Bool(_)) => {
            let v = labels.iter().map(|l| if let Label::Bool(x) = l { Ok(*x) } else { Err(mixed()) }).collect::<Result<Vec<_>>>()?;
            write_bools(g, name, &v, path)
        }
    }
}
