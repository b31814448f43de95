#!/usr/bin/env bash
# The main job: set up, then a real 20-trial search on bundled data (scikit-learn digits).
# Extra arguments go to `pcsearch search`, e.g. --trials 40 --jobs 4.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/pcsearch search --task mlp-digits --algorithm pc-se --trials 20 "$@"
