#!/usr/bin/env bash
# The in-process speed comparison of benches/python_inprocess.py, in a virtualenv holding
# both writers: cellucid 0.9.2 with its pinned stack (shared/peer/setup.sh) plus the
# cellucid_bench wheel that scripts/test-python.sh builds (built here if missing).
#   bash scripts/bench-python.sh [--cells N --genes G --repeats R --out-root DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${CELLUCID_SHARED:-$(cd .. && pwd)/shared}"
VENV="$PWD/target/bench-venv"
bash "$SHARED/peer/setup.sh" "$VENV" >/dev/null
shopt -s nullglob
wheels=(target/python-wheels/*.whl)
if [ "${#wheels[@]}" -ne 1 ]; then
  "$VENV/bin/pip" install -q --disable-pip-version-check maturin
  rm -rf target/python-wheels
  (cd python && CARGO_TARGET_DIR="$PWD/../target/python" "$VENV/bin/maturin" build --release --quiet \
    --interpreter "$VENV/bin/python" --out ../target/python-wheels)
  wheels=(target/python-wheels/*.whl)
fi
"$VENV/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps "${wheels[0]}"
exec "$VENV/bin/python" benches/python_inprocess.py "$@"
