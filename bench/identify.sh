#!/usr/bin/env bash
# bench/identify: `ckptdb identify --json` over 1,000 sparse checkpoints and LoRAs of mixed
# families, against a Python script that only json.loads each safetensors header (the peer of
# bench/inspect). Reports the time ratio and the bytes ckptdb read per file. Not a pass/fail test.
# usage: bench/identify.sh BUILD [N=1000]
set -euo pipefail
build=${1:-build} n=${2:-1000}
src=$(cd "$(dirname "$0")/.." && pwd)
bin=$build/ckptdb
work=${TMPDIR:-/tmp}/ckptdb-bench-identify
if [ ! -f "$work/.done-$n" ]; then
  rm -rf "$work"; mkdir -p "$work/base" "$work/files"
  bash "$src/tests/fixtures.d/10-identify.sh" "$build" "$work/base" "$(cd "$src/../shared" && pwd)" >/dev/null
  # a realistic mix: mostly LoRAs and SD1/SDXL checkpoints, some of everything else
  mapfile -t pool < <(cd "$work/base/identify" && ls | grep -v -e '\.civitai\.info$' -e '^unknown' | sort)
  for ((i = 0; i < n; i++)); do
    f=${pool[$((i * 7919 % ${#pool[@]}))]}
    ln "$work/base/identify/$f" "$work/files/$(printf '%04d' "$i")-$f"
  done
  touch "$work/.done-$n"
fi
cat >"$work/peer.py" <<'PY'
import json, os, struct, sys
d = sys.argv[1]
n = 0
for name in sorted(os.listdir(d)):
    with open(os.path.join(d, name), "rb") as f:
        (hl,) = struct.unpack("<Q", f.read(8))
        json.loads(f.read(hl))
        n += 1
print(n, "headers")
PY
sync
t0=$(date +%s.%N)
/usr/bin/python3 "$work/peer.py" "$work/files" >/dev/null
t1=$(date +%s.%N)
"$bin" identify --json --stats "$work"/files/* >/dev/null 2>"$work/stats"
t2=$(date +%s.%N)
peer=$(echo "$t1 - $t0" | bc -l) ours=$(echo "$t2 - $t1" | bc -l)
printf 'files: %d\npython json.loads headers: %.3f s\nckptdb identify --json: %.3f s\nratio: %.2fx\n' \
  "$n" "$peer" "$ours" "$(echo "$peer / $ours" | bc -l)"
cat "$work/stats"
