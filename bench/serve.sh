#!/usr/bin/env bash
# bench/serve.sh [BUILD]: `ckptdb serve` over a 10,000-model catalog (tools/catalog_gen):
#  1. p95 latency of /api/models at 50 concurrent connections (wrk, loopback, 10 s; p95 printed
#     by bench/p95.lua): the first page as the page asks for it (repeated: the reply cache),
#     and pages that differ on every request (offset varies: no cache), target p95 < 20 ms;
#  2. the time headless chromium takes to show the first grid (tests/browser/first-grid.js),
#     with the server just started (cold) and then warm, target < 1 s.
# Not a test.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
work=$(mktemp -d /tmp/ckpt-bench-serve.XXXXXX)
pid=
stop() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; pid=; }
trap 'stop; rm -rf "$work"' EXIT
start() {
  "$build/ckptdb" --db "$work/catalog.sqlite" serve --json --listen 127.0.0.1:0 >"$work/out" 2>/dev/null &
  pid=$!
  for _ in $(seq 100); do grep -q url "$work/out" 2>/dev/null && break; sleep 0.05; done
  url=$(jq -r .url "$work/out")
}
"$build/tools/catalog_gen" "$work/catalog.sqlite" 10000 >/dev/null
start
curl -s "${url}api/models" >/dev/null # first list (cold)
echo "== wrk: GET /api/models (the first 60 models of 10,000), 50 connections, 2 threads, 10 s"
wrk -t2 -c50 -d10s -s bench/p95.lua "${url}api/models" | tail -1
# a different page per request: offset from a counter (no reply cache)
cat >"$work/pages.lua" <<'LUA'
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/api/models?family=sdxl&sort=-size&offset=" .. ((n * 60) % 3000))
end
LUA
sed -n '/^done/,$p' bench/p95.lua >>"$work/pages.lua"
echo "== wrk: GET /api/models?family=sdxl&sort=-size&offset=N (a different page each time), 50 connections, 10 s"
wrk -t2 -c50 -d10s -s "$work/pages.lua" "$url" | tail -1
if [ -d tests/browser/node_modules/playwright-core ] && [ -x /usr/bin/chromium ]; then
  stop
  start # cold: nothing read yet but what serve reads at start
  echo "== headless chromium: navigation start to the first grid of cards (server just started, then warm)"
  NODE_PATH=tests/browser/node_modules node tests/browser/first-grid.js "$url"
fi
