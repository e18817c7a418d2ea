"""The progress callback, the tqdm bar, and the GIL released while exporting."""

from __future__ import annotations

import threading

import cellucid_bench
from cellucid_bench._progress import TqdmProgress
from support import builders


def test_the_callback_sees_every_phase_and_every_gene(tmp_path):
    calls = []
    report = cellucid_bench.prepare_with_progress(
        lambda phase, done, total: calls.append((phase, done, total)),
        out_dir=tmp_path / "x",
        **builders.dense_f32(),
    )
    phases = [c[0] for c in calls]
    assert phases[0] == "validation"
    assert {"embeddings", "obs", "genes", "graph", "identity", "publish"} <= set(phases)
    genes = [c for c in calls if c[0] == "genes"]
    assert genes[-1][1:] == (builders.G, builders.G)
    assert report["n_genes"] == builders.G and report["files_written"] > builders.G


def test_a_raising_callback_does_not_stop_the_export(tmp_path, monkeypatch):
    """Its exception goes to sys.unraisablehook once; the export is published."""
    import sys

    reported = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    calls = []

    def boom(*args):
        calls.append(args)
        raise RuntimeError("callback failed")

    cellucid_bench.prepare_with_progress(boom, out_dir=tmp_path / "x", **builders.dense_f32())
    assert cellucid_bench.validate(tmp_path / "x") == []
    assert len(calls) == 1 and len(reported) == 1
    assert isinstance(reported[0].exc_value, RuntimeError)


def test_prepare_with_progress_refuses_what_prepare_refuses(tmp_path):
    import pytest

    with pytest.raises(TypeError, match="X_umap_4d"):
        cellucid_bench.prepare_with_progress(None, out_dir=tmp_path / "x", X_umap_4d=1, **builders.dense_f32())


class _FakeBar:
    instances: list = []

    def __init__(self, total, **_):
        self.total, self.n, self.closed = total, 0, False
        _FakeBar.instances.append(self)

    def update(self, k):
        self.n += k

    def close(self):
        self.closed = True


def test_the_tqdm_bar_counts_the_gene_stage(tmp_path):
    bar = TqdmProgress(_FakeBar)
    cellucid_bench.prepare_with_progress(bar, out_dir=tmp_path / "x", **builders.dense_f32())
    bar.close()
    (made,) = _FakeBar.instances
    assert (made.total, made.n, made.closed) == (builders.G, builders.G, True)


def test_other_threads_run_while_exporting(tmp_path):
    """The GIL is released: a Python thread keeps running during the export.

    The callback (run with the GIL, between the export's steps) records how far the
    counting thread got; it must advance while the export is still going.
    """
    stop = threading.Event()
    count = [0]

    def spin():
        while not stop.is_set():
            count[0] += 1

    import numpy as np
    import pandas as pd

    kw = builders.dense_f32()
    n, g = 4000, 300  # long enough (tens of ms at gzip 9) for the switch interval to pass
    rng = np.random.default_rng(0)
    kw.update(
        latent_space=rng.normal(size=(n, 4)), X_umap_2d=rng.normal(size=(n, 2)), connectivities=None,
        obs=pd.DataFrame(index=[f"c{i}" for i in range(n)]), var=pd.DataFrame(index=[f"g{i}" for i in range(g)]),
        gene_expression=rng.random((n, g), dtype=np.float32), compression=9, var_quantization=None,
    )
    seen = []
    t = threading.Thread(target=spin)
    t.start()
    try:
        cellucid_bench.prepare_with_progress(
            lambda *_: seen.append(count[0]), out_dir=tmp_path / "x", **kw
        )
    finally:
        stop.set()
        t.join()
    assert seen[-1] > seen[0]


def test_prepare_prints_nothing_and_returns_none(tmp_path, capsys):
    assert cellucid_bench.prepare(out_dir=tmp_path / "x", **builders.dense_f32()) is None
    assert capsys.readouterr() == ("", "")


def test_the_default_bar_is_tqdm_only_in_interactive_sessions(monkeypatch):
    import sys

    from cellucid_bench import _progress

    monkeypatch.delattr(sys, "ps1", raising=False)
    monkeypatch.setattr(_progress, "_interactive", lambda: False)
    assert _progress.default_progress() is None
    monkeypatch.setattr(_progress, "_interactive", lambda: True)
    assert isinstance(_progress.default_progress(), TqdmProgress)  # tqdm is installed here


def test_a_rust_panic_becomes_runtime_error():
    import pytest

    from cellucid_bench import _native

    with pytest.raises(RuntimeError, match="internal error in cellucid_bench.*boom"):
        _native._panic_for_tests("boom")
