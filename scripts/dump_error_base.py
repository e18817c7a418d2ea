#!/usr/bin/env python3
"""Dump golden/make_cases.py's error_base() inputs (the valid base the 90 refusal
cases of golden/errors.json modify) as raw little-endian files plus a JSON index,
for core/tests/refusals.rs. Run with the peer venv:

    .venv-peer/bin/python scripts/dump_error_base.py ../shared/golden core/tests/data/error_base
"""
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

golden, out = Path(sys.argv[1]), Path(sys.argv[2])
spec = importlib.util.spec_from_file_location("make_cases", golden / "make_cases.py")
mc = importlib.util.module_from_spec(spec)
sys.modules["make_cases"] = mc
spec.loader.exec_module(mc)
kw = mc.error_base()
out.mkdir(parents=True, exist_ok=True)

def raw(name, a):
    a = np.ascontiguousarray(a)
    (out / name).write_bytes(a.astype(a.dtype.newbyteorder("<")).tobytes())
    return {"file": name, "dtype": str(a.dtype), "shape": list(a.shape)}

conn = kw["connectivities"].tocsr()
index = {
    "X_umap_2d": raw("X_umap_2d.bin", kw["X_umap_2d"]),
    "latent_space": raw("latent_space.bin", kw["latent_space"]),
    "gene_expression": raw("gene_expression.bin", kw["gene_expression"]),
    "connectivities": {
        "indptr": raw("conn_indptr.bin", conn.indptr.astype(np.int64)),
        "indices": raw("conn_indices.bin", conn.indices.astype(np.int32)),
        "data": raw("conn_data.bin", conn.data),
        "shape": list(conn.shape),
    },
    "obs": {
        "ct": {"categories": list(kw["obs"]["ct"].cat.categories),
               "codes": raw("obs_ct_codes.bin", kw["obs"]["ct"].cat.codes.to_numpy().astype(np.int32))},
        "val": raw("obs_val.bin", kw["obs"]["val"].to_numpy()),
    },
    "var_index": list(kw["var"].index),
    "params": {k: kw[k] for k in ("obs_categorical_dtype", "dataset_name", "dataset_id", "created_at")},
}
(out / "index.json").write_text(json.dumps(index, indent=1) + "\n")
print("wrote", out)
