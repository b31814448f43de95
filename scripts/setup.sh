#!/usr/bin/env bash
# Creates .venv (Python >= 3.11) and installs pcsearch with its dev tools.
# Quick when nothing changed: it reinstalls only when pyproject.toml is newer than the venv.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "pcsearch needs Python >= 3.11; $PY is $("$PY" --version 2>&1). Set PYTHON=python3.11." >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=.venv/.pcsearch-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]'
  touch "$stamp"
fi
