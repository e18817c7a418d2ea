#!/usr/bin/env bash
# The README's run command: installs what is missing, builds, and runs the `quick` sweep
# (every axis at two levels, this exporter on tmpfs and the local disk, the reference
# writer cellucid 0.9.2 beside it on four cells), each run a measured child
# process; ends with a summary table (results/quick-summary.md) and the report of the
# tuning guide's tables with measured numbers and verdicts (results/quick-report/:
# report.md, report.html, CSV, JSON, SVG and PNG plots).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/install-browser.sh >/dev/null   # the plots' font (fonts-dejavu-core)
SHARED="${CELLUCID_SHARED:-$(cd .. && pwd)/shared}"
if [ ! -f "$SHARED/peer/setup.sh" ]; then
  echo "run.sh: the shared reference material is not at $SHARED (set CELLUCID_SHARED)" >&2
  exit 1
fi
echo "== setting up the reference writer (cellucid 0.9.2) in .venv-peer"
bash "$SHARED/peer/setup.sh" .venv-peer
echo "== building"
cargo build --release -q -p cellucid-bench
B=target/release/cellucid-bench
mkdir -p results
if [ -f results/quick.jsonl ]; then
  mv results/quick.jsonl "results/quick.$(date -u +%Y%m%dT%H%M%SZ).jsonl"
fi
echo "== sweep --plan quick"
"$B" sweep --plan quick --out results/quick.jsonl --work-dir results/work \
  --peer-python .venv-peer/bin/python --peer-script "$SHARED/peer/cellucid_prepare_092.py" \
  | tee results/quick-summary.md
echo "== report"
"$B" report results/quick.jsonl --out results/quick-report
echo "== results: results/quick.jsonl (every sample), results/quick-summary.md (the table above),"
echo "   results/quick-report/report.md and results/quick-report/report.html (the guide's tables, verdicts, plots)"
