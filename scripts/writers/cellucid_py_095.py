#!/usr/bin/env python3
"""cellucid-py-0.9.5: PyPI cellucid 0.9.5's ``prepare()`` behind the writer CLI
contract (see ``writer_contract.py``)::

    cellucid_py_095.py INPUT.h5ad OUT_DIR --params PARAMS.json

Run with the interpreter of the virtualenv the built-in writer's setup makes
(``scripts/writers/setup-venv.sh``). 0.9.5 writes no export folder: ``prepare(out_path,
format="h5ad")`` writes one "Cellucid-ready" AnnData (genes CSC, chunked and
compressed its own way, the dataset's record in ``uns['cellucid']``), the tuning
guide's "Python server workflow". This driver writes it as ``OUT_DIR/data.h5ad``
(``OUT_DIR`` is created; removed again if it was created and the export failed), so
that every writer's output is measured as the contents of ``OUT_DIR``.

How PARAMS.json (0.9.2 names) maps onto 0.9.5's ``prepare()``:

* passed unchanged: obs_keys, gene_identifiers, centroid_min_points, dataset_name,
  dataset_id, dataset_description, source_name, source_url, force;
* renamed: source_citation -> citation_text;
* var_gene_id_column: passed; null means the var index in both;
* vector_field_default: a 0.9.2 field key ``<field>_umap`` is 0.9.5's field ``<field>``;
* dropped, 0.9.5 having no such choice: created_at (the file holds no export time),
  obs_categorical_dtype (categories are stored as anndata stores them);
* refused unless null, 0.9.5 having no such parameter: var_quantization,
  obs_continuous_quantization (it stores float32), compression (its chunks are
  compressed its own way); centroid_outlier_quantile unless null or 0.9.2's default
  0.95 (0.9.5 stores each cell's outlier quantile instead of a cut-off);
* arrays (``inputs``): X_umap_<d>d -> ``embeddings["X_umap_<d>d"]``; latent_space ->
  ``embeddings["X_latent"]`` with ``latent_key="X_latent"``; gene_expression (with the
  h5ad's var) and connectivities unchanged; a vector field ``<field>_umap_<d>d`` ->
  ``vector_fields[<field>]["X_umap_<d>d"]`` (stored as ``obsm["<field>_umap_<d>d"]``).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

sys.dont_write_bytecode = True  # importing the contract must leave no __pycache__ in the checkout
import writer_contract as contract  # noqa: E402

USAGE = "usage: cellucid_py_095.py INPUT.h5ad OUT_DIR --params PARAMS.json"
#: The file written inside OUT_DIR.
OUTPUT_NAME = "data.h5ad"
LATENT_KEY = "X_latent"

PASSED = (
    "obs_keys",
    "gene_identifiers",
    "centroid_min_points",
    "dataset_name",
    "dataset_id",
    "dataset_description",
    "source_name",
    "source_url",
    "force",
)
RENAMED = {"source_citation": "citation_text"}
DROPPED = ("created_at", "obs_categorical_dtype")
NOT_EXPRESSIBLE = {
    "var_quantization": "it stores gene expression as float32",
    "obs_continuous_quantization": "it stores continuous obs as they are",
    "compression": "it compresses its chunks its own way",
}
VECTOR_KEY = re.compile(r"(.+)_umap_([123])d")


def settings_095(params: dict) -> dict:
    """0.9.5's keyword arguments for the settings of PARAMS.json (no arrays). What it
    cannot express is refused first, in a fixed order (not the file's)."""
    for key, why in NOT_EXPRESSIBLE.items():
        if params.get(key) is not None:
            raise contract.Unsupported(f"{key}={params[key]!r}: cellucid 0.9.5 has no {key} ({why})")
    quantile = params.get("centroid_outlier_quantile")
    if quantile is not None and quantile != 0.95:
        raise contract.Unsupported(
            f"centroid_outlier_quantile={quantile!r}: cellucid 0.9.5 has no such cut-off "
            "(it stores each cell's outlier quantile)"
        )
    kwargs: dict = {}
    for key, value in contract.settings(params).items():
        if key in PASSED:
            kwargs[key] = value
        elif key in RENAMED:
            kwargs[RENAMED[key]] = value
        elif key in DROPPED or key in NOT_EXPRESSIBLE or key == "centroid_outlier_quantile":
            continue
        elif key == "var_gene_id_column":
            if value is not None:
                kwargs[key] = value
        elif key == "vector_field_default":
            if value is not None:
                kwargs[key] = value[: -len("_umap")] if isinstance(value, str) and value.endswith("_umap") else value
        else:
            raise contract.Unsupported(f"cellucid 0.9.5 has no parameter {key!r}")
    return kwargs


def arrays_095(adata, params: dict) -> dict:
    """0.9.5's keyword arguments for the arrays ``inputs`` names."""
    found = contract.arrays(adata, params)
    kwargs: dict = {"obs": adata.obs}
    embeddings = {f"X_umap_{d}d": found[f"X_umap_{d}d"] for d in (1, 2, 3) if f"X_umap_{d}d" in found}
    if "latent_space" in found:
        embeddings[LATENT_KEY] = found["latent_space"]
        kwargs["latent_key"] = LATENT_KEY
    kwargs["embeddings"] = embeddings
    if "gene_expression" in found:
        kwargs["gene_expression"] = found["gene_expression"]
        kwargs["var"] = adata.var
    if "connectivities" in found:
        kwargs["connectivities"] = found["connectivities"]
    fields: dict = {}
    for key, array in found.get("vector_fields", {}).items():
        m = VECTOR_KEY.fullmatch(key)
        if m is None:
            raise contract.Unsupported(
                f"vector field {key!r}: cellucid 0.9.5 draws a field over an embedding X_<basis>; "
                "this driver maps keys <field>_umap_<d>d only"
            )
        fields.setdefault(m.group(1), {})[f"X_umap_{m.group(2)}d"] = array
    if fields:
        kwargs["vector_fields"] = fields
    return kwargs


def export(input_h5ad: str, out_dir: str, params: dict) -> None:
    import anndata
    from cellucid.prepare_data import prepare

    settings = settings_095(params)
    kwargs = {**arrays_095(anndata.read_h5ad(input_h5ad), params), **settings}
    out = Path(out_dir)
    created = not os.path.lexists(out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        prepare(out / OUTPUT_NAME, format="h5ad", **kwargs)
    except BaseException:
        if created:
            try:
                out.rmdir()
            except OSError:
                pass
        raise


if __name__ == "__main__":
    sys.exit(contract.main(export, USAGE))
