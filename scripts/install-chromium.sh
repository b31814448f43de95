#!/usr/bin/env bash
# Installs Debian's chromium (headless browser of the dashboard tests) when it is missing.
# Never fails its caller: without chromium the browser tests skip, or fail under CI=true.
set -uo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
warn() { echo "chromium could not be installed ($1); the browser tests will skip (or fail under CI=true)" >&2; }
command -v apt-get >/dev/null 2>&1 || { warn "no apt-get"; exit 0; }
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { warn "not root and no sudo"; exit 0; }
  sudo=(sudo -n)
fi
install() { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; }
# A fresh machine may have no package lists yet: update once, then try again.
install 2>/dev/null || { "${sudo[@]}" apt-get update -qq && install; } || { warn "apt-get failed"; exit 0; }
command -v chromium >/dev/null 2>&1 || warn "installed, but not on PATH"
exit 0
