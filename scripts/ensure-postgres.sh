#!/usr/bin/env bash
# Installs Debian's PostgreSQL server for the multi-instance tests if it is missing.
# The tests start a private server of their own; nothing is configured system-wide.
set -euo pipefail
if command -v pg_ctl >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null; then
  exit 0
fi
exec "$(dirname "$0")/apt-install.sh" PostgreSQL "the multi-instance tests" postgresql
