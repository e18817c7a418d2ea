#!/usr/bin/env bash
# Calibrates the CI speed gate (cellucid-bench ci): how often it fails for nothing (A/A:
# a binary against itself) and how often it catches a real 10 % slowdown (A/B: a normal
# baseline against a candidate built with the `slowdown` feature and run with
# CELLUCID_SLOWDOWN_PCT=P, which pads every gene's encode+write by P % of its own CPU
# time). The gene stage is about two thirds of an export of the `ci` plan, so P = 15
# makes the whole export ≈ 10 % slower (P = 10 gives ≈ 6–7 %); the table also prints
# the median slowdown the gate measured. docs/ci-gate.md records the output.
#
#   bash scripts/calibrate-gate.sh [RUNS] [THRESHOLD] [PLAN] [P]   (defaults: 10 5% ci 15)
#
# Environment: CALIB_DIR (binaries, datasets, logs; default target/calibrate-gate),
# CALIB_TARGET_DIR (cargo target dir prefix; default target/calibrate), CALIB_LOAD=N:
# calibrate under load, N stress-ng CPU workers (Debian's stress-ng) busy beside every
# gate run, as on a shared CI runner (default 0: no load). CALIB_GATE_ARGS: more `ci`
# flags for every gate run (default `--adaptive`: pairs until decided, up to 40; set it
# to the empty string for the fixed 12 pairs of the plan, as calibrated before
# 2026-12-03); the summary then also gives the pairs used and why each stopped.
#
# Exit statuses of a gate run: 0 pass, 1 fail, 3 inconclusive (too few pairs, runs too
# short, or an interval wider than the threshold); the table counts each.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-10}"
THRESHOLD="${2:-5%}"
PLAN="${3:-ci}"
PCT="${4:-15}"
DIR="${CALIB_DIR:-$PWD/target/calibrate-gate}"
TD="${CALIB_TARGET_DIR:-$PWD/target/calibrate}"
mkdir -p "$DIR/logs"
LOAD="${CALIB_LOAD:-0}"
GATE_ARGS="${CALIB_GATE_ARGS---adaptive}"
if [ "$LOAD" -gt 0 ]; then
  command -v stress-ng >/dev/null || { echo "CALIB_LOAD needs stress-ng (apt-get install stress-ng)" >&2; exit 2; }
  stress-ng --cpu "$LOAD" --cpu-method matrixprod --quiet &
  STRESS=$!
  trap 'kill "$STRESS" 2>/dev/null; wait "$STRESS" 2>/dev/null' EXIT
fi

# Two builds in separate target dirs, so that neither overwrites the other (each copied
# right after its build, so that the two dirs may also be one: a symlink to target/).
cargo build --release --quiet -p cellucid-bench --target-dir "$TD-normal"
cp "$TD-normal/release/cellucid-bench" "$DIR/normal"
cargo build --release --quiet -p cellucid-bench --features slowdown --target-dir "$TD-slowdown"
cp "$TD-slowdown/release/cellucid-bench" "$DIR/slowdown"

gate() { # KIND I BASELINE CANDIDATE [ENV…]: one gate run; prints "exit wall_s"
  local kind=$1 i=$2 base=$3 cand=$4; shift 4
  local log="$DIR/logs/$kind-$i.md" t0 t1 rc=0
  t0=$(date +%s.%N)
  env "$@" "$DIR/normal" ci --baseline "$base" --candidate "$cand" --plan "$PLAN" \
    --threshold "$THRESHOLD" --work-dir "$DIR/work" --quiet $GATE_ARGS >"$log" 2>"$DIR/logs/$kind-$i.err" || rc=$?
  t1=$(date +%s.%N)
  if [ "$rc" -eq 2 ] || [ "$rc" -gt 3 ]; then echo "gate error (exit $rc), see $DIR/logs/$kind-$i.err" >&2; exit 2; fi
  echo "$rc $(python3 -c "print(f'{$t1-$t0:.1f}')")"
}

aa_fail=0; ab_fail=0; aa_inc=0; ab_inc=0; walls=()
# A/A and A/B alternate, so that a slow period of the machine hits both kinds alike.
for i in $(seq 1 "$RUNS"); do
  read -r rc w < <(gate aa "$i" "$DIR/normal" "$DIR/normal" CELLUCID_SLOWDOWN_PCT=0)
  [ "$rc" = 1 ] && aa_fail=$((aa_fail + 1)); [ "$rc" = 3 ] && aa_inc=$((aa_inc + 1)); walls+=("$w")
  echo "A/A run $i: exit $rc, ${w} s" >&2
  read -r rc w < <(gate ab "$i" "$DIR/normal" "$DIR/slowdown" CELLUCID_SLOWDOWN_PCT="$PCT")
  [ "$rc" = 1 ] && ab_fail=$((ab_fail + 1)); [ "$rc" = 3 ] && ab_inc=$((ab_inc + 1)); walls+=("$w")
  echo "A/B run $i: exit $rc, ${w} s" >&2
done

python3 - "$RUNS" "$aa_fail" "$ab_fail" "$aa_inc" "$ab_inc" "$LOAD" "$THRESHOLD" "$PLAN" "$PCT" "$DIR/logs" "$GATE_ARGS" "${walls[@]}" <<'PY'
import sys, statistics, re, glob, collections
runs, aa, ab, aa_inc, ab_inc, load = map(int, sys.argv[1:7]); thr, plan, pct, logs, gate_args = sys.argv[7:12]
walls = [float(x) for x in sys.argv[12:]]
def changes(kind):
    """The per-configuration change column of every gate log of this kind."""
    out = []
    for f in glob.glob(f"{logs}/{kind}-*.md"):
        for line in open(f, encoding="utf-8"):
            m = re.match(r"^\| [^|]+ \| [\d.]+ \| [\d.]+ \| ([+-][\d.]+) %", line)
            if m:
                out.append(float(m.group(1)))
    return out
def stops(kind):
    """Pairs used and stop reasons of every configuration (adaptive gate logs only)."""
    pairs, why = [], collections.Counter()
    for f in glob.glob(f"{logs}/{kind}-*.md"):
        for line in open(f, encoding="utf-8"):
            m = re.search(r"\| (\d+) \(([^)]+)\) \| \w+ \| [\w ]+ \|$", line.rstrip())
            if m:
                pairs.append(int(m.group(1))); why[m.group(2)] += 1
    return pairs, why
load_text = f"under load ({load} stress-ng CPU workers)" if load else "no added load"
gate_text = f", gate flags `{gate_args}`" if gate_args.strip() else ""
print(f"gate calibration: plan {plan}, threshold {thr}, {runs} A/A and {runs} A/B runs (A/B: CELLUCID_SLOWDOWN_PCT={pct}), {load_text}{gate_text}")
print()
print("| experiment | runs | gate failures | rate | requirement | met | inconclusive (exit 3) |")
print("|---|---|---|---|---|---|---|")
print(f"| A/A (normal vs normal): false alarms | {runs} | {aa} | {aa/runs:.0%} | ≤ 5 % | {'yes' if aa/runs <= 0.05 else 'NO'} | {aa_inc} ({aa_inc/runs:.0%}) |")
print(f"| A/B (normal vs +{pct} % gene stage): detections | {runs} | {ab} | {ab/runs:.0%} | ≥ 90 % | {'yes' if ab/runs >= 0.90 else 'NO'} | {ab_inc} ({ab_inc/runs:.0%}) |")
print()
for kind in ("aa", "ab"):
    c = changes(kind)
    if c:
        print(f"{kind.upper()}: per-configuration change measured by the gate: median {statistics.median(c):+.1f} %, range {min(c):+.1f} … {max(c):+.1f} % ({len(c)} configuration runs)")
    p, why = stops(kind)
    if p:
        reasons = ", ".join(f"{r} {n}" for r, n in why.most_common())
        print(f"{kind.upper()}: pairs per configuration: median {statistics.median(p):g}, range {min(p)} … {max(p)}; stopped: {reasons}")
print(f"wall time of one gate run: median {statistics.median(walls):.1f} s, max {max(walls):.1f} s")
PY
