#!/usr/bin/env bash
# The setup command of the built-in PyPI writers (cellucid-py-0.0.9, cellucid-py-0.9.5):
# create (or reuse) a virtualenv holding exactly the pinned packages.
#
#   bash scripts/writers/setup-venv.sh VENV_DIR PACKAGE==VERSION...
#
# Idempotent: a virtualenv whose every pin is installed is left alone and the command
# returns at once, so a sweep may run it every time. Concurrent setups of the same
# VENV_DIR wait for each other (flock on VENV_DIR.lock). On failure, the last lines of
# pip's output go to stderr and the status is non-zero.
set -euo pipefail

if [ "$#" -lt 2 ]; then
  echo "usage: setup-venv.sh VENV_DIR PACKAGE==VERSION..." >&2
  exit 2
fi
VENV="$1"
shift
PINS=("$@")

# Every pinned distribution installed at its version (exit 0), else the ones that are not.
check() {
  "$VENV/bin/python" - "${PINS[@]}" <<'PY'
import sys
from importlib.metadata import PackageNotFoundError, version
bad = []
for pin in sys.argv[1:]:
    name, want = pin.split("==")
    try:
        have = version(name)
    except PackageNotFoundError:
        have = None
    if have != want:
        bad.append(f"{name} {have} (want {want})")
if bad:
    print("not as pinned: " + ", ".join(bad))
    sys.exit(1)
PY
}

mkdir -p "$(dirname "$VENV")"
exec 9>"$VENV.lock"
flock 9

if [ -x "$VENV/bin/python" ] && check >/dev/null 2>&1; then
  exit 0
fi

# The golden set was generated with Python 3.11 (cellucid 0.9.5 needs >= 3.11, 0.0.9
# >= 3.10): prefer it, else the first newer one on PATH.
PY=""
for cand in python3.11 python3.12 python3.13 python3; do
  if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
    PY="$cand"
    break
  fi
done
if [ -z "$PY" ]; then
  echo "setup-venv.sh: no Python >= 3.10 on PATH" >&2
  exit 1
fi

if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
log="$VENV.pip.log"
if ! "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input "${PINS[@]}" >"$log" 2>&1; then
  tail -n 5 "$log" >&2
  exit 1
fi
check >&2
