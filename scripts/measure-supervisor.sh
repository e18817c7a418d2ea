#!/usr/bin/env bash
# The cost of reading in a supervised worker: `export` (supervised, the default) against
# `export --in-process` on the same input, interleaved (A,B then B,A) so that drift of the
# machine hits both; prints the medians, the ratio of medians and the median of per-pair
# ratios. Run on a quiet machine.
#
#   bash scripts/measure-supervisor.sh [PAIRS=15] [CELLS=20000] [GENES=2000] [EXPORT FLAGS…]
#   e.g. TMPDIR=/dev/shm bash scripts/measure-supervisor.sh 15 20000 2000 --var-quantization 8 --compression 6
set -euo pipefail
cd "$(dirname "$0")/.."
PAIRS="${1:-15}" CELLS="${2:-20000}" GENES="${3:-2000}"
shift $(($# < 3 ? $# : 3))
BIN="${CELLUCID_BENCH:-target/release/cellucid-bench}"
[ -x "$BIN" ] || cargo build --release -p cellucid-bench
WORK="$(mktemp -d "${TMPDIR:-/tmp}/measure-supervisor.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
INPUT="$WORK/bench.h5ad"
"$BIN" generate --cells "$CELLS" --genes "$GENES" --density 0.1 --seed 1 -o "$INPUT" >/dev/null
MAP=(--embedding 2d=obsm/X_umap_2d --latent obsm/X_latent --quiet "$@")

# One timed export (seconds on stdout); the previous output is removed untimed.
run() {
  rm -rf "$WORK/out" "$WORK"/.out.cellucid-*
  sync
  local t0 t1
  t0=$(date +%s.%N)
  "$BIN" export "$INPUT" "$WORK/out" "${MAP[@]}" "$@"
  t1=$(date +%s.%N)
  python3 -c "print($t1 - $t0)"
}

run >/dev/null; run --in-process >/dev/null   # warm-up: page cache, binary
: >"$WORK/times"
for ((i = 0; i < PAIRS; i++)); do
  if ((i % 2 == 0)); then
    s=$(run); p=$(run --in-process)
  else
    p=$(run --in-process); s=$(run)
  fi
  echo "$s $p" >>"$WORK/times"
done
python3 - "$WORK/times" "$CELLS" "$GENES" "$@" <<'PY'
import statistics, sys
pairs = [tuple(map(float, l.split())) for l in open(sys.argv[1])]
sup = [s for s, _ in pairs]; inp = [p for _, p in pairs]
ms, mi = statistics.median(sup), statistics.median(inp)
paired = statistics.median(s / p for s, p in pairs)
print(f"{sys.argv[2]} x {sys.argv[3]} export {' '.join(sys.argv[4:])}, {len(pairs)} interleaved pairs")
print(f"  supervised   median {ms:.3f} s")
print(f"  in-process   median {mi:.3f} s")
print(f"  ratio of medians {ms / mi:.4f} ({(ms / mi - 1) * 100:+.2f} %), median paired ratio {paired:.4f} ({(paired - 1) * 100:+.2f} %)")
PY
