#!/usr/bin/env bash
# bench/organize.sh BUILD: organize's timings (issue 11), as ratios against a peer measured in the
# same run. Not part of the pass/fail suite. N (default 10,000) catalogued files on one filesystem
# (tests/catalog/many.py, 4 KiB each, a third with a .civitai.info and a preview), output set on
# two thirds of them. Each timing is the best of $RUNS (default 3) wall-clock runs.
#  1. plan (`organize --into DIR --layout by-output-realism --json`)       target < 1 s
#  2. apply (same filesystem: journal + renames + catalog updates), and
#     undo (the same moves back)                                            target < 5 s
#  Peer: a Python loop doing only the renames of the same plan (os.makedirs + os.rename), no
#  journal, no catalog: what the moves alone cost.
set -euo pipefail
build=${1:-build}
bin=$(realpath "$build/ckptdb")
src=$(cd "$(dirname "$0")/.." && pwd)
n=${N:-10000}
runs=${RUNS:-3}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ckptdb-bench-organize.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
py=/usr/bin/python3
export CKPTDB_HOST=bench CKPTDB_DB=$tmp/catalog.sqlite

ms_of() { # "WALL CPU" in ms of "$@" (CPU = user + system: on a shared machine the wall time
  # includes waiting for a CPU)
  /usr/bin/time -f "%e %U %S" -o "$tmp/time" "$@" >/dev/null 2>&1
  awk '{ printf "%d %d", $1 * 1000, ($2 + $3) * 1000 }' "$tmp/time"
}
min() { printf '%s\n' "$@" | sort -n | head -1; } # the run with the least wall time

echo "== setup: $n files with sidecars, scanned" >&2
$py "$src/tests/catalog/many.py" "$tmp/lib" "$n" 4096 --per-dir 500
$py - "$tmp/lib" <<'P'
import os, sys
root = sys.argv[1]
for i, (d, _, files) in enumerate(sorted(os.walk(root))):
    for f in sorted(files):
        k = int(f[5:10])
        if k % 3 == 0:
            stem = os.path.join(d, f[:-len(".safetensors")])
            open(stem + ".civitai.info", "w").write('{"id": %d, "modelId": %d}' % (k, k))
            open(stem + ".preview.png", "wb").write(b"\x89PNG\r\n\x1a\n")
P
"$bin" scan --no-hash "$tmp/lib" >/dev/null
$py - "$CKPTDB_DB" <<'P'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE models SET output = CASE id % 3 WHEN 0 THEN 'anime' WHEN 1 THEN"
           " 'photorealistic' ELSE NULL END, realism = CASE id % 2 WHEN 0 THEN '2D' ELSE"
           " 'realistic' END")
db.commit()
P
out=$tmp/sorted
files=$(find "$tmp/lib" -type f | wc -l)

plan=()
for _ in $(seq 1 "$runs"); do
  plan+=("$(ms_of "$bin" organize --into "$out" --layout by-output-realism --json | tr ' ' :)")
done
"$bin" organize --into "$out" --layout by-output-realism --json >"$tmp/plan.json"
steps=$($py -c 'import json,sys; p=json.load(open(sys.argv[1])); print(p["summary"]["place"] + p["summary"]["sidecars"])' "$tmp/plan.json")

cat >"$tmp/peer.py" <<'P'
import json, os, sys
p = json.load(open(sys.argv[1]))
moves = []
for it in p["items"]:
    if it["status"] == "place":
        moves.append((it["from"], it["to"]))
        moves += [(s["from"], s["to"]) for s in it["sidecars"]]
for a, b in moves:
    os.makedirs(os.path.dirname(b), exist_ok=True)
    os.rename(a, b)
for a, b in moves:
    os.rename(b, a)
P
apply=() undo=() peer=()
for _ in $(seq 1 "$runs"); do
  apply+=("$(ms_of "$bin" organize --into "$out" --layout by-output-realism --apply -q | tr ' ' :)")
  undo+=("$(ms_of "$bin" organize --undo -q | tr ' ' :)")
  # the peer: the same renames and back, nothing else
  peer+=("$(ms_of $py "$tmp/peer.py" "$tmp/plan.json" | tr ' ' :)")
done

left=$(find "$tmp/lib" -type f | wc -l)
[ "$left" = "$files" ] || echo "warning: $left of $files files are back in the library" >&2
p=$(min "${plan[@]}") a=$(min "${apply[@]}") u=$(min "${undo[@]}") r=$(min "${peer[@]}")
show() { echo "${1%%:*} ms wall, ${1##*:} ms CPU"; }
echo "organize, $n catalogued files + sidecars = $steps moves (best of $runs; load $(cut -d' ' -f1 /proc/loadavg)):"
echo "  plan   $(show "$p")   (target < 1000 ms)"
echo "  apply  $(show "$a")   (target < 5000 ms)"
echo "  undo   $(show "$u")"
echo "  peer: python renames there and back: $(show "$r")"
awk -v a="$a" -v u="$u" -v r="$r" 'BEGIN { split(a, A, ":"); split(u, U, ":"); split(r, R, ":");
  printf "  apply + undo vs the peer: %.1fx wall, %.1fx CPU\n", (A[1] + U[1]) / R[1], (A[2] + U[2]) / R[2] }'
