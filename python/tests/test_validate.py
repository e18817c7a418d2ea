"""validate(): the viewer's checks on a folder."""

from __future__ import annotations

import json
import shutil

import cellucid_bench
from support import golden


def test_every_golden_expected_folder_is_valid():
    for case in golden.case_dirs():
        assert cellucid_bench.validate(case / "expected") == [], case.name


def test_a_damaged_folder_reports_its_problems(tmp_path):
    case = golden.case_dirs()[1]
    out = tmp_path / "x"
    shutil.copytree(case / "expected", out)
    identity = out / "dataset_identity.json"
    doc = json.loads(identity.read_text())
    doc.pop("stats", None)
    doc["version"] = "not a version"
    identity.write_text(json.dumps(doc))
    payload = next(p for p in sorted(out.rglob("*")) if p.is_file() and p.suffix not in (".json",))
    payload.write_bytes(payload.read_bytes()[:-1])
    problems = cellucid_bench.validate(out)
    assert problems, "damage went unnoticed"
    assert any("dataset_identity.json" in p for p in problems), problems
    assert any(payload.name in p for p in problems), problems


def test_a_missing_folder_is_a_problem_not_a_crash(tmp_path):
    assert cellucid_bench.validate(tmp_path / "nothing") != []
