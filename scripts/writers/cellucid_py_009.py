#!/usr/bin/env python3
"""cellucid-py-0.0.9: PyPI cellucid 0.0.9's ``prepare()``, the writer of the tuning
guide's era, behind the writer CLI contract (see ``writer_contract.py``)::

    cellucid_py_009.py INPUT.h5ad OUT_DIR --params PARAMS.json

Run with the interpreter of the virtualenv the built-in writer's setup makes
(``scripts/writers/setup-venv.sh``). 0.0.9 writes a compact_v1 folder of the *key
era*: payloads named by their sanitized key (``var/<gene>.values.f32``), ``{key}``
path patterns, the graph binarized and symmetrized into edge pairs, and with
``force=False`` (its default) it **skips every file or manifest that already exists**
instead of refusing or replacing it.

How PARAMS.json (0.9.2 names) maps onto 0.0.9's ``prepare()``:

* passed unchanged: obs_keys, gene_identifiers (0.0.9 drops unknown ones with a
  warning instead of refusing), var_quantization, obs_continuous_quantization,
  obs_categorical_dtype ("auto" is 0.0.9's default), compression,
  centroid_outlier_quantile, centroid_min_points, dataset_name, dataset_id,
  dataset_description, source_name, source_url, source_citation, force;
* var_gene_id_column: passed; null (0.9.2's "the var index") is 0.0.9's default
  "index", which means the same;
* dropped, 0.0.9 having no such parameter: created_at (it stamps the export's own
  time), vector_field_default (it opens on ``velocity_umap``, else the first field);
* arrays (``inputs``): as the reference driver; vector field keys are the same
  (``<field>_umap_<d>d``).
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True  # importing the contract must leave no __pycache__ in the checkout
import writer_contract as contract  # noqa: E402

USAGE = "usage: cellucid_py_009.py INPUT.h5ad OUT_DIR --params PARAMS.json"

PASSED = (
    "obs_keys",
    "gene_identifiers",
    "var_quantization",
    "obs_continuous_quantization",
    "obs_categorical_dtype",
    "compression",
    "centroid_outlier_quantile",
    "centroid_min_points",
    "dataset_name",
    "dataset_id",
    "dataset_description",
    "source_name",
    "source_url",
    "source_citation",
    "force",
)
DROPPED = ("created_at", "vector_field_default")


def as_spmatrix(x):
    """0.0.9 predates scipy's sparse arrays (it calls ``getcol``, ``isspmatrix_csc``):
    a sparse array becomes the matrix of the same format, values untouched."""
    from scipy import sparse

    if sparse.issparse(x) and not isinstance(x, sparse.spmatrix):
        return sparse.csr_matrix(x) if x.format != "csc" else sparse.csc_matrix(x)
    return x


def kwargs_009(adata, params: dict) -> dict:
    """prepare() keyword arguments of 0.0.9 for an AnnData and PARAMS.json."""
    kwargs: dict = {"obs": adata.obs, "var": adata.var}
    for arg, value in contract.arrays(adata, params).items():
        if arg == "vector_fields":
            kwargs[arg] = {key: as_spmatrix(v) for key, v in value.items()}
        else:
            kwargs[arg] = as_spmatrix(value)
    for key, value in contract.settings(params).items():
        if key in PASSED:
            kwargs[key] = value
        elif key == "var_gene_id_column":
            if value is not None:
                kwargs[key] = value
        elif key not in DROPPED:
            raise contract.Unsupported(f"cellucid 0.0.9 has no parameter {key!r}")
    return kwargs


def export(input_h5ad: str, out_dir: str, params: dict) -> None:
    import anndata
    from cellucid.prepare_data import prepare

    prepare(out_dir=out_dir, **kwargs_009(anndata.read_h5ad(input_h5ad), params))


if __name__ == "__main__":
    sys.exit(contract.main(export, USAGE))
