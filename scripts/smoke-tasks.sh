#!/usr/bin/env bash
# Smoke-test every discriminative convolutional task with every algorithm that applies:
# one epoch of 2 small batches of synthetic data each (`pcsearch train --synthetic`), one
# line per pair: ok or FAILED and the seconds it took (compilation included). Exits 1 if
# any pair failed; the failures' logs are kept and named at the end.
# Usage: scripts/smoke-tasks.sh [TASK_GLOB [ALGORITHM_GLOB]]   e.g. 'vgg9-*' 'pc-*'
#   BATCH=8 (examples per batch), STEPS=N (--set T=N for the algorithms with inference
#   steps), ARGS='--seed 1' (more train options for every pair), KEEP=DIR (for the logs)
# The whole matrix compiles each (task, algorithm) once: minutes each on a small CPU.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
task_glob=${1:-*}
algorithm_glob=${2:-*}
logs=${KEEP:-$(mktemp -d -t smoke-tasks.XXXXXX)}
mkdir -p "$logs"
pairs=$(.venv/bin/python - "$task_glob" "$algorithm_glob" <<'EOF'
import sys
from fnmatch import fnmatchcase

from pcsearch.catalogue import ALGORITHMS, TASKS

task_glob, algorithm_glob = sys.argv[1:]
for name, task in TASKS.items():
    mode = getattr(task, "mode", "discriminative")
    if task.model == "mlp" or mode != "discriminative" or not fnmatchcase(name, task_glob):
        continue
    allowed = getattr(task, "algorithms", tuple(ALGORITHMS))
    for algorithm, info in ALGORITHMS.items():
        if info.implemented and algorithm in allowed and fnmatchcase(algorithm, algorithm_glob):
            print(name, algorithm, "bp" if info.family == "bp" else "steps")
EOF
) || { echo "cannot list the tasks" >&2; exit 2; }
if [ -z "$pairs" ]; then
  echo "no discriminative conv task matches '$task_glob' with an algorithm matching '$algorithm_glob'" >&2
  exit 2
fi
failed=0
total=0
while read -r task algorithm kind; do
  total=$((total + 1))
  log="$logs/$task.$algorithm.log"
  steps=()
  if [ -n "${STEPS:-}" ] && [ "$kind" = steps ]; then steps=(--set "T=$STEPS"); fi
  start=$(date +%s.%N)
  # shellcheck disable=SC2086  # ARGS is a list of options
  if .venv/bin/pcsearch train --task "$task" --algorithm "$algorithm" --epochs 1 --synthetic \
      --max-batches 2 --batch-size "${BATCH:-8}" "${steps[@]}" ${ARGS:-} >"$log" 2>&1; then
    status=ok
  else
    status=FAILED
    failed=$((failed + 1))
  fi
  seconds=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
  printf '%-7s %-24s %-6s %7s s\n' "$status" "$task" "$algorithm" "$seconds"
done <<<"$pairs"
echo "$((total - failed)) of $total pairs ok; logs in $logs"
[ "$failed" -eq 0 ]
