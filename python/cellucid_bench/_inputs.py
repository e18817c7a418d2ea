"""numpy / scipy / pandas inputs → the plain form the Rust layer reads.

Matrices become tuples of numpy arrays (``("dense", a)``, ``("csr"|"csc", shape,
indptr, indices, data)``, ``("coo", shape, row, col, data)``), obs a list of column
descriptions, var lists of scalars. The pandas dtype decides each obs column's kind
with the reference's own tests, in its order (categorical or bool, numeric, string or
object, anything else unsupported).

Copies. Arrays already C-contiguous, native-endian and of a dtype core models are
passed as they are (no copy here); the Rust layer then copies their elements once into
core's owned buffers (a memcpy in their own dtype, see ``src/values.rs``). A copy happens
*here* only for: Fortran-ordered or strided arrays (made C-contiguous), big-endian
arrays, float16 (widened to float32, exactly), long double (to float64), sparse index
arrays of a dtype other than int32/int64, and sparse formats other than CSR/CSC/COO
(converted to CSR by scipy).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import sparse

_NATIVE = {np.dtype(t) for t in (
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64",
)}


def _data(array: np.ndarray) -> np.ndarray:
    """A C-contiguous array of a dtype core models.

    An array the reference refuses as "not real numeric" (complex, object, strings,
    datetimes) becomes an all-False bool array of its shape: bool is core's one
    non-real dtype, which it refuses at the reference's step with the reference's
    message for that argument ("X_umap_2d must contain real numeric values.").
    """
    dtype = array.dtype
    if dtype.kind not in "biuf":
        return np.zeros(array.shape, dtype=bool)
    if dtype.kind == "f" and dtype.itemsize < 4:
        array = array.astype(np.float32)  # float16 → float32 is exact
    elif dtype.kind == "f" and dtype.itemsize > 8:
        array = array.astype(np.float64)
    elif dtype.newbyteorder("=") != dtype or dtype not in _NATIVE:
        array = array.astype(dtype.newbyteorder("="))
    return np.ascontiguousarray(array)


def _index(array: np.ndarray) -> np.ndarray:
    if array.dtype in (np.dtype(np.int32), np.dtype(np.int64)):
        return np.ascontiguousarray(array)
    return np.ascontiguousarray(array, dtype=np.int64)


def matrix(value):
    """One matrix argument (dense array-like or any scipy sparse matrix/array)."""
    if value is None:
        return None
    if sparse.issparse(value):
        shape = tuple(int(x) for x in value.shape)
        fmt = value.format
        if fmt == "coo":
            return ("coo", shape, _index(value.row), _index(value.col), _data(value.data))
        if fmt not in ("csr", "csc"):
            value, fmt = value.tocsr(), "csr"
        return (fmt, shape, _index(value.indptr), _index(value.indices), _data(value.data))
    return ("dense", _data(np.asarray(value)))


def _missing(v) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, float) and math.isnan(v)


def scalar(v):
    """A label as a plain Python scalar (numpy scalars unwrapped; missing → None)."""
    if isinstance(v, np.generic):
        v = v.item()
    if v is pd.NA or v is pd.NaT:
        return None
    return v


def _categorical(name, cat):
    categories = [scalar(c) for c in cat.categories]
    return (name, "categorical", categories, np.asarray(cat.codes, dtype=np.int32))


def _column(name: str, s: pd.Series):
    dtype = s.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return _categorical(name, s.cat)
    if pd.api.types.is_bool_dtype(s):
        if isinstance(dtype, np.dtype):
            return (name, "bool", np.ascontiguousarray(s.to_numpy(dtype=bool)))
        return (name, "nullable_bool", [None if _missing(v) else bool(v) for v in s.tolist()])
    if pd.api.types.is_numeric_dtype(s):
        if isinstance(dtype, np.dtype):
            return (name, "numeric", _data(s.to_numpy()))
        missing = np.ascontiguousarray(s.isna().to_numpy(dtype=bool))
        values = s.to_numpy(dtype=dtype.numpy_dtype, na_value=0)
        return (name, "nullable", _data(values), missing)
    if pd.api.types.is_string_dtype(s) or pd.api.types.is_object_dtype(s):
        values = s.tolist()
        if all(isinstance(v, str) or _missing(v) for v in values):
            return (name, "strings", [None if _missing(v) else v for v in values])
        # Mixed objects: pandas' own category inference, as the reference's astype does.
        try:
            return _categorical(name, pd.Categorical(s))
        except (TypeError, ValueError):
            # Unhashable or unorderable values (lists, dicts): never exportable, and a
            # column obs_keys leaves out must not stop the export.
            return (name, "unsupported", repr(dtype))
    return (name, "unsupported", repr(dtype))


def obs_frame(obs, obs_keys):
    """``(n_rows, columns)``, or None; raises the reference's TypeErrors for obs itself."""
    if obs is None:
        return None
    if not isinstance(obs, pd.DataFrame):
        raise TypeError(f"obs must be a pandas DataFrame, got {type(obs).__name__}.")
    if obs_keys is None:
        # Every column is exported, so every column name must be a string.
        for index, key in enumerate(obs.columns):
            if not isinstance(key, str):
                raise TypeError(
                    f"Observation field identifier at position {index} must be a string, got {type(key).__name__}."
                )
    # A non-string column name that obs_keys does not select is never read.
    columns = [_column(str(k), obs[k]) for k in obs.columns if isinstance(k, str)]
    return (len(obs), columns)


def var_frame(var, gene_expression, gene_id_column):
    """``(index, [(name, values)])``, or None. Only the gene-id column's values are sent:
    core reads no other column (the others are listed by name for its KeyError message)."""
    if var is None or gene_expression is None:
        return None  # the reference reads var only with gene_expression
    if not isinstance(var, pd.DataFrame):
        raise TypeError(f"var must be a pandas DataFrame, got {type(var).__name__}.")
    index = [scalar(v) for v in var.index.tolist()]
    columns = [
        (str(c), [scalar(v) for v in var[c].tolist()] if c == gene_id_column else [])
        for c in var.columns
    ]
    return (index, columns)


def vector_fields(value):
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TypeError("vector_fields must be a mapping of vector field keys to arrays.")
    return [(str(k), matrix(v)) for k, v in value.items()]


def data(kw: dict, obs_keys, gene_id_column) -> dict:
    """The data arguments of prepare() in the Rust layer's form."""
    out = {k: matrix(kw[k]) for k in (
        "latent_space", "gene_expression", "connectivities", "X_umap_1d", "X_umap_2d", "X_umap_3d",
    )}
    out["obs"] = obs_frame(kw["obs"], obs_keys)
    out["var"] = var_frame(kw["var"], kw["gene_expression"], gene_id_column)
    out["vector_fields"] = vector_fields(kw["vector_fields"])
    return out
