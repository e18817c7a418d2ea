#!/usr/bin/env bash
# Install what the report's browser test needs, and nothing that is already there:
# Debian's `chromium` (headless screenshots and DOM dumps) and `fonts-dejavu-core` (the
# font the report's plots are drawn with). Safe to run again. Needs root (or sudo) only
# when a package is missing.
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing ${missing[*]} with apt"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
