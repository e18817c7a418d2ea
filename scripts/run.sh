#!/usr/bin/env bash
# The README's run command: installs what is missing, builds, generates a synthetic
# dataset (scripts/quick-spec.toml), exports it with cellucid-bench and with the
# reference writer (cellucid 0.9.2) side by side as measured child processes, checks
# that both outputs are equivalent and viewer-valid, and writes results/quick-report.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
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
DATA=results/quick-20k.h5ad
if [ ! -f "$DATA" ] || [ scripts/quick-spec.toml -nt "$DATA" ]; then
  echo "== generating $DATA"
  "$B" generate --spec scripts/quick-spec.toml -o "$DATA"
fi
INPUTS='"inputs": {"gene_expression": "X", "latent_space": "obsm/X_latent", "X_umap_2d": "obsm/X_umap_2d", "connectivities": "obsp/connectivities"}'
COMMON='"dataset_name": "Quick 20k", "dataset_id": "quick-20k", "obs_categorical_dtype": "uint8", "created_at": "2026-01-01T00:00:00Z"'
echo "{$COMMON, \"var_quantization\": 8, \"obs_continuous_quantization\": 8, \"compression\": 6, $INPUTS}" > results/q8_gzip6.json
echo "{$COMMON, $INPUTS}" > results/f32_plain.json
echo "== exporting with cellucid-bench and cellucid 0.9.2 (interleaved, 1 warm-up + ${REPEATS:-3} timed runs each)"
"$B" compare "$DATA" \
  --setting q8_gzip6=results/q8_gzip6.json \
  --setting f32_plain=results/f32_plain.json \
  --repeats "${REPEATS:-3}" \
  --peer-python .venv-peer/bin/python \
  --peer-script "$SHARED/peer/cellucid_prepare_092.py" \
  --report results/quick-report.md
echo "== report written to results/quick-report.md"
