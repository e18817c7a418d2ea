"""A sweep store (``cellucid-bench sweep``'s JSONL) as a pandas DataFrame.

The store is one header line (plan, machine, commit) and one sample per line
(``harness/src/store/record.rs``). Each sample becomes a row: its scalar fields as
they are, ``settings.*`` and ``dataset.*`` flattened (``dataset.graph`` as its kind),
each phase's wall time as ``phase_<name>_s``, the floor's ``floor_s``, and the
header's plan, commit and host on every row. A truncated last line (a sweep killed
while writing) is skipped with a warning, as the harness's reader does.
"""

from __future__ import annotations

import json
import os
import warnings

import pandas as pd

_FORMAT = "cellucid-bench-results"
_SCALARS = (
    "cell_id", "label", "repeat", "target", "writer", "wall_s", "user_s", "sys_s", "max_rss_bytes",
    "bytes_apparent", "bytes_allocated", "files", "dirs", "efficiency", "ok", "error", "output_hash",
    "finished_at",
)


def _lines(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as e:
            if number >= len(lines) - 1:  # the last line: a run killed mid-write
                warnings.warn(f"{path}: skipping a truncated last line ({e})", stacklevel=3)
                continue
            raise ValueError(f"{path}:{number}: not JSON: {e}") from None
    return records


def _row(sample: dict, header: dict) -> dict:
    row = {k: sample.get(k) for k in _SCALARS}
    # Stores older than the writer field name the writer `subject`.
    row["writer"] = sample.get("writer") or sample.get("subject") or ""
    for k, v in (sample.get("settings") or {}).items():
        row[f"settings.{k}"] = v
    for k, v in (sample.get("dataset") or {}).items():
        row[f"dataset.{k}"] = v.get("kind") if isinstance(v, dict) and "kind" in v else v
    for phase in sample.get("phases") or []:
        row[f"phase_{phase.get('phase')}_s"] = phase.get("wall")
    floor = sample.get("floor") or {}
    row["floor_s"] = floor.get("floor_s")
    row["skipped"] = (sample.get("skipped") or {}).get("reason")
    row["plan"] = header.get("plan")
    row["git_commit"] = header.get("git_commit")
    row["hostname"] = (header.get("machine") or {}).get("hostname")
    return row


def read_results(store: str | os.PathLike) -> pd.DataFrame:
    """Read one sweep store (JSONL) into a DataFrame, one row per sample."""
    records = _lines(os.fspath(store))
    if not records or records[0].get("format") != _FORMAT:
        raise ValueError(f"{os.fspath(store)}: not a cellucid-bench results store (no {_FORMAT!r} header)")
    header, samples = records[0], records[1:]
    if any("scenario" in s for s in samples):
        raise ValueError(f"{os.fspath(store)}: a scenario store, not a sweep store")
    return pd.DataFrame([_row(s, header) for s in samples])
