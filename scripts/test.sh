#!/usr/bin/env bash
# The README's test command: install what is missing, set up the reference writer's
# virtualenv (used by tests that compare with Python/anndata), run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# xfs, btrfs and sshfs targets of the harness tests (skipped with a reason when not root).
bash scripts/install-fs-deps.sh
# Headless Chromium for the HTML report test, and the plots' font.
bash scripts/install-browser.sh
# R with hdf5r, jsonlite and Matrix for the cellucid-r driver's mapping test (harness/tests/r_driver.rs).
bash scripts/install-r.sh
# slurm-wlm and munge for the one-node Slurm cluster of harness/tests/slurm.rs.
bash scripts/install-slurm.sh
SHARED="${CELLUCID_SHARED:-$(cd .. && pwd)/shared}"
if [ -f "$SHARED/peer/setup.sh" ]; then
  bash "$SHARED/peer/setup.sh" .venv-peer >/dev/null
  export CELLUCID_PEER_VENV="$PWD/.venv-peer"
fi
mkdir -p target
set +e
cargo test --workspace --release --no-fail-fast 2>&1 | tee target/test-output.txt | grep -vE '^\s+(Compiling|Downloaded|Downloading)'
status=${PIPESTATUS[0]}
# The Python package (python/): wheel built by maturin, pytest; its last line is
# "N passed, M failed, K skipped", added to the summary below.
bash scripts/test-python.sh 2>&1 | tee target/test-python-output.txt
py_status=${PIPESTATUS[0]}
set -e
if [ "$status" -eq 0 ]; then status=$py_status; fi
# One closing line for CI: the sum over every test binary and the pytest run.
python3 - target/test-output.txt target/test-python-output.txt <<'PY'
import re, sys
p = f = s = 0
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    m = re.search(r"test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored", line)
    if m:
        p += int(m.group(1)); f += int(m.group(2)); s += int(m.group(3))
py = None
for line in open(sys.argv[2], encoding="utf-8", errors="replace"):
    m = re.fullmatch(r"(\d+) passed, (\d+) failed, (\d+) skipped\n?", line)
    if m:
        py = m
if py is None:
    f += 1  # test-python.sh ended before its summary line: count it as a failure
else:
    p += int(py.group(1)); f += int(py.group(2)); s += int(py.group(3))
print(f"{p} passed, {f} failed, {s} skipped")
PY
exit "$status"
