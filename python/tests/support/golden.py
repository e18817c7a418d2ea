"""The golden set and the loaders that built it.

``shared/golden/make_cases.py`` holds the loaders the golden set was verified with
(``load_case_kwargs``: raw ``inputs/`` → numpy/pandas/scipy) and the error cases
(``error_base``, ``_err_mods``). It imports cellucid at the top, which this venv does
not have: the module is loaded with a placeholder ``cellucid`` whose ``prepare`` fails
if called, so the tests use exactly those loaders and never the reference by accident.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import types
from functools import lru_cache
from pathlib import Path


def shared_dir() -> Path:
    env = os.environ.get("CELLUCID_SHARED")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3].parent / "shared"


def golden_dir() -> Path:
    return shared_dir() / "golden"


def case_dirs() -> list[Path]:
    return sorted(p for p in golden_dir().iterdir() if p.is_dir() and p.name.startswith("case"))


def _refuse(*_a, **_k):
    raise AssertionError("the reference's prepare() must not run inside the pytest venv")


@lru_cache(maxsize=1)
def make_cases():
    stub = types.ModuleType("cellucid")
    stub.__version__ = "stub"
    sub = types.ModuleType("cellucid.prepare_data")
    sub.prepare = _refuse
    stub.prepare_data = sub
    saved = {k: sys.modules.get(k) for k in ("cellucid", "cellucid.prepare_data")}
    sys.modules.update({"cellucid": stub, "cellucid.prepare_data": sub})
    try:
        spec = importlib.util.spec_from_file_location("golden_make_cases", golden_dir() / "make_cases.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v
    return module


def inputs_meta(case: Path) -> dict:
    return json.loads((case / "inputs" / "inputs.json").read_text(encoding="utf-8"))


def expected_dirs(case: Path) -> set[str]:
    tree = json.loads((case / "expected_tree.json").read_text())
    return {d["path"] for d in tree["directories"]}


def errors() -> list[dict]:
    return json.loads((golden_dir() / "errors.json").read_text(encoding="utf-8"))
