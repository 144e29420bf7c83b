#!/usr/bin/env bash
# The page in headless chromium (tests/browser/page.js, playwright-core) against `ckptdb serve`
# over a temporary catalog of the catalog tests' library and a small family tree (lineage).
# Screenshots go to BUILD/screenshots/.
# Skipped (saying so) only when /usr/bin/chromium or tests/browser/node_modules/playwright-core
# is missing; `make test` installs both (scripts/install-deps.sh).
. "$(dirname "$0")/common.bash"
if [ ! -x /usr/bin/chromium ] || [ ! -d "$CKPT_SRC/tests/browser/node_modules/playwright-core" ] ||
  ! command -v node >/dev/null; then
  echo "SKIP: browser tests need /usr/bin/chromium, node and tests/browser/node_modules/playwright-core (make deps installs them)"
  exit 0
fi
work=$(mktemp -d /tmp/ckpt-serve-browser.XXXXXX)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
bash "$CKPT_SRC/tests/catalog/make-library.sh" "$CKPT_BUILD" "$work/lib" >/dev/null
export CKPTDB_DB=$work/catalog.sqlite CKPTDB_HOST=testhost
"$CKPT_BIN" scan --no-hash "$work/lib" >/dev/null 2>&1
# a small family tree scanned with hashing: its models have lineage fingerprints
/usr/bin/python3 "$CKPT_SRC/tests/lineage/make_family.py" "$CKPT_SHARED" "$work/family" --demo
"$CKPT_BIN" scan "$work/family" >/dev/null 2>&1
# chosen values to filter on (the library's models only have suggestions)
"$CKPT_BIN" set realisticVision_v51 output=photorealistic realism=realistic >/dev/null 2>&1
"$CKPT_BIN" set animeMix_v3 output=anime realism=2D,2.5D >/dev/null 2>&1
"$CKPT_BIN" serve --json --listen 127.0.0.1:0 >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 50); do grep -q url "$work/out" 2>/dev/null && break; sleep 0.1; done
url=$(jq -r .url "$work/out")
mkdir -p "$CKPT_BUILD/screenshots"
NODE_PATH=$CKPT_SRC/tests/browser/node_modules node "$CKPT_SRC/tests/browser/page.js" "$url" \
  "$CKPT_BUILD/screenshots"
