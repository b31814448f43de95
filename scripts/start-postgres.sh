#!/usr/bin/env bash
# Starts the local PostgreSQL cluster when it is installed but not running.
set -uo pipefail
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then exit 0; fi
command -v pg_ctlcluster >/dev/null || { echo "no pg_ctlcluster on this machine" >&2; exit 1; }
version=$(find /etc/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -V | tail -n 1)
[ -n "$version" ] || { echo "no cluster under /etc/postgresql" >&2; exit 1; }
pg_ctlcluster --skip-systemctl-redirect "$version" main start
for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && exit 0; sleep 1; done
echo "PostgreSQL did not come up on 127.0.0.1:5432" >&2
exit 1
