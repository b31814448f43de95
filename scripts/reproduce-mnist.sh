#!/usr/bin/env bash
# The MLP/MNIST row of the paper's Table 1 with the paper's protocol: each algorithm's best
# hyperparameters (the paper's) trained on 7 seeds, the best 5 reported, beside the paper.
# Writes results/paper-mlp-mnist/ (table, comparison); about 40 minutes on 2 CPU cores.
# Usage: scripts/reproduce-mnist.sh [DATA_DIR holding mnist/]   (JOBS=N to set workers;
# TASK=mlp-fashionmnist for the Fashion-MNIST row, from DATA_DIR/fashionmnist/; Table 2's
# MNIST autoencoder: TASK=ae-mnist ALGORITHMS="pc-se ipc bp-se" SEEDS=5 KEEP_BEST=5)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
data=${1:-${PCSEARCH_DATA_DIR:-../shared/data}}
task=${TASK:-mlp-mnist}
out=results/paper-$task
storage=${STORAGE:-$out/studies.journal}
# the data first: downloaded where there is internet, else a one-line fix in a second
.venv/bin/pcsearch data fetch "$task" --data-dir "$data"
mkdir -p "$out"
start=$(date +%s)
for algorithm in ${ALGORITHMS:-pc-ce pc-se pn nn cn ipc bp-ce bp-se}; do
  .venv/bin/pcsearch rerun --task "$task" --algorithm "$algorithm" --seeds "${SEEDS:-7}" \
    --keep-best "${KEEP_BEST:-5}" \
    --storage "$storage" --data-dir "$data" --jobs "${JOBS:-2}"
done
echo "all seeds: $(( $(date +%s) - start )) s"
.venv/bin/pcsearch report --storage "$storage" --out "$out" --compare
