#!/usr/bin/env bash
# bench/serve.sh [BUILD]: `ckptdb serve` over a 10,000-model catalog (tools/catalog_gen):
# p95 latency of /api/models at 50 concurrent connections (wrk, loopback, 10 s), and the time
# headless chromium takes to show the first grid (tests/browser/first-grid.js). Not a test.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
work=$(mktemp -d /tmp/ckpt-bench-serve.XXXXXX)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT
"$build/tools/catalog_gen" "$work/catalog.sqlite" 10000 >/dev/null
"$build/ckptdb" --db "$work/catalog.sqlite" serve --json --listen 127.0.0.1:0 >"$work/out" 2>/dev/null &
pid=$!
for _ in $(seq 50); do grep -q url "$work/out" 2>/dev/null && break; sleep 0.1; done
url=$(jq -r .url "$work/out")
curl -s "${url}api/models" >/dev/null # first list (cold)
echo "== wrk: GET /api/models (60 models of 10,000), 50 connections, 2 threads, 10 s"
wrk -t2 -c50 -d10s --latency "${url}api/models" | grep -E 'Latency|50%|75%|90%|99%|Requests/sec'
echo "== wrk: GET /api/models?family=sdxl&sort=-size (filtered, different each run: cache off)"
wrk -t2 -c50 -d10s --latency "${url}api/models?family=sdxl&sort=-size&offset=60" | grep -E 'Latency|90%|99%|Requests/sec'
if [ -d tests/browser/node_modules/playwright-core ] && [ -x /usr/bin/chromium ]; then
  echo "== headless chromium: navigation start to the first grid of cards"
  NODE_PATH=tests/browser/node_modules node tests/browser/first-grid.js "$url"
fi
