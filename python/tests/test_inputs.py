"""Every dtype and layout users pass: the same folder as the reference (live, when its
venv is given), and the same folder whatever the layout of the same values."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

import cellucid_bench
from support import builders

PEER_RUN = Path(__file__).resolve().parent / "support" / "peer_run.py"
VARIANTS = sorted(builders.dtype_variants())


def _peer(peer_python, *args):
    return subprocess.run([str(peer_python), str(PEER_RUN), *args], check=True, capture_output=True, text=True)


@pytest.mark.parametrize("variant", VARIANTS)
def test_variant_matches_the_reference(variant, peer_python, tmp_path):
    _peer(peer_python, "prepare", variant, str(tmp_path / "ref"))
    cellucid_bench.prepare(out_dir=tmp_path / "ours", **builders.dtype_variants()[variant])
    assert cellucid_bench.compare_folders(tmp_path / "ref", tmp_path / "ours") == []


@pytest.mark.parametrize(
    "variant",
    ["genes_csr_f32", "genes_csc_i64", "genes_coo_f64", "genes_lil_u16", "genes_fortran_i32", "genes_bigendian_f32"],
)
def test_layouts_of_the_same_values_give_the_same_folder(variant, tmp_path):
    """Independent of the reference: only the layout differs from dense float32."""
    cellucid_bench.prepare(out_dir=tmp_path / "dense", **builders.dense_f32())
    cellucid_bench.prepare(out_dir=tmp_path / "other", **builders.dtype_variants()[variant])
    assert cellucid_bench.compare_folders(tmp_path / "dense", tmp_path / "other") == []
    assert cellucid_bench.validate(tmp_path / "other") == []


def test_signature_equals_the_reference(peer_python):
    import inspect

    ref = json.loads(_peer(peer_python, "signature").stdout)
    ours = [
        [p.name, p.kind.name, None if p.default is p.empty else repr(p.default)]
        for p in inspect.signature(cellucid_bench.prepare).parameters.values()
    ]
    assert ours == ref


def test_signature_without_the_reference():
    """The parameters every call relies on, checked even where the reference is absent."""
    import inspect

    params = inspect.signature(cellucid_bench.prepare).parameters
    assert list(params)[:3] == ["latent_space", "obs", "var"]
    assert params["out_dir"].default == "./exports"
    assert params["centroid_outlier_quantile"].default == 0.95
    assert params["obs_categorical_dtype"].kind is inspect.Parameter.KEYWORD_ONLY
    assert params["obs_categorical_dtype"].default is inspect.Parameter.empty
    assert len(params) == 28


def test_complex_embeddings_are_refused_as_the_reference_does(tmp_path):
    kw = builders.dense_f32()
    kw["X_umap_2d"] = kw["X_umap_2d"].astype(np.complex128)
    with pytest.raises(TypeError, match=r"^X_umap_2d must contain real numeric values\.$"):
        cellucid_bench.prepare(out_dir=tmp_path / "x", **kw)
    assert not (tmp_path / "x").exists()


def test_a_column_obs_keys_leaves_out_is_never_converted(tmp_path):
    kw = builders.dense_f32()
    kw["obs"] = kw["obs"].copy()
    kw["obs"]["lists"] = [[i] for i in range(len(kw["obs"]))]
    kw["obs"]["when"] = np.datetime64("2020-01-01") + np.arange(len(kw["obs"]))
    cellucid_bench.prepare(out_dir=tmp_path / "x", obs_keys=["cat_str", "f64"], **kw)
    assert cellucid_bench.validate(tmp_path / "x") == []
    with pytest.raises(TypeError, match=r"^obs field 'lists' has unsupported dtype dtype\('O'\)\.$"):
        cellucid_bench.prepare(out_dir=tmp_path / "y", obs_keys=["lists"], **kw)
