#!/usr/bin/env bash
# Installs the Debian packages tslm's tests and native kernels need, if any is
# missing. Safe to run repeatedly. Needs root (or sudo) only when something is
# missing.
#   jupyter-*, python3-nb*  : real Jupyter to execute notebooks on the tslm kernel
#   libdnnl-dev             : oneDNN, under the native CPU kernels
#   chromium                : headless browser that checks HTML reports
#   python3-scipy           : independent Bradley-Terry solver the rating tests compare with
#   g++, make, python3      : node-gyp build of native/
set -euo pipefail
PACKAGES=(jupyter-client jupyter-nbconvert python3-nbclient python3-nbformat
          libdnnl-dev chromium g++ make python3
          python3-scipy)
if [ "${1:-}" = "--with-bench" ]; then PACKAGES+=(python3-torch); fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "tslm: installing Debian packages: ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "tslm: these packages are missing and I am not root: ${missing[*]}" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
