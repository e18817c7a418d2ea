"""cellucid_bench: Cellucid's export folder from in-memory data, in Rust.

``prepare()`` has exactly the signature of ``cellucid.prepare()`` 0.9.2 and writes the
same folder; ``validate()`` runs the viewer's checks on a folder; ``read_results()``
loads a ``cellucid-bench sweep`` store into pandas.
"""

from __future__ import annotations

import os

from . import _native
from ._errors import NonFinitePayloadError
from ._prepare import prepare, prepare_with_progress
from ._results import read_results

__all__ = [
    "NonFinitePayloadError",
    "compare_folders",
    "prepare",
    "prepare_with_progress",
    "read_results",
    "validate",
]


def validate(path: str | os.PathLike) -> list[str]:
    """Every problem the viewer's loader would find in the export folder at ``path``,
    as ``"file: field: message"`` lines (empty: the folder is valid)."""
    return [f"{file}: {field}: {message}" for file, field, message in _native.validate(os.fspath(path))]


def compare_folders(expected, actual, expected_dirs=None) -> list[str]:
    """Differences between two export folders under the conformance rule (JSON and raw
    payloads byte for byte, each ``.gz`` one member with the same header and the same
    decompressed bytes); empty when equivalent. ``expected_dirs`` (a set of
    ``"dir/"`` paths) overrides the expected directory set."""
    dirs = None if expected_dirs is None else set(expected_dirs)
    return _native.compare_folders(os.fspath(expected), os.fspath(actual), dirs)
