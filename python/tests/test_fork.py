"""A process forked after an export can export too (multiprocessing's default on Linux)."""

from __future__ import annotations

import multiprocessing as mp

import pytest

import cellucid_bench
from support import builders


def _child(out_dir):
    cellucid_bench.prepare(out_dir=out_dir, **builders.dense_f32())


@pytest.mark.skipif(not hasattr(mp, "get_context") or "fork" not in mp.get_all_start_methods(), reason="no fork")
def test_an_export_in_a_forked_child_finishes(tmp_path):
    cellucid_bench.prepare(out_dir=tmp_path / "parent", **builders.dense_f32())
    p = mp.get_context("fork").Process(target=_child, args=(tmp_path / "child",))
    p.start()
    p.join(timeout=120)
    if p.is_alive():
        p.kill()
        pytest.fail("the forked child's export hung (a thread pool inherited without its threads)")
    assert p.exitcode == 0
    assert cellucid_bench.compare_folders(tmp_path / "parent", tmp_path / "child") == []
