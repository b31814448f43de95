#!/usr/bin/env bash
# Table 3's associative memory on MNIST (the paper runs it on Tiny ImageNet; its code has
# no MNIST memory): a [512, d, d, 784] PCN memorises n MNIST training images and recalls
# them from noisy or half-masked cues, each (corruption, d, n) cell with the values the
# paper's code tuned for that cell on Tiny ImageNet (memory_cells.json), on SEEDS seeds.
# Writes results/am-mnist/ (table, comparison). Usage: scripts/reproduce-memory.sh
# [DATA_DIR holding mnist/]; CORRUPTIONS, WIDTHS, SIZES pick the cells (default: Table 3's
# 18), SEEDS (default 5), JOBS (default 2). On 2 CPU cores a d = 512 cell takes 2-3 min a
# seed, d = 1024 6-8 min, d = 2048 about 20 min (the mask cells recall in 50000 steps).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
data=${1:-${PCSEARCH_DATA_DIR:-../shared/data}}
out=${OUT:-results/am-mnist}
storage=${STORAGE:-$out/studies.journal}
# the data first: downloaded where there is internet, else a one-line fix in a second
.venv/bin/pcsearch data fetch am-mnist --data-dir "$data"
mkdir -p "$out"
start=$(date +%s)
for corruption in ${CORRUPTIONS:-noise mask}; do
  for width in ${WIDTHS:-512 1024 2048}; do
    for size in ${SIZES:-50 100 250}; do
      .venv/bin/pcsearch rerun --task am-mnist --algorithm pc-se \
        --set "corruption=$corruption" --set "hidden_width=$width" --set "memory_size=$size" \
        --name "am-mnist.$corruption.d$width.n$size" --seeds "${SEEDS:-5}" \
        --keep-best "${SEEDS:-5}" --storage "$storage" --data-dir "$data" --jobs "${JOBS:-2}"
    done
  done
done
echo "all seeds: $(( $(date +%s) - start )) s"
.venv/bin/pcsearch report --storage "$storage" --out "$out"
