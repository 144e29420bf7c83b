#!/usr/bin/env bash
# Installs the Debian 12 packages that building, testing and the demo need, when any is missing.
# A no-op when everything is there. Run as root (or with sudo available).
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config clang lld libclang-rt-14-dev
  zlib1g-dev libssl-dev libjansson-dev libsqlite3-dev libmicrohttpd-dev
  libcmocka-dev libisal-dev libpq-dev postgresql
  b3sum python3 python3-torch python3-numpy
  strace
  chromium wrk jq curl nodejs
)
# Debian's nodejs needs the npm package; a nodejs that ships its own npm conflicts with it
command -v npm >/dev/null 2>&1 || PKGS+=(npm)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
# playwright-core for the browser tests (tests/browser/), into the project folder
npm_browser() {
  local dir
  dir="$(dirname "$0")/../tests/browser"
  if [ ! -d "$dir/node_modules/playwright-core" ] && command -v npm >/dev/null 2>&1; then
    # current playwright-core needs Node >= 20; Debian 12's nodejs is 18, for which 1.49 is the
    # last release (npm does not pick versions by engine, so choose here)
    local major want=""
    major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
    [ "$major" -lt 20 ] && want="playwright-core@1.49.1"
    (cd "$dir" && npm install --no-audit --no-fund --silent $want >&2) ||
      echo "install-deps: npm install in tests/browser failed (browser tests will be skipped)" >&2
  fi
}
if [ ${#missing[@]} -eq 0 ]; then
  npm_browser
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "install-deps: missing packages: ${missing[*]} (run as root to install them)" >&2
    exit 1
  fi
fi
echo "install-deps: installing ${missing[*]}" >&2
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
npm_browser
