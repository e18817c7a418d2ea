"""``prepare()``: cellucid 0.9.2's signature, cellucid-core's exporter."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from scipy import sparse

from . import _arguments, _inputs, _native
from ._progress import TqdmProgress, default_progress

ProgressCallback = Callable[[str, int, int], object]


def _export(kw: dict, progress) -> dict:
    """Normalize, export with the GIL released, return core's report as a dict."""
    options = _arguments.options(kw)
    data = _inputs.data(kw, options["obs_keys"], options["var_gene_id_column"])
    out_dir = os.fspath(kw["out_dir"])
    try:
        return json.loads(_native.export(data, options, out_dir, progress))
    finally:
        if isinstance(progress, TqdmProgress):
            progress.close()


def prepare(
    latent_space: np.ndarray | sparse.spmatrix | None = None,
    obs: pd.DataFrame | None = None,
    var: pd.DataFrame | None = None,
    gene_expression: np.ndarray | sparse.spmatrix | None = None,
    var_gene_id_column: str | None = None,
    gene_identifiers: Sequence[str] | None = None,
    connectivities: np.ndarray | sparse.spmatrix | None = None,
    out_dir: Path | str = "./exports",
    obs_keys: Sequence[str] | None = None,
    centroid_outlier_quantile: float | None = 0.95,
    centroid_min_points: int = 10,
    force: bool = False,
    var_quantization: int | None = None,
    obs_continuous_quantization: int | None = None,
    compression: int | None = None,
    *,
    obs_categorical_dtype: Literal["uint8", "uint16"],
    dataset_name: str,
    dataset_id: str,
    created_at: str | None = None,
    dataset_description: str | None = None,
    source_name: str | None = None,
    source_url: str | None = None,
    source_citation: str | None = None,
    X_umap_1d: np.ndarray | None = None,
    X_umap_2d: np.ndarray | None = None,
    X_umap_3d: np.ndarray | None = None,
    vector_fields: dict[str, np.ndarray | sparse.spmatrix] | None = None,
    vector_field_default: str | None = None,
) -> None:
    """Write one Cellucid export folder, as ``cellucid.prepare()`` 0.9.2 does.

    Same parameters, defaults, folder (byte for byte; gzip members equal once
    decompressed), refusals (exception class and message) and atomic publication;
    see cellucid's documentation for their meaning. A tqdm bar shows the gene stage
    when tqdm is installed and the session is interactive; for a callback, or the
    export report, use :func:`prepare_with_progress`.
    """
    _export(dict(locals()), default_progress())


def prepare_with_progress(progress: ProgressCallback | None = None, /, **kwargs) -> dict:
    """:func:`prepare` with ``progress(phase, done, total)`` called during the export.

    Takes prepare()'s keyword arguments; returns the export report (per-phase wall
    and CPU seconds, files and bytes written).
    """
    bound = _bind(kwargs)
    return _export(bound, progress)


def _bind(kwargs: dict) -> dict:
    """prepare()'s arguments with its defaults, refusing what prepare() itself refuses."""
    import inspect

    bound = inspect.signature(prepare).bind(**kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)
