"""Inputs of every dtype and layout users pass, built identically in any virtualenv.

Needs only numpy, pandas and scipy, so that the reference's venv can import it too
(``peer_run.py``) and both writers get exactly the same objects.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

N, G = 120, 9
CREATED_AT = "2026-01-02T03:04:05Z"


def _base(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    labels = np.arange(N) % 3
    latent = rng.normal(size=(N, 5)) + labels[:, None]
    counts = rng.poisson(1.0, size=(N, G)) * (rng.random((N, G)) < 0.4)
    # a symmetric kNN-like graph without diagonal
    a = sparse.random(N, N, density=0.05, random_state=seed, format="csr")
    conn = (a + a.T).tocsr()
    conn.setdiag(0)
    conn.eliminate_zeros()
    return {
        "seed": seed,
        "rng": rng,
        "labels": labels,
        "latent": latent,
        "counts": counts,
        "conn": conn,
        "umap2": rng.normal(size=(N, 2)) * 4,
        "umap3": rng.normal(size=(N, 3)),
    }


def _obs(b) -> pd.DataFrame:
    # Its own generator: every variant gets the same obs, however many came before.
    rng = np.random.default_rng(b["seed"])
    lab = b["labels"]
    na_bool = pd.array([None if i % 7 == 0 else bool(i % 2) for i in range(N)], dtype="boolean")
    strings = pd.array([None if i % 11 == 0 else f"s{lab[i]}" for i in range(N)], dtype="string")
    objects = np.array([None if i % 13 == 0 else ["b10", "b2", "b1"][lab[i]] for i in range(N)], dtype=object)
    return pd.DataFrame(
        {
            "cat_str": pd.Categorical.from_codes(lab, categories=["T", "B", "NK"]),
            "cat_int": pd.Categorical(lab * 10),
            "f64": rng.normal(size=N),
            "f32": rng.normal(size=N).astype(np.float32),
            "u16": (np.arange(N) % 50).astype(np.uint16),
            "i64": np.arange(N, dtype=np.int64) - 7,
            "flag": lab == 1,
            "nullable_int": pd.array(np.arange(N) % 9, dtype="Int64"),
            "nullable_float": pd.array(rng.normal(size=N), dtype="Float64"),
            "nullable_bool": na_bool,
            "string": strings,
            "object": objects,
        },
        index=[f"c{i}" for i in range(N)],
    )


def _kwargs(b, genes, **extra) -> dict:
    var = pd.DataFrame({"symbol": [f"SYM{i}" for i in range(G)]}, index=[f"g{i}" for i in range(G)])
    kw = dict(
        latent_space=b["latent"],
        obs=_obs(b),
        var=var,
        gene_expression=genes,
        connectivities=b["conn"],
        X_umap_2d=b["umap2"],
        obs_categorical_dtype="uint8",
        dataset_name="Dtypes",
        dataset_id="dtypes",
        created_at=CREATED_AT,
    )
    kw.update(extra)
    return kw


def dense_f32(seed=3):
    b = _base(seed)
    return _kwargs(b, b["counts"].astype(np.float32))


def dtype_variants(seed=3) -> dict:
    """name → prepare() kwargs; every variant's data equals dense_f32's but for dtype/layout."""
    b = _base(seed)
    c = b["counts"]
    out = {
        "genes_csr_f32": _kwargs(b, sparse.csr_matrix(c.astype(np.float32))),
        "genes_csc_i64": _kwargs(b, sparse.csc_matrix(c.astype(np.int64))),
        "genes_coo_f64": _kwargs(b, sparse.coo_matrix(c.astype(np.float64))),
        "genes_lil_u16": _kwargs(b, sparse.lil_matrix(c.astype(np.uint16))),
        "genes_fortran_i32": _kwargs(b, np.asfortranarray(c.astype(np.int32))),
        "genes_bigendian_f32": _kwargs(b, c.astype(">f4")),
        "genes_f16_q8_gz6": _kwargs(b, c.astype(np.float16), var_quantization=8, compression=6),
        "genes_u8_q16": _kwargs(b, c.astype(np.uint8), var_quantization=16),
        "genes_i8": _kwargs(b, c.astype(np.int8)),
        "emb_int16_latent_f32": _kwargs(
            b, c.astype(np.float32),
            X_umap_2d=np.round(b["umap2"] * 100).astype(np.int16),
            latent_space=b["latent"].astype(np.float32),
        ),
        "emb_3d_strided_1d": _kwargs(
            b, c.astype(np.float32),
            X_umap_3d=np.asfortranarray(b["umap3"]),
            X_umap_1d=b["umap3"][:, 0],  # a strided view
        ),
        "graph_dense_f32_obs_q8": _kwargs(
            b, c.astype(np.float32),
            connectivities=b["conn"].toarray().astype(np.float32),
            obs_continuous_quantization=8,
        ),
        "graph_csc_var_column_panel": _kwargs(
            b, c.astype(np.float32),
            connectivities=b["conn"].tocsc(),
            var_gene_id_column="symbol",
            gene_identifiers=["SYM3", "SYM1"],
        ),
        "vector_fields": _kwargs(
            b, c.astype(np.float32),
            vector_fields={"velocity_umap_2d": b["rng"].normal(size=(N, 2)).astype(np.float32)},
            obs_keys=["cat_str", "f64", "nullable_bool", "string"],
        ),
    }
    return out
