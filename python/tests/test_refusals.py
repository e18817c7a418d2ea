"""Every refusal of ``golden/errors.json`` expressible in Python: the reference's exception
class and message, and ``out_dir`` exactly as it was (only the lock file beside it).

The inputs are built by the golden set's own ``error_base()`` and ``_err_mods()``, the code
that produced errors.json with cellucid 0.9.2.
"""

from __future__ import annotations

import json
import os
import subprocess

import numpy as np
import pytest
from scipy import sparse

import cellucid_bench
from support import golden

ERRORS = {e["id"]: e for e in golden.errors()}

# The one case of 90 not reproduced, on purpose: 0.9.2 calls scipy's removed `getcol` on a
# sparse *array* (csr_array) and crashes with AttributeError; that is a bug, not a rule.
# cellucid_bench exports such input (test_sparse_array_genes_are_exported below).
DEPARTURES = {"gene_sparse_array"}


def _tree(path):
    if path.is_file():
        return {"": path.read_bytes()}
    if not path.exists():
        return None
    return {
        p.relative_to(path).as_posix(): (None if p.is_dir() else p.read_bytes())
        for p in sorted(path.rglob("*"))
    }


def _setup(make_cases, pre, out_dir):
    if pre == "junk":
        out_dir.mkdir()
        (out_dir / "keep.txt").write_text("old")
    elif pre == "file":
        out_dir.write_text("i am a file")
    elif pre == "old_export":
        cellucid_bench.prepare(out_dir=out_dir, **make_cases.error_base())


def _mods(make_cases):
    return {cid: (fn, pre) for cid, _desc, fn, pre in make_cases._err_mods()}


def test_every_case_is_tested_or_a_listed_departure(make_cases):
    assert set(_mods(make_cases)) == set(ERRORS)
    assert DEPARTURES <= set(ERRORS)


def _ours(cid, make_cases, tmp_path) -> dict:
    """Run one case through cellucid_bench; what it raised and what it left."""
    fn, pre = _mods(make_cases)[cid]
    work = tmp_path / cid
    parent = work / "parent"
    out_dir = parent / "export"
    parent.mkdir(parents=True)
    _setup(make_cases, pre, out_dir)
    before = _tree(out_dir)
    kw = make_cases.error_base()
    fn(kw)
    kw.setdefault("out_dir", out_dir)
    cwd = os.getcwd()
    os.chdir(work)  # outdir_cwd passes out_dir="." (the reference's run did the same)
    try:
        with pytest.raises(BaseException) as info:
            cellucid_bench.prepare(**kw)
    finally:
        os.chdir(cwd)
    exc = info.value
    return {
        "exception_type": type(exc).__name__,
        "is_ValueError": isinstance(exc, ValueError),
        "message": str(exc).replace(str(tmp_path), "<TMP>"),
        "untouched": _tree(out_dir) == before,
        "leftovers": sorted(p.name for p in parent.iterdir() if p.name not in ("export", ".export.cellucid.lock")),
    }


@pytest.mark.parametrize("cid", sorted(set(ERRORS) - DEPARTURES))
def test_refusal_matches_the_reference(cid, make_cases, tmp_path):
    ours = _ours(cid, make_cases, tmp_path)
    expected = ERRORS[cid]
    for key in ("exception_type", "is_ValueError", "message"):
        assert ours[key] == expected[key], key
    assert ours["untouched"], "out_dir changed"
    assert ours["leftovers"] == []


def test_refusals_match_the_live_reference(make_cases, peer_python, tmp_path):
    """The installed reference, run now on the same cases (errors.json is its recording)."""
    script = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); import make_cases; "
        "print(json.dumps(make_cases.run_errors(None)))"
    )
    done = subprocess.run(
        [str(peer_python), "-c", script, str(golden.golden_dir())],
        check=True, capture_output=True, text=True, timeout=600,
    )
    live = {e["id"]: e for e in json.loads(done.stdout.splitlines()[-1])}
    assert set(live) == set(ERRORS)
    mismatches = []
    for cid in sorted(set(live) - DEPARTURES):
        ours = _ours(cid, make_cases, tmp_path)
        for key in ("exception_type", "message"):
            if ours[key] != live[cid].get(key):
                mismatches.append(f"{cid} {key}: ours {ours[key]!r}, reference {live[cid].get(key)!r}")
    assert mismatches == []


def test_sparse_array_genes_are_exported(make_cases, tmp_path):
    """csr_array genes (0.9.2 crashes on them) give the folder csr_matrix genes give."""
    a, b = make_cases.error_base(), make_cases.error_base()
    a["gene_expression"] = sparse.csr_matrix(a["gene_expression"])
    b["gene_expression"] = sparse.csr_array(b["gene_expression"])
    cellucid_bench.prepare(out_dir=tmp_path / "a", **a)
    cellucid_bench.prepare(out_dir=tmp_path / "b", **b)
    assert cellucid_bench.compare_folders(tmp_path / "a", tmp_path / "b") == []


def test_the_non_finite_error_is_a_value_error(make_cases, tmp_path):
    kw = make_cases.error_base()
    kw["gene_expression"] = kw["gene_expression"].copy()
    kw["gene_expression"][0, 0] = np.nan
    with pytest.raises(ValueError) as info:
        cellucid_bench.prepare(out_dir=tmp_path / "x", **kw)
    assert isinstance(info.value, cellucid_bench.NonFinitePayloadError)
    assert not (tmp_path / "x").exists()
