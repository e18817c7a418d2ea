//! The golden conformance inputs as a [`Dataset`].
//!
//! Each golden case (`shared/golden/caseNN_*`) describes its `prepare()` call in
//! `inputs/inputs.json` with raw little-endian, row-major array files beside it. This
//! module rebuilds exactly what the reference received:
//! - arrays: dense `{file, dtype, shape}` (a `(n,)` `X_umap_1d` stays 1-D), sparse
//!   `{format, shape, data, indices, indptr}` in the format passed;
//! - obs as pandas held it: `object_strings` → [`ObsData::Strings`] (the exporter derives
//!   the category order itself), `categorical` → declared categories as labels of their
//!   JSON type, `bool`, `nullable_bool`, `numeric` in its original dtype;
//! - var from `var.index` / `var.columns`; vector fields in `vector_fields_order_passed`;
//! - [`export_options`]: the case's `params` as [`ExportOptions`].

use std::path::{Path, PathBuf};

use cellucid_core::{Compressed, Dataset, DenseArray, ExportOptions, Label, Matrix, ObsColumn, ObsData, ObsFrame, Values, VarFrame};
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum GoldenError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not valid JSON: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{case}: {detail}")]
    Malformed { case: String, detail: String },
}

type Result<T> = std::result::Result<T, GoldenError>;

/// The golden root: `$CELLUCID_SHARED/golden`, else `shared/golden` beside the repository.
pub fn golden_root() -> PathBuf {
    // `shared/` sits beside the repository (CI clones main with shared/ next to it);
    // CELLUCID_SHARED points elsewhere.
    std::env::var_os("CELLUCID_SHARED")
        .map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"), PathBuf::from)
        .join("golden")
}

/// Every `case*` directory under `root`, sorted by name.
pub fn case_dirs(root: &Path) -> Result<Vec<PathBuf>> {
    let io = |source| GoldenError::Io { path: root.to_path_buf(), source };
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(root).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() && path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("case")) {
            dirs.push(path);
        }
    }
    dirs.sort();
    Ok(dirs)
}

/// A case's `inputs/inputs.json`.
pub fn inputs_json(case_dir: &Path) -> Result<Value> {
    read_json(&case_dir.join("inputs").join("inputs.json"))
}

/// A case's `params.json` (the `export --params` form, with its `inputs` mapping).
pub fn params_json(case_dir: &Path) -> Result<Value> {
    read_json(&case_dir.join("params.json"))
}

/// A case's `params.json` as text (for [`crate::h5ad::Mapping::from_params_text`], which
/// keeps the vector fields in the order passed).
pub fn params_text(case_dir: &Path) -> Result<String> {
    let path = case_dir.join("params.json");
    std::fs::read_to_string(&path).map_err(|source| GoldenError::Io { path, source })
}

fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|source| GoldenError::Io { path: path.to_path_buf(), source })?;
    serde_json::from_str(&text).map_err(|source| GoldenError::Json { path: path.to_path_buf(), source })
}

struct Case {
    name: String,
    inputs: PathBuf,
}

impl Case {
    fn bad(&self, detail: impl Into<String>) -> GoldenError {
        GoldenError::Malformed { case: self.name.clone(), detail: detail.into() }
    }

    fn field<'v>(&self, v: &'v Value, key: &str) -> Result<&'v Value> {
        v.get(key).ok_or_else(|| self.bad(format!("missing key {key:?} in {v}")))
    }

    fn shape(&self, spec: &Value) -> Result<Vec<usize>> {
        self.field(spec, "shape")?
            .as_array()
            .and_then(|a| a.iter().map(|x| x.as_u64().map(|x| x as usize)).collect::<Option<Vec<_>>>())
            .ok_or_else(|| self.bad(format!("bad shape in {spec}")))
    }

    /// A raw file `{file, dtype, shape}` as typed values.
    fn raw(&self, spec: &Value) -> Result<Values> {
        let file = self.field(spec, "file")?.as_str().ok_or_else(|| self.bad("file is not a string"))?;
        let dtype = self.field(spec, "dtype")?.as_str().ok_or_else(|| self.bad("dtype is not a string"))?;
        let path = self.inputs.join(file);
        let bytes = std::fs::read(&path).map_err(|source| GoldenError::Io { path: path.clone(), source })?;
        let n: usize = self.shape(spec)?.iter().product();
        macro_rules! le {
            ($t:ty, $v:ident) => {{
                let w = std::mem::size_of::<$t>();
                if bytes.len() != n * w {
                    return Err(self.bad(format!("{file}: {} bytes, expected {}", bytes.len(), n * w)));
                }
                Values::$v(
                    bytes
                        .chunks_exact(w)
                        .map(|c| {
                            let mut a = [0u8; std::mem::size_of::<$t>()];
                            a.copy_from_slice(c);
                            <$t>::from_le_bytes(a)
                        })
                        .collect(),
                )
            }};
        }
        Ok(match dtype {
            "int8" => le!(i8, I8),
            "int16" => le!(i16, I16),
            "int32" => le!(i32, I32),
            "int64" => le!(i64, I64),
            "uint8" => le!(u8, U8),
            "uint16" => le!(u16, U16),
            "uint32" => le!(u32, U32),
            "uint64" => le!(u64, U64),
            "float32" => le!(f32, F32),
            "float64" => le!(f64, F64),
            other => return Err(self.bad(format!("{file}: unknown dtype {other}"))),
        })
    }

    fn ints(&self, spec: &Value) -> Result<Vec<i64>> {
        let v = self.raw(spec)?;
        if v.dtype().is_float() {
            return Err(self.bad("index array of float dtype"));
        }
        Ok(v.to_f64_vec().into_iter().map(|x| x as i64).collect())
    }

    fn matrix(&self, spec: &Value) -> Result<Matrix> {
        if spec.get("kind").and_then(Value::as_str) == Some("sparse") {
            let shape = self.shape(spec)?;
            let [rows, cols] = shape[..] else { return Err(self.bad("sparse shape is not 2-D")) };
            let indptr = self.ints(self.field(spec, "indptr")?)?.into_iter().map(|x| x as u64).collect();
            let indices = self.ints(self.field(spec, "indices")?)?.into_iter().map(|x| x as u32).collect();
            let data = self.raw(self.field(spec, "data")?)?;
            let c = Compressed { shape: (rows, cols), indptr, indices, data };
            return match self.field(spec, "format")?.as_str() {
                Some("csr") => Ok(Matrix::Csr(c)),
                Some("csc") => Ok(Matrix::Csc(c)),
                other => Err(self.bad(format!("sparse format {other:?}"))),
            };
        }
        Ok(Matrix::Dense(DenseArray { shape: self.shape(spec)?, values: self.raw(spec)? }))
    }

    fn label(&self, v: &Value) -> Result<Label> {
        Ok(match v {
            Value::String(s) => Label::Str(s.clone()),
            Value::Bool(b) => Label::Bool(*b),
            Value::Number(n) if n.is_i64() => Label::Int(n.as_i64().unwrap_or_default()),
            Value::Number(n) => Label::Float(n.as_f64().ok_or_else(|| self.bad(format!("label {n}")))?),
            Value::Null => Label::Float(f64::NAN),
            other => return Err(self.bad(format!("label {other} is not a scalar"))),
        })
    }

    fn obs_column(&self, col: &Value) -> Result<ObsColumn> {
        let name = self.field(col, "name")?.as_str().ok_or_else(|| self.bad("column name"))?.to_string();
        let kind = self.field(col, "kind")?.as_str().unwrap_or_default();
        let data = match kind {
            "numeric" => ObsData::Numeric(self.raw(self.field(col, "values")?)?),
            "categorical" => {
                let categories = self
                    .field(col, "categories")?
                    .as_array()
                    .ok_or_else(|| self.bad("categories"))?
                    .iter()
                    .map(|v| self.label(v))
                    .collect::<Result<Vec<_>>>()?;
                let codes = self.ints(self.field(col, "codes")?)?.into_iter().map(|c| c as i32).collect();
                ObsData::Categorical { categories, codes }
            }
            "object_strings" => {
                let table: Vec<&str> = self
                    .field(col, "value_table_first_appearance")?
                    .as_array()
                    .and_then(|a| a.iter().map(Value::as_str).collect::<Option<Vec<_>>>())
                    .ok_or_else(|| self.bad("value table"))?;
                let codes = self.ints(self.field(col, "value_codes")?)?;
                let values = codes
                    .into_iter()
                    .map(|c| match c {
                        -1 => Ok(None),
                        c => table.get(c as usize).map(|s| Some(s.to_string())).ok_or_else(|| self.bad(format!("code {c}"))),
                    })
                    .collect::<Result<Vec<_>>>()?;
                ObsData::Strings(values)
            }
            "bool" => ObsData::Bool(self.ints(self.field(col, "values")?)?.into_iter().map(|x| x != 0).collect()),
            "nullable_bool" => ObsData::NullableBool(
                self.ints(self.field(col, "values")?)?.into_iter().map(|x| (x >= 0).then_some(x == 1)).collect(),
            ),
            other => return Err(self.bad(format!("obs column kind {other:?}"))),
        };
        Ok(ObsColumn { name, data })
    }
}

/// The case's full `prepare()` data as a [`Dataset`].
pub fn load_dataset(case_dir: &Path) -> Result<Dataset> {
    let meta = inputs_json(case_dir)?;
    let case = Case {
        name: case_dir.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        inputs: case_dir.join("inputs"),
    };
    let mut ds = Dataset::default();
    let arrays = case.field(&meta, "arrays")?.as_object().ok_or_else(|| case.bad("arrays is not an object"))?;
    for (arg, spec) in arrays {
        let m = case.matrix(spec)?;
        match arg.as_str() {
            "latent_space" => ds.latent_space = Some(m),
            "gene_expression" => ds.gene_expression = Some(m),
            "connectivities" => ds.connectivities = Some(m),
            "X_umap_1d" => ds.x_umap_1d = Some(m),
            "X_umap_2d" => ds.x_umap_2d = Some(m),
            "X_umap_3d" => ds.x_umap_3d = Some(m),
            other => return Err(case.bad(format!("unknown array argument {other:?}"))),
        }
    }
    let obs = case.field(&meta, "obs")?;
    let n_rows = case.field(obs, "n_rows")?.as_u64().ok_or_else(|| case.bad("n_rows"))? as usize;
    let columns = case
        .field(obs, "columns")?
        .as_array()
        .ok_or_else(|| case.bad("obs.columns"))?
        .iter()
        .map(|c| case.obs_column(c))
        .collect::<Result<Vec<_>>>()?;
    ds.obs = Some(ObsFrame { n_rows, columns });

    if let Some(var) = meta.get("var") {
        let index = case
            .field(var, "index")?
            .as_array()
            .ok_or_else(|| case.bad("var.index"))?
            .iter()
            .map(|v| case.label(v))
            .collect::<Result<Vec<_>>>()?;
        let mut columns = Vec::new();
        for (name, vals) in case.field(var, "columns")?.as_object().ok_or_else(|| case.bad("var.columns"))? {
            let vals = vals.as_array().ok_or_else(|| case.bad("var column"))?;
            columns.push((name.clone(), vals.iter().map(|v| case.label(v)).collect::<Result<Vec<_>>>()?));
        }
        ds.var = Some(VarFrame { index, columns });
    }

    if let Some(fields) = meta.get("vector_fields") {
        let order = case.field(&meta, "vector_fields_order_passed")?.as_array().ok_or_else(|| case.bad("order"))?;
        let mut out = Vec::with_capacity(order.len());
        for key in order {
            let key = key.as_str().ok_or_else(|| case.bad("vector field key"))?;
            out.push((key.to_string(), case.matrix(case.field(fields, key)?)?));
        }
        ds.vector_fields = Some(out);
    }
    Ok(ds)
}

/// The case's `params` as [`ExportOptions`] (every parameter present is set; `out_dir`
/// is the caller's business and `force` is kept).
pub fn export_options(case_dir: &Path) -> Result<ExportOptions> {
    let meta = inputs_json(case_dir)?;
    let name = case_dir.display().to_string();
    let bad = |detail: String| GoldenError::Malformed { case: name.clone(), detail };
    let params = meta.get("params").and_then(Value::as_object).ok_or_else(|| bad("no params object".into()))?;
    let string = |k: &str| -> Result<String> {
        params.get(k).and_then(Value::as_str).map(str::to_string).ok_or_else(|| bad(format!("{k} is not a string")))
    };
    let opt_string = |k: &str| -> Result<Option<String>> {
        match params.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(bad(format!("{k} = {v} is not a string"))),
        }
    };
    let opt_int = |k: &str| -> Result<Option<i64>> {
        match params.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or_else(|| bad(format!("{k} = {v} is not an integer"))),
        }
    };
    let opt_list = |k: &str| -> Result<Option<Vec<String>>> {
        match params.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_array()
                .and_then(|a| a.iter().map(|x| x.as_str().map(str::to_string)).collect::<Option<Vec<_>>>())
                .map(Some)
                .ok_or_else(|| bad(format!("{k} = {v} is not a list of strings"))),
        }
    };
    let mut o = ExportOptions::new(string("dataset_name")?, string("dataset_id")?, string("obs_categorical_dtype")?);
    for key in params.keys() {
        match key.as_str() {
            "dataset_name" | "dataset_id" | "obs_categorical_dtype" | "out_dir" => {}
            "force" => o.force = params[key].as_bool().ok_or_else(|| bad("force is not a bool".into()))?,
            "created_at" => o.created_at = opt_string(key)?,
            "dataset_description" => o.dataset_description = opt_string(key)?,
            "source_name" => o.source_name = opt_string(key)?,
            "source_url" => o.source_url = opt_string(key)?,
            "source_citation" => o.source_citation = opt_string(key)?,
            "vector_field_default" => o.vector_field_default = opt_string(key)?,
            "var_gene_id_column" => o.var_gene_id_column = opt_string(key)?,
            "gene_identifiers" => o.gene_identifiers = opt_list(key)?,
            "obs_keys" => o.obs_keys = opt_list(key)?,
            "var_quantization" => o.var_quantization = opt_int(key)?,
            "obs_continuous_quantization" => o.obs_continuous_quantization = opt_int(key)?,
            "compression" => o.compression = opt_int(key)?,
            "centroid_min_points" => {
                o.centroid_min_points = opt_int(key)?.ok_or_else(|| bad("centroid_min_points is null".into()))?
            }
            "centroid_outlier_quantile" => {
                o.centroid_outlier_quantile = match &params[key] {
                    Value::Null => None,
                    v => Some(v.as_f64().ok_or_else(|| bad(format!("centroid_outlier_quantile = {v}")))?),
                }
            }
            other => return Err(bad(format!("unknown parameter {other:?}"))),
        }
    }
    Ok(o)
}
