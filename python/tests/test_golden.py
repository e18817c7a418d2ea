"""The 12 golden cases: raw inputs → numpy/pandas/scipy → prepare() → the reference's
``expected/`` under the conformance rule, and a folder the viewer's checks accept."""

from __future__ import annotations

import pytest

import cellucid_bench
from support import golden

CASES = golden.case_dirs()


def test_the_golden_set_has_12_cases():
    assert len(CASES) == 12, [c.name for c in CASES]


def _check(case, kwargs, out):
    cellucid_bench.prepare(out_dir=out, force=False, **kwargs)
    diffs = cellucid_bench.compare_folders(case / "expected", out, golden.expected_dirs(case))
    assert diffs == [], "\n".join(diffs[:20])
    assert cellucid_bench.validate(out) == []


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_case_from_raw_inputs(case, make_cases, tmp_path):
    kwargs = make_cases.load_case_kwargs(case, golden.inputs_meta(case))
    _check(case, kwargs, tmp_path / "expected")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_case_from_anndata(case, make_cases, tmp_path):
    """The same case read back from its input.h5ad with anndata, as notebook users hold it."""
    pytest.importorskip("anndata")
    kwargs = make_cases.load_h5ad_kwargs(case / "input.h5ad", golden.inputs_meta(case))
    _check(case, kwargs, tmp_path / "expected")
