#!/bin/sh
# Renders a faultline report.html headless with Debian's chromium and writes a PNG beside
# it, to look at the page as a reader of a postmortem would (no display needed).
#
#   scripts/screenshot-report.sh faultline-reports/zone-failover/report.html [WIDTHxHEIGHT]
#
# Writes report.png next to the HTML. Needs `chromium` (apt-get install chromium).
set -eu
html=${1:?usage: $0 REPORT.html [WIDTHxHEIGHT]}
size=${2:-1400x3200}
png="${html%.html}.png"
command -v chromium >/dev/null || { echo "chromium not found: apt-get install chromium" >&2; exit 3; }
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --window-size="$(echo "$size" | tr x ,)" \
  --screenshot="$(realpath -m "$png")" "file://$(realpath "$html")" 2>/dev/null
echo "$png"
