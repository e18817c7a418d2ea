"""The writer CLI contract, shared by the drivers of the PyPI writers
(``cellucid_py_009.py``, ``cellucid_py_095.py``)::

    DRIVER INPUT.h5ad OUT_DIR --params PARAMS.json

PARAMS.json is read exactly as the reference driver
``shared/peer/cellucid_prepare_092.py`` reads it: one strict JSON object (no
NaN/Infinity, no duplicate keys) of cellucid 0.9.2 ``prepare()`` parameters by name,
any other key except ``"inputs"`` refused; ``"inputs"`` maps ``prepare()`` array
arguments to h5ad locations (``X``, ``obsm/<key>``, ``obsp/<key>``), and without it
the golden set's default mapping applies. The 0.9.2 names are the contract; each
driver maps them onto its release's ``prepare()`` and refuses a setting its release
cannot express (a cell with such a setting is dropped before a sweep runs it).

Exit status 0 on success with nothing printed; on any refusal or error, 1 and one
line ``error: <ExceptionType>: <message>`` on stderr; usage errors 2, also one line.
``prepare()``'s progress output and all warnings are swallowed.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import warnings
from pathlib import Path
from typing import Callable

#: cellucid 0.9.2's prepare() parameters: the names PARAMS.json may hold.
PREPARE_PARAMS = (
    "obs_keys",
    "gene_identifiers",
    "var_gene_id_column",
    "var_quantization",
    "obs_continuous_quantization",
    "obs_categorical_dtype",
    "compression",
    "centroid_outlier_quantile",
    "centroid_min_points",
    "dataset_name",
    "dataset_id",
    "dataset_description",
    "created_at",
    "source_name",
    "source_url",
    "source_citation",
    "vector_field_default",
    "force",
)
ARRAY_INPUTS = ("gene_expression", "latent_space", "X_umap_1d", "X_umap_2d", "X_umap_3d", "connectivities")


class UsageError(Exception):
    pass


class InputError(ValueError):
    pass


class Unsupported(ValueError):
    """A setting the driven release has no way to express."""


def _strict_pairs(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise InputError(f"PARAMS.json: duplicate key {key!r}")
        out[key] = value
    return out


def _no_constants(name):
    raise InputError(f"PARAMS.json: {name} is not valid JSON")


def load_params(path: str | os.PathLike) -> dict:
    text = Path(path).read_text(encoding="utf-8")
    params = json.loads(text, object_pairs_hook=_strict_pairs, parse_constant=_no_constants)
    if not isinstance(params, dict):
        raise InputError("PARAMS.json must hold one JSON object")
    unknown = [k for k in params if k != "inputs" and k not in PREPARE_PARAMS]
    if unknown:
        raise InputError(f"PARAMS.json: unknown parameter(s) {', '.join(map(repr, unknown))}")
    return params


def default_inputs(adata) -> dict:
    inputs = {"latent_space": "obsm/X_latent"}
    if adata.X is not None:
        inputs["gene_expression"] = "X"
    for d in (1, 2, 3):
        if f"X_umap_{d}d" in adata.obsm:
            inputs[f"X_umap_{d}d"] = f"obsm/X_umap_{d}d"
    if "connectivities" in adata.obsp:
        inputs["connectivities"] = "obsp/connectivities"
    return inputs


def resolve_location(adata, location: object, what: str):
    if not isinstance(location, str):
        raise InputError(f"inputs.{what}: location must be a string, got {type(location).__name__}")
    if location == "X":
        if adata.X is None:
            raise InputError(f"inputs.{what}: the h5ad has no X")
        return adata.X
    slot, sep, key = location.partition("/")
    if sep and key and slot in ("obsm", "obsp"):
        mapping = getattr(adata, slot)
        if key not in mapping:
            raise InputError(f"inputs.{what}: {slot}[{key!r}] not found in the h5ad")
        return mapping[key]
    raise InputError(f"inputs.{what}: unsupported location {location!r} (use X, obsm/<key> or obsp/<key>)")


def arrays(adata, params: dict) -> dict:
    """The arrays ``inputs`` names (or the default mapping), by 0.9.2 argument name;
    ``vector_fields`` is ``{field_key: array}``."""
    inputs = params.get("inputs")
    if inputs is None:
        inputs = default_inputs(adata)
    if not isinstance(inputs, dict):
        raise InputError("PARAMS.json: inputs must be an object")
    out: dict = {}
    for arg, location in inputs.items():
        if location is None:
            continue
        if arg in ARRAY_INPUTS:
            out[arg] = resolve_location(adata, location, arg)
        elif arg == "vector_fields":
            if not isinstance(location, dict):
                raise InputError("inputs.vector_fields must be an object {field_key: location}")
            out["vector_fields"] = {
                key: resolve_location(adata, loc, f"vector_fields.{key}") for key, loc in location.items()
            }
        else:
            raise InputError(f"inputs: unknown prepare() array argument {arg!r}")
    return out


def settings(params: dict) -> dict:
    """The parameters without ``inputs``."""
    return {k: v for k, v in params.items() if k != "inputs"}


def one_line(text: str) -> str:
    return " | ".join(part for part in str(text).splitlines() if part.strip()) or "(no message)"


def parse_args(argv: list[str], usage: str) -> tuple[str, str, str]:
    args = list(argv)
    params = None
    positional = []
    while args:
        a = args.pop(0)
        if a == "--params":
            if not args or params is not None:
                raise UsageError(usage)
            params = args.pop(0)
        elif a.startswith("--params="):
            if params is not None:
                raise UsageError(usage)
            params = a[len("--params="):]
        elif a.startswith("-") and a != "-":
            raise UsageError(f"unknown option {a!r}; {usage}")
        else:
            positional.append(a)
    if len(positional) != 2 or params is None:
        raise UsageError(usage)
    return positional[0], positional[1], params


def main(export: Callable[[str, str, dict], None], usage: str, argv: list[str] | None = None) -> int:
    """Runs ``export(input_h5ad, out_dir, params)`` under the contract's exit statuses."""
    warnings.simplefilter("ignore")
    try:
        input_h5ad, out_dir, params_path = parse_args(sys.argv[1:] if argv is None else argv, usage)
    except UsageError as e:
        print(f"error: {one_line(e)}", file=sys.stderr)
        return 2
    try:
        params = load_params(params_path)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            export(input_h5ad, out_dir, params)
    except BaseException as e:  # noqa: BLE001 -- every refusal becomes one stderr line
        if isinstance(e, (SystemExit, KeyboardInterrupt)):
            raise
        print(f"error: {type(e).__name__}: {one_line(e)}", file=sys.stderr)
        return 1
    return 0
