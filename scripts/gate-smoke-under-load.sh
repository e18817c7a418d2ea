#!/usr/bin/env bash
# The CI gate's smoke tests (harness/tests/ci_gate.rs: A/A passes, a slower candidate and
# a format change fail) run RUNS times while
# `stress-ng --cpu CPUS` keeps the cores busy: a test in CI must not fail because the
# machine is loaded. Prints one line per run and closes with "N passed, M failed".
#
#   bash scripts/gate-smoke-under-load.sh [RUNS] [CPUS]   (defaults: 20, the number of cores)
#
# Installs stress-ng (Debian package) when missing and running as root.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-20}"
CPUS="${2:-$(nproc)}"

if ! command -v stress-ng >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "gate-smoke-under-load: stress-ng is missing and only root can install it (apt-get install stress-ng)" >&2
    exit 2
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends stress-ng >/dev/null
fi

# Build first, unloaded: the runs below then only run the test.
cargo test --release -p cellucid-bench --test ci_gate --no-run --quiet

LOG_DIR="target/gate-smoke-under-load"
mkdir -p "$LOG_DIR"
stress-ng --cpu "$CPUS" --timeout 3600s --quiet &
stress=$!
trap 'kill "$stress" 2>/dev/null || true' EXIT
sleep 2

passed=0
failed=0
for i in $(seq 1 "$RUNS"); do
  log="$LOG_DIR/run-$i.log"
  if cargo test --release -p cellucid-bench --test ci_gate --quiet >"$log" 2>&1; then
    passed=$((passed + 1)); verdict=pass
  else
    failed=$((failed + 1)); verdict="FAIL (see $log)"
  fi
  echo "run $i/$RUNS under stress-ng --cpu $CPUS: $verdict, $(grep -o 'finished in [0-9.]*s' "$log" || echo '?')"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
