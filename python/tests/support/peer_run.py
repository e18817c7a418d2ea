"""Run the reference (cellucid 0.9.2, in its own venv) on a builders.py input.

    peer_run.py prepare VARIANT OUT_DIR      # writes OUT_DIR, prints nothing
    peer_run.py signature                    # prints prepare()'s parameters as JSON
"""

from __future__ import annotations

import contextlib
import inspect
import io
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> int:
    import cellucid

    if sys.argv[1] == "signature":
        params = inspect.signature(cellucid.prepare).parameters.values()
        rows = [[p.name, p.kind.name, None if p.default is p.empty else repr(p.default)] for p in params]
        print(json.dumps(rows))
        return 0
    import builders

    variant, out_dir = sys.argv[2], Path(sys.argv[3])
    kw = builders.dense_f32() if variant == "dense_f32" else builders.dtype_variants()[variant]
    with contextlib.redirect_stdout(io.StringIO()):
        cellucid.prepare(out_dir=out_dir, **kw)
    return 0


if __name__ == "__main__":
    sys.exit(main())
