#!/usr/bin/env bash
# The Python package's tests: build the wheel with maturin into a virtualenv of its own
# (target/pytest-venv), install it, run pytest on python/tests/. The last line is
# "N passed, M failed, K skipped" (from pytest's JUnit XML); the exit status is pytest's.
# Tests that compare with the reference use $CELLUCID_PEER_VENV (cellucid==0.9.2) and
# skip with the reason when it is not set.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="$PWD/target/pytest-venv"
WHEELS="$PWD/target/python-wheels"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q --disable-pip-version-check maturin pytest numpy scipy pandas anndata tqdm
rm -rf "$WHEELS"
# Its own target dir: the package is not a workspace member (its lockfile adds pyo3).
(cd python && CARGO_TARGET_DIR="$PWD/../target/python" "$VENV/bin/maturin" build --release --quiet \
  --interpreter "$VENV/bin/python" --out "$WHEELS" 2>&1 | grep -vE '^\s+(Compiling|Downloaded|Downloading)' || true)
shopt -s nullglob
wheels=("$WHEELS"/*.whl)
if [ "${#wheels[@]}" -ne 1 ]; then
  echo "error: maturin built ${#wheels[@]} wheels in $WHEELS" >&2
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi
"$VENV/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps "${wheels[0]}"
export CELLUCID_BENCH_WHEEL="${wheels[0]}"
set +e
# Run from python/tests so that the installed wheel, not the source folder, is imported.
(cd python/tests && "$VENV/bin/python" -m pytest -q -rs -p no:cacheprovider --junitxml="$PWD/../../target/pytest.xml" .)
status=$?
set -e
"$VENV/bin/python" - target/pytest.xml <<'PY'
import sys
import xml.etree.ElementTree as ET

root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else list(root)
total = sum(int(s.get("tests", 0)) for s in suites)
failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
skipped = sum(int(s.get("skipped", 0)) for s in suites)
print(f"{total - failed - skipped} passed, {failed} failed, {skipped} skipped")
PY
exit "$status"
