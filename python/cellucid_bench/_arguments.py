"""The reference's *type* rules for prepare()'s scalar arguments.

cellucid 0.9.2 refuses ``force="yes"``, ``centroid_min_points=10.0`` or
``dataset_name=3`` by their Python type, which the Rust options cannot express.
These rules run here, in the reference's order (force, name, id, min points, the
optional strings, created_at), with its exact classes and messages. Rules about
*values* (ranges, display text, timestamps) stay in Rust. Where the reference
refuses a wrong type with the same message it uses for a wrong value (compression,
the quantizations, obs_categorical_dtype, the outlier quantile), the value is
replaced by one Rust refuses, so that the refusal happens at the reference's step.
"""

from __future__ import annotations

import math
from numbers import Real

# Values core refuses with the very message the reference gives a wrong type.
_BAD_INT = -1
_BAD_DTYPE = ""
_BAD_QUANTILE = math.nan


def _native_bool(value, label):
    if type(value) is not bool:
        raise TypeError(f"{label} must be exactly True or False.")
    return value


def _string(value, label, message):
    if not isinstance(value, str):
        raise TypeError(message.format(label=label))
    return str(value)


def _optional_string(value, label):
    if value is None:
        return None
    if type(value) is not str:
        raise TypeError(f"{label} must be None or a native string.")
    return value


def _positive_int(value, label):
    if type(value) is not int:
        raise TypeError(f"{label} must be a native integer.")
    return value


def _optional_code(value):
    """compression / quantizations: the reference wants a native int (not bool)."""
    if value is None:
        return None
    return value if type(value) is int else _BAD_INT


def _quantile(value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Real):
        return _BAD_QUANTILE
    return float(value)


def _created_at(value):
    if value is not None and type(value) is not str:
        raise TypeError("created_at must be None or a native string in 'YYYY-MM-DDTHH:MM:SSZ' UTC format.")
    return value


def _identifiers(values, label, scalar_message):
    """A sequence of strings (obs_keys, gene_identifiers), or None."""
    if values is None:
        return None
    if isinstance(values, (str, bytes)):
        raise TypeError(scalar_message)
    values = list(values)
    for index, value in enumerate(values):
        if not isinstance(value, str):
            raise TypeError(f"{label} identifier at position {index} must be a string, got {type(value).__name__}.")
    return [str(v) for v in values]


def options(kw: dict) -> dict:
    """The scalar arguments as the Rust layer takes them (raises the reference's TypeErrors)."""
    force = _native_bool(kw["force"], "force")
    dataset_name = _string(kw["dataset_name"], "dataset_name", "{label} must be a string.")
    dataset_id = _string(kw["dataset_id"], "dataset_id", "{label} must be a native string.")
    min_points = _positive_int(kw["centroid_min_points"], "centroid_min_points")
    strings = {
        k: _optional_string(kw[k], k)
        for k in ("dataset_description", "source_name", "source_url", "source_citation")
    }
    gene_id_column = kw["var_gene_id_column"]
    if gene_id_column is not None and type(gene_id_column) is not str:
        raise TypeError(
            "var_gene_id_column must be a native non-empty string or None; "
            f"got {type(gene_id_column).__name__}."
        )
    default = kw["vector_field_default"]
    return {
        "force": force,
        "dataset_name": dataset_name,
        "dataset_id": dataset_id,
        "centroid_min_points": min_points,
        **strings,
        "created_at": _created_at(kw["created_at"]),
        "compression": _optional_code(kw["compression"]),
        "var_quantization": _optional_code(kw["var_quantization"]),
        "obs_continuous_quantization": _optional_code(kw["obs_continuous_quantization"]),
        "obs_categorical_dtype": kw["obs_categorical_dtype"] if type(kw["obs_categorical_dtype"]) is str else _BAD_DTYPE,
        "centroid_outlier_quantile": _quantile(kw["centroid_outlier_quantile"]),
        "var_gene_id_column": gene_id_column,
        "gene_identifiers": _identifiers(
            kw["gene_identifiers"], "Requested gene",
            "gene_identifiers must be a sequence of strings, not a string scalar.",
        ),
        "obs_keys": _identifiers(
            kw["obs_keys"], "Observation field",
            "obs_keys must be a sequence of strings, not a string scalar.",
        ),
        "vector_field_default": default if default is None or type(default) is str else str(default),
    }
