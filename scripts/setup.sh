#!/usr/bin/env bash
# Creates .venv (Python >= 3.11) and installs pcsearch with its dev tools.
# Quick when nothing changed: it reinstalls only when pyproject.toml is newer than the venv
# or the extras differ.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "pcsearch needs Python >= 3.11; $PY is $("$PY" --version 2>&1). Set PYTHON=python3.11." >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
# PCSEARCH_EXTRAS adds extras to dev, e.g. PCSEARCH_EXTRAS=cuda (the CUDA image) installs
# '.[dev,cuda]'. The stamp holds the extras installed (empty means dev, as before).
extras="dev${PCSEARCH_EXTRAS:+,$PCSEARCH_EXTRAS}"
stamp=.venv/.pcsearch-installed
installed=$(cat "$stamp" 2>/dev/null || true)
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ "${installed:-dev}" != "$extras" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[$extras]"
  echo "$extras" >"$stamp"
fi
