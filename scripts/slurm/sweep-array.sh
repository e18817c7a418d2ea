#!/usr/bin/env bash
# Run one cellucid-bench sweep plan as a Slurm job array: every array task measures one
# shard of the plan and writes its own result file.
#
#   sbatch --array=0-15 scripts/slurm/sweep-array.sh guide
#
# Shard i of N holds the plan's cells at positions p with p % N == i after a seeded
# shuffle, so the shards are disjoint, together are the whole plan, and each gets a mix
# of large and small cells. Choose N (= the array size) from `cellucid-bench sweep
# --plan P --dry-run`, which prints the plan's runs, estimated time and disk.
#
# A task that is preempted or times out can simply be requeued: `--resume` skips the
# runs already stored in its shard file (each sample is fsynced as it is written).
#
# When every task has finished, combine the shards (one header, samples deduplicated by
# cell and repeat; machines are listed when the tasks ran on different nodes):
#
#   cellucid-bench merge results/guide.shard*.jsonl --out results/guide.jsonl
#
#SBATCH --job-name=cellucid-sweep
#SBATCH --array=0-7
#SBATCH --cpus-per-task=8
#SBATCH --mem=32G
#SBATCH --time=12:00:00
#SBATCH --output=results/slurm-%A_%a.out
#SBATCH --requeue

set -euo pipefail

PLAN="${1:-${PLAN:-quick}}"
BIN="${CELLUCID_BENCH:-cellucid-bench}"
OUT_DIR="${OUT_DIR:-results}"

if [[ -z "${SLURM_ARRAY_TASK_ID:-}" || -z "${SLURM_ARRAY_TASK_COUNT:-}" ]]; then
    echo "error: run this with sbatch --array=0-N (SLURM_ARRAY_TASK_ID/COUNT are not set)" >&2
    exit 2
fi

mkdir -p "$OUT_DIR"
ID="$SLURM_ARRAY_TASK_ID"
# The shard index must count from 0: use --array=0-N, not 1-N.
if (( ID < 0 || ID >= SLURM_ARRAY_TASK_COUNT )); then
    echo "error: array task id $ID is outside 0..$((SLURM_ARRAY_TASK_COUNT - 1)); use --array=0-N" >&2
    exit 2
fi

exec "$BIN" sweep \
    --plan "$PLAN" \
    --shard "$ID/$SLURM_ARRAY_TASK_COUNT" \
    --resume \
    --out "$OUT_DIR/$PLAN.shard$ID.jsonl"
