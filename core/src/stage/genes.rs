//! `var/` and `var_manifest.json` (FORMAT.md §9): gene ids and panel, the pre-flight
//! check of every exported column, and the parallel gene writer.
//!
//! The writer never densifies the matrix whole: each rayon worker owns one column
//! buffer of `n` f32 plus its payload and gzip buffers, fills the buffer straight from
//! the CSC column (or from the dense array), quantizes, compresses and writes the file.

use super::csc::{coo_to_csc, csr_to_csc_kept};
use super::diagnosis::{diagnose_slice, f64_is_clean, shape_repr};
use super::obs::ext_dtype;
use super::output::{Output, Written};
use crate::codec::json::Json;
use crate::codec::quantize::{self, finite_min_max, Bounds, Quantizer};
use crate::codec::PayloadEncoder;
use crate::dataset::{Compressed, DType, Dataset, DenseArray, Element, Label, Matrix, Values, VarFrame};
use crate::error::{ExportError, Result};
use crate::options::{check_display_as, ExportOptions};
use crate::text::{py_repr, py_repr_list};
use crate::with_values;
use rayon::prelude::*;
use std::borrow::Cow;
use crate::fixed_hash::{FixedMap, FixedSet};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The gene matrix in a column-readable layout.
pub enum Columns<'a> {
    Csc(Cow<'a, Compressed>),
    Dense(&'a DenseArray),
}

/// Exported genes: ids in panel order, their var columns, and the matrix.
pub struct Genes<'a> {
    pub ids: Vec<String>,
    pub columns: Vec<usize>,
    pub matrix: Columns<'a>,
    pub n_cells: usize,
}

fn type_name(l: &Label) -> &'static str {
    match l {
        Label::Str(_) => "str",
        Label::Int(_) => "int",
        Label::Float(_) => "float",
        Label::Bool(_) => "bool",
    }
}

/// D.7: var, matrix shape, ids, panel. `None` when there is no gene_expression.
pub fn prepare<'a>(ds: &'a Dataset, options: &ExportOptions, n_cells: usize) -> Result<Option<Genes<'a>>> {
    prepare_matrix(ds.gene_expression.as_ref(), ds, options, n_cells)
}

/// [`prepare`] with `matrix` standing for `ds.gene_expression` (e.g. one built beside
/// the other inputs' checks).
pub fn prepare_matrix<'a>(
    matrix: Option<&'a Matrix>,
    ds: &Dataset,
    options: &ExportOptions,
    n_cells: usize,
) -> Result<Option<Genes<'a>>> {
    let Some(matrix) = matrix else { return Ok(None) };
    let (ids, columns) = select(ds.var.as_ref(), &matrix.shape(), options, n_cells)?;
    let matrix = match matrix {
        Matrix::Dense(d) => Columns::Dense(d),
        Matrix::Csc(c) => Columns::Csc(Cow::Borrowed(c)),
        Matrix::Csr(c) => Columns::Csc(Cow::Owned(csr_to_csc_kept(c, panel_mask(options, &columns, c.shape.1).as_deref()))),
        Matrix::Coo(c) => Columns::Csc(Cow::Owned(coo_to_csc(c))),
    };
    Ok(Some(Genes { ids, columns, matrix, n_cells }))
}

/// With a gene panel, the columns it exports (the transpose then skips the others: the
/// gene stage reads only these); `None` without one.
fn panel_mask(options: &ExportOptions, columns: &[usize], n_cols: usize) -> Option<Vec<bool>> {
    options.gene_identifiers.as_ref()?;
    let mut keep = vec![false; n_cols];
    columns.iter().for_each(|&c| keep[c] = true);
    Some(keep)
}

/// The var columns a gene panel exports, for a reader that materialises only those:
/// `None` without a panel, or with one that the export will refuse (the reader then
/// reads the whole matrix, so the refusal is the one a full read gives).
pub fn panel_columns(var: &VarFrame, options: &ExportOptions) -> Option<Vec<usize>> {
    options.gene_identifiers.as_ref()?;
    select(Some(var), &[0, var.len()], options, 0).ok().map(|(_, columns)| columns)
}

/// The checks of D.7 that do not look at values: var, the matrix's shape, gene ids and
/// the panel. Returns the exported ids and their var columns, in panel order.
pub(super) fn select(
    var: Option<&VarFrame>,
    shape: &[usize],
    options: &ExportOptions,
    n_cells: usize,
) -> Result<(Vec<String>, Vec<usize>)> {
    let Some(var) = var else {
        return Err(ExportError::value("var", "var DataFrame must be provided when gene_expression is given."));
    };
    if shape.len() != 2 {
        return Err(ExportError::value(
            "gene_expression",
            format!("gene_expression must be a 2D array or sparse matrix; got shape {}.", shape_repr(&shape)),
        ));
    }
    let (rows, n_genes) = (shape[0], shape[1]);
    if rows != n_cells {
        return Err(ExportError::value(
            "gene_expression",
            format!("gene_expression has {rows} cells, but embeddings have {n_cells} cells."),
        ));
    }
    if var.len() != n_genes {
        return Err(ExportError::value("var", format!("var has {} rows, but gene_expression has {n_genes} genes.", var.len())));
    }
    let (source, what): (&[Label], String) = match &options.var_gene_id_column {
        None => (&var.index, "var index".to_string()),
        Some(col) if col.is_empty() => {
            return Err(ExportError::value("var_gene_id_column", "var_gene_id_column must be a native non-empty string or None."));
        }
        Some(col) => match var.columns.iter().find(|(name, _)| name == col) {
            Some((_, values)) => (values, format!("var column {}", py_repr(col))),
            None => {
                let names: Vec<&str> = var.columns.iter().map(|(n, _)| n.as_str()).collect();
                return Err(ExportError::key(
                    "var_gene_id_column",
                    format!("var_gene_id_column {} not found in var. Available columns: {}", py_repr(col), py_repr_list(&names)),
                ));
            }
        },
    };
    let mut all_ids = Vec::with_capacity(source.len());
    for (i, l) in source.iter().enumerate() {
        match l {
            Label::Str(s) if s.is_empty() => {
                return Err(ExportError::value("var", format!("{what} identifier at position {i} must be non-empty.")));
            }
            Label::Str(s) => all_ids.push(s.as_str()),
            other => {
                return Err(ExportError::type_(
                    "var",
                    format!("{what} identifier at position {i} must be a string, got {}.", type_name(other)),
                ));
            }
        }
    }
    let mut position: FixedMap<&str, usize> = FixedMap::with_capacity_and_hasher(all_ids.len(), Default::default());
    for (i, id) in all_ids.iter().enumerate() {
        if position.insert(id, i).is_some() {
            return Err(ExportError::value("var", format!("Gene key {} is duplicated.", py_repr(id))));
        }
    }
    let (ids, columns): (Vec<String>, Vec<usize>) = match &options.gene_identifiers {
        None => (all_ids.iter().map(|s| s.to_string()).collect(), (0..n_genes).collect()),
        Some(panel) => {
            let mut seen = FixedSet::default();
            for id in panel {
                if !seen.insert(id.as_str()) {
                    return Err(ExportError::value("gene_identifiers", format!("Requested gene key {} is duplicated.", py_repr(id))));
                }
            }
            let missing: Vec<&String> = panel.iter().filter(|id| !position.contains_key(id.as_str())).collect();
            if !missing.is_empty() {
                return Err(ExportError::key(
                    "gene_identifiers",
                    format!("gene_identifiers contain identifiers not present in var: {}.", py_repr_list(&missing)),
                ));
            }
            (panel.clone(), panel.iter().map(|id| position[id.as_str()]).collect())
        }
    };
    for (i, id) in ids.iter().enumerate() {
        check_display_as("gene_identifiers", &format!("Gene identifier at position {i}"), id)?;
    }
    Ok((ids, columns))
}

/// Densify CSC column `col` into `buf` as f32: duplicates summed in the source dtype,
/// in storage order, then rounded once. `acc` is scratch for the duplicate case.
fn densify_csc<T: Element>(c: &Compressed, data: &[T], col: usize, buf: &mut [f32], acc: &mut Vec<T>) {
    let (a, b) = (c.indptr[col] as usize, c.indptr[col + 1] as usize);
    let idx = &c.indices[a..b];
    let vals = &data[a..b];
    buf.fill(0.0);
    if idx.windows(2).all(|w| w[0] < w[1]) {
        for (&r, &v) in idx.iter().zip(vals) {
            buf[r as usize] = v.to_f32();
        }
    } else {
        acc.clear();
        acc.resize(buf.len(), T::zero());
        for (&r, &v) in idx.iter().zip(vals) {
            acc[r as usize] = acc[r as usize].add_same(v);
        }
        for (&r, _) in idx.iter().zip(vals) {
            buf[r as usize] = acc[r as usize].to_f32();
        }
    }
}

/// The dense source column `col` as typed values (for diagnosis).
fn column_values<T: Element>(data: &[T], n_genes: usize, col: usize) -> Vec<T> {
    data.iter().skip(col).step_by(n_genes.max(1)).copied().collect()
}

/// The densified source column in its own dtype (duplicates summed), for diagnosis.
fn csc_column_values<T: Element>(c: &Compressed, data: &[T], col: usize, n: usize) -> Vec<T> {
    let mut out = vec![T::zero(); n];
    for k in c.indptr[col] as usize..c.indptr[col + 1] as usize {
        let r = c.indices[k] as usize;
        out[r] = out[r].add_same(data[k]);
    }
    out
}

impl Genes<'_> {
    fn values(&self) -> &Values {
        match &self.matrix {
            Columns::Csc(c) => &c.data,
            Columns::Dense(d) => &d.values,
        }
    }

    /// D.9: every exported column must be finite and float32-safe; the first failing
    /// gene in panel order is reported.
    pub fn preflight(&self) -> Result<()> {
        if !check_dtype(self.values().dtype(), &self.ids)? {
            return Ok(());
        }
        match self.first_unclean() {
            None => Ok(()),
            Some(pos) => Err(self.non_finite(pos, &self.ids[pos])),
        }
    }

    /// Position (in `columns`) of the first column that is not finite and float32-safe.
    pub(super) fn first_unclean(&self) -> Option<usize> {
        self.columns.par_iter().position_first(|&col| !self.column_is_clean(col))
    }

    /// The refusal of gene `id`, whose column is `columns[pos]`.
    pub(super) fn non_finite(&self, pos: usize, id: &str) -> ExportError {
        let col = self.columns[pos];
        let diag = with_values!(self.values(), data => match &self.matrix {
            Columns::Csc(c) => diagnose_slice(&csc_column_values(c, data, col, self.n_cells)),
            Columns::Dense(d) => diagnose_slice(&column_values(data, d.shape[1], col)),
        });
        ExportError::non_finite(
            "gene_expression",
            format!(
                "{} Repair the matrix before serving or exporting it -- `adata.X.data[~np.isfinite(adata.X.data)] = 0` for a sparse matrix, `np.nan_to_num(adata.X, copy=False)` for a dense one.",
                diag.cells_sentence(&format!("Gene {}", py_repr(id)))
            ),
        )
    }

    fn column_is_clean(&self, col: usize) -> bool {
        match (&self.matrix, self.values()) {
            (Columns::Csc(c), Values::F32(v)) => {
                let s = &v[c.indptr[col] as usize..c.indptr[col + 1] as usize];
                s.iter().all(|x| x.is_finite()) && (!has_duplicates(c, col) || self.dup_column_clean(col))
            }
            (Columns::Csc(c), Values::F64(v)) => {
                let s = &v[c.indptr[col] as usize..c.indptr[col + 1] as usize];
                s.iter().all(|&x| f64_is_clean(x)) && (!has_duplicates(c, col) || self.dup_column_clean(col))
            }
            (Columns::Dense(d), Values::F32(v)) => v.iter().skip(col).step_by(d.shape[1]).all(|x| x.is_finite()),
            (Columns::Dense(d), Values::F64(v)) => v.iter().skip(col).step_by(d.shape[1]).all(|&x| f64_is_clean(x)),
            _ => true,
        }
    }

    fn dup_column_clean(&self, col: usize) -> bool {
        let Columns::Csc(c) = &self.matrix else { return true };
        with_values!(self.values(), data => diagnose_slice(&csc_column_values(c, data, col, self.n_cells)).is_clean())
    }

    /// Write every exported gene in parallel and the manifest.
    pub fn write(&self, options: &ExportOptions, output: &Output, on_gene: &(dyn Fn(u64) + Sync)) -> Result<Written> {
        output.mkdir("var")?;
        let jobs: Vec<(usize, usize)> = self.columns.iter().copied().enumerate().collect();
        let mut results = vec![(None, Written::default()); self.columns.len()];
        for (g, bounds, written) in self.write_payloads(&jobs, options, output, on_gene)? {
            results[g] = (bounds, written);
        }
        write_manifest(&self.ids, results, self.n_cells, options, output)
    }

    /// Write the payloads of `jobs`, each `(g, col)`: gene `g` of the panel, from
    /// column `col` of this matrix. Returns `(g, bounds, written)` in no fixed order.
    pub(super) fn write_payloads(
        &self,
        jobs: &[(usize, usize)],
        options: &ExportOptions,
        output: &Output,
        on_gene: &(dyn Fn(u64) + Sync),
    ) -> Result<Vec<(usize, Option<Bounds>, Written)>> {
        let bits = options.var_quantization.map(|b| b as u32);
        let (ext, _) = ext_dtype(options.var_quantization);
        let gz = output.suffix();
        let n = self.n_cells;
        // Exactly one worker (column buffer, payload buffers, gzip state) per thread; genes
        // are dealt out through a shared counter, so load balances dynamically.
        let next = AtomicUsize::new(0);
        let threads = rayon::current_num_threads().min(jobs.len()).max(1);
        // Calibration builds only (see `slowdown.rs`): read the knob once per stage.
        #[cfg(feature = "slowdown")]
        let slowdown = super::slowdown::Slowdown::from_env();
        let per_thread: Vec<Result<Vec<(usize, Option<Bounds>, Written)>>> = (0..threads)
            .into_par_iter()
            .map(|_| {
                let mut w = GeneWorker::new(n, output.encoder());
                let mut done = Vec::new();
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(g, col)) = jobs.get(k) else { break };
                    #[cfg(feature = "slowdown")]
                    let started = super::slowdown::thread_cpu();
                    let bounds = w.encode_gene(self, col, bits);
                    let written = w.write(output, &format!("var/{g}.values.{ext}{gz}"))?;
                    #[cfg(feature = "slowdown")]
                    if let Some(s) = slowdown {
                        s.pad(started);
                    }
                    on_gene(written.bytes);
                    done.push((g, bounds, written));
                }
                Ok(done)
            })
            .collect();
        let mut all = Vec::with_capacity(jobs.len());
        for part in per_thread {
            all.extend(part?);
        }
        Ok(all)
    }
}

/// D.9's dtype rule: a bool matrix is refused (naming the first exported gene).
/// Returns whether values still need the finiteness check (floats only: integers are
/// always finite and within float32's range).
pub(super) fn check_dtype(dtype: DType, ids: &[String]) -> Result<bool> {
    if let Some(first) = ids.first() {
        if !dtype.is_real_numeric() {
            return Err(ExportError::type_(
                "gene_expression",
                format!("Gene {} expression must contain real numeric values.", py_repr(first)),
            ));
        }
    }
    Ok(dtype.is_float())
}

/// `var_manifest.json`, from each gene's bounds and written bytes in panel order.
pub(super) fn write_manifest(
    ids: &[String],
    results: Vec<(Option<Bounds>, Written)>,
    n: usize,
    options: &ExportOptions,
    output: &Output,
) -> Result<Written> {
    let bits = options.var_quantization.map(|b| b as u32);
    let (ext, dtype) = ext_dtype(options.var_quantization);
    let gz = output.suffix();
    let mut total = Written::default();
    let mut fields = Vec::with_capacity(results.len());
    for (g, (bounds, w)) in results.into_iter().enumerate() {
        total += w;
        let mut t = vec![Json::Int(g as i64), Json::Str(ids[g].clone())];
        if let Some(b) = bounds {
            t.push(Json::Float(b.min));
            t.push(Json::Float(b.max));
        }
        fields.push(Json::Array(t));
    }
    let mut schema = vec![
        ("kind".to_string(), Json::Str("continuous".into())),
        ("pathPattern".into(), Json::Str(format!("var/{{index}}.values.{ext}{gz}"))),
        ("ext".into(), Json::Str(ext.into())),
        ("dtype".into(), Json::Str(dtype.into())),
        ("quantized".into(), Json::Bool(bits.is_some())),
    ];
    if let Some(b) = bits {
        schema.push(("quantizationBits".into(), Json::Int(b as i64)));
    }
    let manifest = Json::Object(vec![
        ("_format".into(), Json::Str("compact_v1".into())),
        ("n_points".into(), Json::Int(n as i64)),
        ("var_gene_id_column".into(), options.var_gene_id_column.clone().map_or(Json::Null, Json::Str)),
        ("compression".into(), options.compression.map_or(Json::Null, Json::Int)),
        ("quantization".into(), options.var_quantization.map_or(Json::Null, Json::Int)),
        ("_varSchema".into(), Json::Object(schema)),
        ("fields".into(), Json::Array(fields)),
    ]);
    total += output.write_json("var_manifest.json", &manifest.to_compact())?;
    Ok(total)
}

fn has_duplicates(c: &Compressed, col: usize) -> bool {
    let idx = &c.indices[c.indptr[col] as usize..c.indptr[col + 1] as usize];
    !idx.windows(2).all(|w| w[0] < w[1])
}

/// Per-thread state of the gene writer: one column buffer and the byte buffers.
pub struct GeneWorker {
    column: Vec<f32>,
    payload: Vec<u8>,
    compressed: Vec<u8>,
    encoder: Option<PayloadEncoder>,
    scratch_f64: Vec<f64>,
    scratch_f32: Vec<f32>,
    scratch_i64: Vec<i64>,
}

impl GeneWorker {
    pub fn new(n_cells: usize, encoder: Option<PayloadEncoder>) -> Self {
        GeneWorker {
            column: vec![0.0; n_cells],
            payload: Vec::new(),
            compressed: Vec::new(),
            encoder,
            scratch_f64: Vec::new(),
            scratch_f32: Vec::new(),
            scratch_i64: Vec::new(),
        }
    }

    /// The densified column as f32.
    pub fn column(&self) -> &[f32] {
        &self.column
    }

    /// Densify var column `col` into the column buffer.
    pub fn fill(&mut self, genes: &Genes<'_>, col: usize) {
        match &genes.matrix {
            Columns::Csc(c) => match &c.data {
                Values::F32(d) => densify_csc(c, d, col, &mut self.column, &mut self.scratch_f32),
                Values::F64(d) => densify_csc(c, d, col, &mut self.column, &mut self.scratch_f64),
                Values::I64(d) => densify_csc(c, d, col, &mut self.column, &mut self.scratch_i64),
                other => with_values!(other, d => densify_csc(c, d, col, &mut self.column, &mut Vec::new())),
            },
            Columns::Dense(d) => {
                let g = d.shape[1];
                let column = &mut self.column;
                with_values!(&d.values, v => {
                    for (r, slot) in column.iter_mut().enumerate() {
                        *slot = v[r * g + col].to_f32();
                    }
                })
            }
        }
    }

    /// Encode var column `col` into the payload: codes (returning bounds) or f32 bytes.
    ///
    /// For a CSC column with strictly increasing rows and no stored zero, the payload is
    /// built straight from the stored entries: every implicit zero has the same code, so
    /// the payload is that code everywhere and the stored values are coded on top. The
    /// bytes are identical to densifying first (same formula, same bounds), at a cost of
    /// O(nnz) instead of O(cells) floating-point work. Anything else takes the dense path.
    pub fn encode_gene(&mut self, genes: &Genes<'_>, col: usize, bits: Option<u32>) -> Option<Bounds> {
        if let Columns::Csc(c) = &genes.matrix {
            let (a, b) = (c.indptr[col] as usize, c.indptr[col + 1] as usize);
            let rows = &c.indices[a..b];
            if rows.windows(2).all(|w| w[0] < w[1]) {
                let done = match &c.data {
                    Values::F32(d) => self.encode_sparse(rows, &d[a..b], genes.n_cells, bits),
                    Values::F64(d) => self.encode_sparse(rows, &d[a..b], genes.n_cells, bits),
                    _ => None,
                };
                if let Some(bounds) = done {
                    return bounds;
                }
            }
        }
        self.fill(genes, col);
        self.encode(bits)
    }

    /// The sparse path; `None` when it does not apply (a stored ±0.0, whose sign the
    /// dense path's bounds would depend on).
    fn encode_sparse<T: Element>(&mut self, rows: &[u32], vals: &[T], n: usize, bits: Option<u32>) -> Option<Option<Bounds>> {
        self.scratch_f32.clear();
        self.scratch_f32.extend(vals.iter().map(|v| v.to_f32()));
        let stored = &self.scratch_f32;
        if stored.iter().any(|&v| v == 0.0) {
            return None;
        }
        self.payload.clear();
        match bits {
            None => {
                self.payload.resize(n * 4, 0);
                for (&r, v) in rows.iter().zip(stored) {
                    self.payload[r as usize * 4..r as usize * 4 + 4].copy_from_slice(&v.to_le_bytes());
                }
                Some(None)
            }
            Some(bits) => {
                let (mut mn, mut mx) = finite_min_max(stored).unwrap_or((0.0, 0.0));
                if rows.len() < n {
                    mn = mn.min(0.0);
                    mx = mx.max(0.0);
                }
                if rows.is_empty() {
                    (mn, mx) = (0.0, 0.0);
                }
                let q = Quantizer::new(bits, mn, mx);
                let zero = q.code(0.0);
                if bits == 16 {
                    self.payload.reserve(n * 2);
                    for _ in 0..n {
                        self.payload.extend_from_slice(&(zero as u16).to_le_bytes());
                    }
                    for (&r, &v) in rows.iter().zip(stored) {
                        let r = r as usize * 2;
                        self.payload[r..r + 2].copy_from_slice(&(q.code(v) as u16).to_le_bytes());
                    }
                } else {
                    self.payload.resize(n, zero as u8);
                    for (&r, &v) in rows.iter().zip(stored) {
                        self.payload[r as usize] = q.code(v) as u8;
                    }
                }
                Some(Some(Bounds { min: mn as f64, max: mx as f64 }))
            }
        }
    }

    /// Encode the column buffer into the payload: codes (returning bounds) or f32 bytes.
    pub fn encode(&mut self, bits: Option<u32>) -> Option<Bounds> {
        self.payload.clear();
        match bits {
            Some(b) => Some(quantize::quantize(&self.column, b, &mut self.payload)),
            None => {
                super::output::f32_bytes(&self.column, &mut self.payload);
                None
            }
        }
    }

    /// Compress (if configured) and write the payload.
    pub fn write(&mut self, output: &Output, rel: &str) -> Result<Written> {
        output.write_with(rel, &self.payload, self.encoder.as_mut(), &mut self.compressed)
    }

    /// The current payload bytes.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn genes_of(n: usize, rows: Vec<u32>, vals: Vec<f32>) -> (Compressed, usize) {
        let nnz = rows.len() as u64;
        (Compressed { shape: (n, 1), indptr: vec![0, nnz], indices: rows, data: Values::F32(vals) }, n)
    }

    proptest! {
        /// The sparse path produces exactly the dense path's payload and bounds.
        #[test]
        fn sparse_path_equals_dense_path(
            n in 1usize..300,
            picks in prop::collection::btree_set(0u32..300, 0..300),
            vals in prop::collection::vec(prop_oneof![-50.0f32..50.0, Just(3.5f32), 1e-3f32..1e-2], 300),
            bits in prop::sample::select(vec![None, Some(8u32), Some(16)]),
        ) {
            let rows: Vec<u32> = picks.into_iter().filter(|&r| (r as usize) < n).collect();
            let vals: Vec<f32> = vals.into_iter().take(rows.len()).map(|v| if v == 0.0 { 1.0 } else { v }).collect();
            let (c, n) = genes_of(n, rows, vals);
            let genes = Genes { ids: vec!["g".into()], columns: vec![0], matrix: Columns::Csc(Cow::Owned(c)), n_cells: n };
            let mut w = GeneWorker::new(n, None);
            let sparse_bounds = w.encode_gene(&genes, 0, bits);
            let sparse = w.payload().to_vec();
            w.fill(&genes, 0);
            let dense_bounds = w.encode(bits);
            prop_assert_eq!(sparse, w.payload().to_vec());
            prop_assert_eq!(sparse_bounds.map(|b| (b.min.to_bits(), b.max.to_bits())), dense_bounds.map(|b| (b.min.to_bits(), b.max.to_bits())));
        }
    }
}
