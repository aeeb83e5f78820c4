#!/usr/bin/env bash
# apt-install.sh WHAT FOR PACKAGE...: installs Debian packages the tests need, as root or with
# password-less sudo; without either it says which tests will be skipped and succeeds
# (.ci/run makes a missing server or browser a failure in the tests themselves).
set -euo pipefail
what=$1 for=$2
shift 2
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif sudo -n true 2>/dev/null; then
  SUDO="sudo -n"
else
  echo "$what not installed and no root: $for will be skipped." >&2
  exit 0
fi
echo "Installing $what (Debian packages) for $for…" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
