"""read_results(): a sweep store as a DataFrame."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import cellucid_bench

REPO = Path(__file__).resolve().parents[2]
QUICK = REPO / "reports" / "tests" / "data" / "quick.jsonl"


def test_a_sweep_store_reads_one_row_per_sample():
    lines = [json.loads(x) for x in QUICK.read_text().splitlines() if x.strip()]
    df = cellucid_bench.read_results(QUICK)
    assert len(df) == len(lines) - 1
    first = lines[1]
    row = df.iloc[0]
    assert row["cell_id"] == first["cell_id"]
    assert row["wall_s"] == first["wall_s"]
    assert row["writer"] == (first.get("writer") or first["subject"])
    assert row["dataset.cells"] == first["dataset"]["cells"]
    assert row["settings.var_quantization"] == first["settings"]["var_quantization"]
    genes = next(p for p in first["phases"] if p["phase"] == "genes")
    assert row["phase_genes_s"] == genes["wall"]
    assert row["plan"] == lines[0]["plan"]
    assert df.groupby("writer")["wall_s"].median().notna().all()


def test_a_truncated_last_line_is_skipped_with_a_warning(tmp_path):
    text = QUICK.read_text().rstrip("\n")
    store = tmp_path / "cut.jsonl"
    store.write_text(text[: len(text) - 40])
    with pytest.warns(UserWarning, match="truncated"):
        df = cellucid_bench.read_results(store)
    assert len(df) == len(text.splitlines()) - 2


def test_other_files_are_refused(tmp_path):
    junk = tmp_path / "x.jsonl"
    junk.write_text('{"a": 1}\n')
    with pytest.raises(ValueError, match="not a cellucid-bench results store"):
        cellucid_bench.read_results(junk)
    header = QUICK.read_text().splitlines()[0]
    scenario = tmp_path / "s.jsonl"
    scenario.write_text(header + '\n{"scenario": "stale-export", "writer": "ours"}\n')
    with pytest.raises(ValueError, match="scenario store"):
        cellucid_bench.read_results(scenario)
