#!/usr/bin/env bash
# Installs Debian's PostgreSQL server for the multi-instance tests if it is missing.
# The tests start a private server of their own; nothing is configured system-wide.
set -euo pipefail
if command -v pg_ctl >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif sudo -n true 2>/dev/null; then
  SUDO="sudo -n"
else
  echo "PostgreSQL not installed and no root: multi-instance tests will be skipped." >&2
  exit 0
fi
echo "Installing PostgreSQL (Debian package) for the multi-instance tests…" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
