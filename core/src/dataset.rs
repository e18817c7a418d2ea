//! The exporter's input model: what `prepare()` receives, in Rust types.
//!
//! The model keeps the *source* element types (int64, float32, bool, …) because the
//! reference's behaviour depends on them: int64 → float32 rounds differently from
//! int64 → float64 → float32, bool arrays are refused where numbers are required, and
//! duplicate sparse entries are summed in the matrix's own dtype before rounding.
//! Nothing here validates; validation is the exporter's job and follows the
//! reference's order (FORMAT.md §2), so that the same input fails with the same error.

/// Element type of a numeric buffer, as numpy names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    Bool,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F32,
    F64,
}

impl DType {
    /// numpy's name for the dtype (`"float32"`, `"int64"`, …).
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::I8 => "int8",
            DType::I16 => "int16",
            DType::I32 => "int32",
            DType::I64 => "int64",
            DType::U8 => "uint8",
            DType::U16 => "uint16",
            DType::U32 => "uint32",
            DType::U64 => "uint64",
            DType::F32 => "float32",
            DType::F64 => "float64",
        }
    }

    /// Kind int, uint or float: what the reference accepts as "real numeric values".
    pub fn is_real_numeric(self) -> bool {
        !matches!(self, DType::Bool)
    }

    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }

    /// Size of one element in bytes.
    pub fn size(self) -> usize {
        match self {
            DType::Bool | DType::I8 | DType::U8 => 1,
            DType::I16 | DType::U16 => 2,
            DType::I32 | DType::U32 | DType::F32 => 4,
            DType::I64 | DType::U64 | DType::F64 => 8,
        }
    }
}

/// A flat, typed buffer of values.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    Bool(Vec<bool>),
    I8(Vec<i8>),
    I16(Vec<i16>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
    U64(Vec<u64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
}

/// Calls `$body` with `$v` bound to the inner `Vec<T>` of any [`Values`] variant.
#[macro_export]
macro_rules! with_values {
    ($values:expr, $v:ident => $body:expr) => {
        match $values {
            $crate::Values::Bool($v) => $body,
            $crate::Values::I8($v) => $body,
            $crate::Values::I16($v) => $body,
            $crate::Values::I32($v) => $body,
            $crate::Values::I64($v) => $body,
            $crate::Values::U8($v) => $body,
            $crate::Values::U16($v) => $body,
            $crate::Values::U32($v) => $body,
            $crate::Values::U64($v) => $body,
            $crate::Values::F32($v) => $body,
            $crate::Values::F64($v) => $body,
        }
    };
}

/// A value type that can be widened to f64 and cast to f32 the way numpy does.
///
/// `to_f32` is a *direct* cast (numpy's `astype(float32)`): int64 → f32 rounds once,
/// to nearest even, which is not the same as going through f64 first.
pub trait Element: Copy + Send + Sync + 'static + IntoValues {
    const DTYPE: DType;
    fn to_f64(self) -> f64;
    fn to_f32(self) -> f32;
    /// `self + other` in the element's own type, as numpy sums duplicates (wrapping for ints).
    fn add_same(self, other: Self) -> Self;
    fn zero() -> Self;
}

macro_rules! int_element {
    ($t:ty, $d:ident) => {
        impl Element for $t {
            const DTYPE: DType = DType::$d;
            #[inline]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline]
            fn to_f32(self) -> f32 {
                self as f32
            }
            #[inline]
            fn add_same(self, other: Self) -> Self {
                self.wrapping_add(other)
            }
            #[inline]
            fn zero() -> Self {
                0
            }
        }
    };
}
int_element!(i8, I8);
int_element!(i16, I16);
int_element!(i32, I32);
int_element!(i64, I64);
int_element!(u8, U8);
int_element!(u16, U16);
int_element!(u32, U32);
int_element!(u64, U64);

impl Element for f32 {
    const DTYPE: DType = DType::F32;
    #[inline]
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline]
    fn to_f32(self) -> f32 {
        self
    }
    #[inline]
    fn add_same(self, other: Self) -> Self {
        self + other
    }
    #[inline]
    fn zero() -> Self {
        0.0
    }
}

impl Element for f64 {
    const DTYPE: DType = DType::F64;
    #[inline]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline]
    fn to_f32(self) -> f32 {
        self as f32
    }
    #[inline]
    fn add_same(self, other: Self) -> Self {
        self + other
    }
    #[inline]
    fn zero() -> Self {
        0.0
    }
}

impl Element for bool {
    const DTYPE: DType = DType::Bool;
    #[inline]
    fn to_f64(self) -> f64 {
        self as u8 as f64
    }
    #[inline]
    fn to_f32(self) -> f32 {
        self as u8 as f32
    }
    #[inline]
    fn add_same(self, other: Self) -> Self {
        self | other
    }
    #[inline]
    fn zero() -> Self {
        false
    }
}

impl Values {
    pub fn len(&self) -> usize {
        with_values!(self, v => v.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn dtype(&self) -> DType {
        match self {
            Values::Bool(_) => DType::Bool,
            Values::I8(_) => DType::I8,
            Values::I16(_) => DType::I16,
            Values::I32(_) => DType::I32,
            Values::I64(_) => DType::I64,
            Values::U8(_) => DType::U8,
            Values::U16(_) => DType::U16,
            Values::U32(_) => DType::U32,
            Values::U64(_) => DType::U64,
            Values::F32(_) => DType::F32,
            Values::F64(_) => DType::F64,
        }
    }

    /// Element `i` widened to f64 (exact for every dtype but int64/uint64 beyond 2^53).
    pub fn get_f64(&self, i: usize) -> f64 {
        with_values!(self, v => v[i].to_f64())
    }

    /// Every element widened to f64.
    pub fn to_f64_vec(&self) -> Vec<f64> {
        with_values!(self, v => v.iter().map(|x| x.to_f64()).collect())
    }

    /// Every element cast directly to f32 (numpy `astype(float32)`).
    pub fn to_f32_vec(&self) -> Vec<f32> {
        with_values!(self, v => v.iter().map(|x| x.to_f32()).collect())
    }

    /// Bytes held by the buffer.
    pub fn nbytes(&self) -> usize {
        self.len() * self.dtype().size()
    }
}

/// Wrapping a typed vector into [`Values`], generically.
pub trait IntoValues: Sized {
    fn into_values(v: Vec<Self>) -> Values;
}

macro_rules! into_values {
    ($($t:ty => $var:ident),*) => {$(
        impl IntoValues for $t {
            fn into_values(v: Vec<Self>) -> Values {
                Values::$var(v)
            }
        }
    )*};
}
into_values!(bool => Bool, i8 => I8, i16 => I16, i32 => I32, i64 => I64, u8 => U8, u16 => U16, u32 => U32, u64 => U64, f32 => F32, f64 => F64);

impl Values {
    /// Wrap a typed vector.
    pub fn from_vec<T: IntoValues>(v: Vec<T>) -> Values {
        T::into_values(v)
    }
}

impl From<Vec<f32>> for Values {
    fn from(v: Vec<f32>) -> Self {
        Values::F32(v)
    }
}
impl From<Vec<f64>> for Values {
    fn from(v: Vec<f64>) -> Self {
        Values::F64(v)
    }
}
impl From<Vec<i64>> for Values {
    fn from(v: Vec<i64>) -> Self {
        Values::I64(v)
    }
}
impl From<Vec<i32>> for Values {
    fn from(v: Vec<i32>) -> Self {
        Values::I32(v)
    }
}
impl From<Vec<bool>> for Values {
    fn from(v: Vec<bool>) -> Self {
        Values::Bool(v)
    }
}

/// A dense, row-major array of one or two dimensions.
#[derive(Clone, Debug, PartialEq)]
pub struct DenseArray {
    pub shape: Vec<usize>,
    pub values: Values,
}

impl DenseArray {
    /// A 2-D `(rows, cols)` array; panics if the buffer length disagrees (a programming error).
    pub fn new_2d(rows: usize, cols: usize, values: impl Into<Values>) -> Self {
        let values = values.into();
        assert_eq!(values.len(), rows * cols, "buffer length must equal rows*cols");
        DenseArray { shape: vec![rows, cols], values }
    }

    /// A 1-D `(n,)` vector.
    pub fn new_1d(values: impl Into<Values>) -> Self {
        let values = values.into();
        DenseArray { shape: vec![values.len()], values }
    }
}

/// Compressed sparse storage (CSR or CSC): `indptr` has one entry per major index plus one.
///
/// Indices need not be sorted and may repeat (a non-canonical matrix); the exporter
/// treats repeats exactly as scipy does.
#[derive(Clone, Debug, PartialEq)]
pub struct Compressed {
    pub shape: (usize, usize),
    pub indptr: Vec<u64>,
    pub indices: Vec<u32>,
    pub data: Values,
}

impl Compressed {
    pub fn nnz(&self) -> usize {
        self.data.len()
    }
}

/// Coordinate storage, as scipy's `coo_matrix`; coordinates may repeat.
#[derive(Clone, Debug, PartialEq)]
pub struct Coo {
    pub shape: (usize, usize),
    pub rows: Vec<u32>,
    pub cols: Vec<u32>,
    pub data: Values,
}

/// A matrix argument of `prepare()`: dense, or one of scipy's sparse formats.
#[derive(Clone, Debug, PartialEq)]
pub enum Matrix {
    Dense(DenseArray),
    Csr(Compressed),
    Csc(Compressed),
    Coo(Coo),
}

impl Matrix {
    /// The shape as the reference sees it (`.shape`): 1 or 2 dimensions.
    pub fn shape(&self) -> Vec<usize> {
        match self {
            Matrix::Dense(d) => d.shape.clone(),
            Matrix::Csr(c) | Matrix::Csc(c) => vec![c.shape.0, c.shape.1],
            Matrix::Coo(c) => vec![c.shape.0, c.shape.1],
        }
    }

    pub fn dtype(&self) -> DType {
        match self {
            Matrix::Dense(d) => d.values.dtype(),
            Matrix::Csr(c) | Matrix::Csc(c) => c.data.dtype(),
            Matrix::Coo(c) => c.data.dtype(),
        }
    }

    pub fn is_sparse(&self) -> bool {
        !matches!(self, Matrix::Dense(_))
    }

    /// Bytes held by the matrix's buffers.
    pub fn nbytes(&self) -> usize {
        match self {
            Matrix::Dense(d) => d.values.nbytes(),
            Matrix::Csr(c) | Matrix::Csc(c) => c.data.nbytes() + c.indices.len() * 4 + c.indptr.len() * 8,
            Matrix::Coo(c) => c.data.nbytes() + c.rows.len() * 8,
        }
    }
}

impl From<DenseArray> for Matrix {
    fn from(d: DenseArray) -> Self {
        Matrix::Dense(d)
    }
}

/// A category label, keeping its JSON type (FORMAT.md §7.3).
#[derive(Clone, Debug, PartialEq)]
pub enum Label {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

/// One obs column, by the pandas dtype it would have.
#[derive(Clone, Debug, PartialEq)]
pub enum ObsData {
    /// A numeric column (continuous field).
    Numeric(Values),
    /// A nullable numeric column (pandas `Int64`, `Float32`, …): `missing[i]` marks `<NA>`.
    NullableNumeric { values: Values, missing: Vec<bool> },
    /// A pandas Categorical: declared categories and codes (-1 = missing).
    Categorical { categories: Vec<Label>, codes: Vec<i32> },
    /// An object/string column; `None` is missing. Categories are the code-point-sorted distinct values.
    Strings(Vec<Option<String>>),
    /// A numpy bool column.
    Bool(Vec<bool>),
    /// A pandas `boolean` column; `None` is `<NA>`.
    NullableBool(Vec<Option<bool>>),
    /// A dtype the reference refuses (datetime64, timedelta, …), by its numpy repr, e.g. `dtype('<M8[ns]')`.
    Unsupported { dtype_repr: String },
}

impl ObsData {
    pub fn len(&self) -> Option<usize> {
        Some(match self {
            ObsData::Numeric(v) => v.len(),
            ObsData::NullableNumeric { missing, .. } => missing.len(),
            ObsData::Categorical { codes, .. } => codes.len(),
            ObsData::Strings(v) => v.len(),
            ObsData::Bool(v) => v.len(),
            ObsData::NullableBool(v) => v.len(),
            ObsData::Unsupported { .. } => return None,
        })
    }
}

/// A named obs column.
#[derive(Clone, Debug, PartialEq)]
pub struct ObsColumn {
    pub name: String,
    pub data: ObsData,
}

/// The obs DataFrame: `n_rows` cells and columns in frame order. Its index is never exported.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ObsFrame {
    pub n_rows: usize,
    pub columns: Vec<ObsColumn>,
}

impl ObsFrame {
    pub fn column(&self, name: &str) -> Option<&ObsColumn> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// One var entry (an index value or a column value). Gene ids must be strings;
/// other types exist so that the reference's refusals can be expressed.
pub type VarValue = Label;

/// The var DataFrame: gene index and extra columns, one value per gene.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct VarFrame {
    pub index: Vec<VarValue>,
    pub columns: Vec<(String, Vec<VarValue>)>,
}

impl VarFrame {
    /// A var frame whose index is the given gene ids.
    pub fn from_ids<S: Into<String>>(ids: impl IntoIterator<Item = S>) -> Self {
        VarFrame { index: ids.into_iter().map(|s| Label::Str(s.into())).collect(), columns: Vec::new() }
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
}

/// Everything `prepare()` takes as data. Field names follow its parameters.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Dataset {
    pub latent_space: Option<Matrix>,
    pub obs: Option<ObsFrame>,
    pub var: Option<VarFrame>,
    pub gene_expression: Option<Matrix>,
    pub connectivities: Option<Matrix>,
    pub x_umap_1d: Option<Matrix>,
    pub x_umap_2d: Option<Matrix>,
    pub x_umap_3d: Option<Matrix>,
    /// `{"<field>_umap_<d>d": array}` in insertion order.
    pub vector_fields: Option<Vec<(String, Matrix)>>,
}

impl Dataset {
    /// The embedding argument for dimension `d` (1, 2 or 3).
    pub fn embedding(&self, d: usize) -> Option<&Matrix> {
        match d {
            1 => self.x_umap_1d.as_ref(),
            2 => self.x_umap_2d.as_ref(),
            3 => self.x_umap_3d.as_ref(),
            _ => None,
        }
    }

    pub fn embedding_mut(&mut self, d: usize) -> &mut Option<Matrix> {
        match d {
            1 => &mut self.x_umap_1d,
            2 => &mut self.x_umap_2d,
            3 => &mut self.x_umap_3d,
            _ => panic!("embedding dimension must be 1, 2 or 3"),
        }
    }

    /// Bytes held by the dataset's arrays (obs and var strings excluded).
    pub fn nbytes(&self) -> usize {
        let m = |x: &Option<Matrix>| x.as_ref().map_or(0, |m| m.nbytes());
        m(&self.latent_space)
            + m(&self.gene_expression)
            + m(&self.connectivities)
            + m(&self.x_umap_1d)
            + m(&self.x_umap_2d)
            + m(&self.x_umap_3d)
            + self.vector_fields.as_ref().map_or(0, |v| v.iter().map(|(_, m)| m.nbytes()).sum())
    }
}
