#!/usr/bin/env bash
# Installs Debian's Chromium and its WebDriver for the web console's browser tests if they are
# missing (plus a CJK font, so screenshots show Chinese rather than empty boxes). Nothing is
# downloaded outside the Debian archive: selenium is pointed at /usr/bin/chromedriver.
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && fc-list :lang=zh 2>/dev/null | grep -q .; then
  exit 0
fi
exec "$(dirname "$0")/apt-install.sh" "Chromium and chromedriver" "the browser tests" \
  chromium chromium-driver fonts-wqy-microhei fonts-noto-color-emoji
