"""Progress: a user's callback, or a tqdm bar in interactive sessions.

The Rust layer calls ``progress(phase, done, total)`` on the calling thread at each
phase and at most every 100 ms while genes are written (``done`` of ``total``; both 0
outside the gene stage).
"""

from __future__ import annotations

import sys


def _interactive() -> bool:
    """A REPL, a Jupyter kernel, or a terminal on stderr."""
    if hasattr(sys, "ps1") or "ipykernel" in sys.modules:
        return True
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class TqdmProgress:
    """One tqdm bar over the gene stage; phases shown in its description."""

    def __init__(self, tqdm):
        self._tqdm = tqdm
        self._bar = None

    def __call__(self, phase: str, done: int, total: int) -> None:
        if phase == "genes" and total and self._bar is None:
            self._bar = self._tqdm(total=total, desc="cellucid_bench: genes", unit="gene", leave=False)
        if self._bar is None:
            return
        if phase == "genes":
            self._bar.update(done - self._bar.n)
        else:
            self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def default_progress():
    """A tqdm bar when tqdm is importable and the session is interactive, else None."""
    if not _interactive():
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return TqdmProgress(tqdm)
