#!/usr/bin/env bash
# Installs Debian's Chromium and its WebDriver for the web console's browser tests if they are
# missing (plus a CJK font, so screenshots show Chinese rather than empty boxes). Nothing is
# downloaded outside the Debian archive: selenium is pointed at /usr/bin/chromedriver.
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && fc-list :lang=zh 2>/dev/null | grep -q .; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif sudo -n true 2>/dev/null; then
  SUDO="sudo -n"
else
  echo "Chromium not installed and no root: browser tests will be skipped." >&2
  exit 0
fi
echo "Installing Chromium and chromedriver (Debian packages) for the browser tests…" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
  chromium chromium-driver fonts-wqy-microhei fonts-noto-color-emoji >/dev/null
