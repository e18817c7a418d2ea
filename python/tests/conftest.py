"""Shared fixtures: the golden set (../shared/golden), its own loaders, the reference venv."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support import golden  # noqa: E402


@pytest.fixture(scope="session")
def make_cases():
    return golden.make_cases()


@pytest.fixture(scope="session")
def peer_python():
    """The reference's interpreter (cellucid==0.9.2), or skip."""
    venv = os.environ.get("CELLUCID_PEER_VENV")
    if not venv:
        pytest.skip("CELLUCID_PEER_VENV is not set: no reference cellucid 0.9.2 to compare with")
    python = Path(venv) / "bin" / "python"
    if not python.exists():
        pytest.skip(f"CELLUCID_PEER_VENV={venv} has no bin/python")
    return python
