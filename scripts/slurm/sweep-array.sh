#!/usr/bin/env bash
# Run one cellucid-bench sweep plan as a Slurm job array: every array task measures one
# shard of the plan and writes its own result file.
#
#   sbatch --array=0-15 scripts/slurm/sweep-array.sh guide
#   sbatch --array=0-3 --exclusive --mem=8G scripts/slurm/sweep-array.sh /shared/plans/mine.toml --no-floor
#
# The first argument is a built-in plan (quick, guide, ...) or a plan TOML file; further
# arguments go to `cellucid-bench sweep` unchanged. Task i stores its samples in
# $OUT_DIR/NAME.shard$i.jsonl, NAME being the plan's file name without `.toml`
# (/shared/plans/mine.toml -> results/mine.shard3.jsonl). The environment:
#   CELLUCID_BENCH     the binary (default: cellucid-bench on PATH); every node must reach it
#   OUT_DIR            where the shard stores go (default: results, under the submit directory)
#   CELLUCID_WORK_DIR  passed as --work-dir: the dataset cache, params, and the `disk`
#                      target's exports (default: the sweep's results/work)
# sbatch passes the submitting shell's environment to the tasks (--export=ALL), and
# relative paths are taken from the submit directory, the tasks' working directory.
#
# Shard i of N holds the plan's cells at positions p with p % N == i after a seeded
# shuffle, so the shards are disjoint, together are the whole plan, and each gets a mix
# of large and small cells. Choose N (= the array size) from `cellucid-bench sweep
# --plan P --dry-run`, which prints the plan's runs, estimated time, disk and memory
# (`--shard i/N --dry-run` prints one shard's).
#
# Sizing. A benchmark wants one shard per node, so that no two runs compete for cores,
# memory bandwidth or the disk: submit with --exclusive (the exporter uses every core it
# can see; Slurm without task/affinity or cgroups does not stop it from using more than
# --cpus-per-task). --cpus-per-task: the cores of the nodes you run on (or as many as you
# want measured). --mem: at least the dry run's "memory up to" for one shard (decimal GB;
# Slurm's G is GiB): the largest dataset twice, plus the whole export when its target is
# tmpfs, which lives in RAM. The defaults below (2 CPUs, 3 GiB) fit the quick plan (up
# to 0.64 GB) on a 2-CPU node with 4 GB; the guide plan needs up to 8.6 GB with
# --no-optional, 16.7 GB with its optional 1M-cell blocks. Options given to sbatch
# override these #SBATCH lines, e.g.
#   sbatch --array=0-7 --exclusive --cpus-per-task=16 --mem=16G scripts/slurm/sweep-array.sh guide
# --time: the dry run's estimate for one shard, with a margin (12 h by default).
#
# On a real cluster the datasets and stores must be on a filesystem every node shares
# (CELLUCID_WORK_DIR, OUT_DIR); the filesystem targets (tmpfs, xfs, sshfs, ...) are made
# on the node that runs the task, each task its own.
#
# A task that is preempted or times out can simply be requeued: `--resume` skips the
# runs already stored in its shard file (each sample is fsynced as it is written).
#
# When every task has finished, combine the shards (one header, samples deduplicated by
# cell and repeat; machines are listed when the tasks ran on different nodes):
#
#   cellucid-bench merge results/guide.shard*.jsonl --out results/guide.jsonl
#
# Slurm writes each task's output before this script runs and does not create the
# directory it names, so the default log is in the submit directory.
#SBATCH --job-name=cellucid-sweep
#SBATCH --array=0-7
#SBATCH --cpus-per-task=2
#SBATCH --mem=3G
#SBATCH --time=12:00:00
#SBATCH --output=cellucid-sweep-%A_%a.out
#SBATCH --requeue

set -euo pipefail

PLAN="${1:-${PLAN:-quick}}"
if (( $# > 0 )); then
    shift
fi
BIN="${CELLUCID_BENCH:-cellucid-bench}"
OUT_DIR="${OUT_DIR:-results}"
WORK_DIR="${CELLUCID_WORK_DIR:-}"

if [[ -z "${SLURM_ARRAY_TASK_ID:-}" || -z "${SLURM_ARRAY_TASK_COUNT:-}" ]]; then
    echo "error: run this with sbatch --array=0-N (SLURM_ARRAY_TASK_ID/COUNT are not set)" >&2
    exit 2
fi
if ! command -v "$BIN" >/dev/null 2>&1; then
    echo "error: $BIN not found on $(hostname): set CELLUCID_BENCH to a path every node can run" >&2
    exit 2
fi

ID="$SLURM_ARRAY_TASK_ID"
# The shard index must count from 0: use --array=0-N, not 1-N.
if (( ID < 0 || ID >= SLURM_ARRAY_TASK_COUNT )); then
    echo "error: array task id $ID is outside 0..$((SLURM_ARRAY_TASK_COUNT - 1)); use --array=0-N" >&2
    exit 2
fi

# A plan file's path must not become part of the store's name (results//x/plan.toml.shard0…).
NAME="$(basename -- "$PLAN")"
NAME="${NAME%.toml}"
mkdir -p "$OUT_DIR"

args=(sweep
    --plan "$PLAN"
    --shard "$ID/$SLURM_ARRAY_TASK_COUNT"
    --resume
    --out "$OUT_DIR/$NAME.shard$ID.jsonl")
if [[ -n "$WORK_DIR" ]]; then
    args+=(--work-dir "$WORK_DIR")
fi
exec "$BIN" "${args[@]}" "$@"
