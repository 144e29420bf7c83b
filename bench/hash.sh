#!/usr/bin/env bash
# bench/hash.sh BUILD: ckptdb hash against its peers, all in one run on the same files in the page
# cache, as ratios (issue 4's targets). Not part of the pass/fail suite. Makes two 2 GiB files of
# random bytes and a 4 GiB safetensors file from them under $TMPDIR (default /tmp), removes them
# at the end. Each timing is the best of $RUNS (default 3).
set -euo pipefail
build=${1:-build}
bin=$(realpath "$build/ckptdb")
runs=${RUNS:-3}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ckptdb-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
py=/usr/bin/python3

echo "preparing files in $tmp ..." >&2
head -c $((2 << 30)) /dev/urandom > "$tmp/a.bin"
head -c $((2 << 30)) /dev/urandom > "$tmp/b.bin"
# a 4 GiB safetensors file (one U8 tensor), so all six hashes including AutoV3 run
$py - "$tmp/big.safetensors" $((4 << 30)) <<'PY'
import json, struct, sys
n = int(sys.argv[2])
h = json.dumps({"t": {"dtype": "U8", "shape": [n], "data_offsets": [0, n]}}).encode()
h += b" " * (-len(h) % 8)
open(sys.argv[1], "wb").write(struct.pack("<Q", len(h)) + h)
PY
cat "$tmp/a.bin" "$tmp/b.bin" >> "$tmp/big.safetensors"
head -c $((1 << 30)) "$tmp/a.bin" > "$tmp/g1.bin"
cat > "$tmp/a1111.py" <<'PY'
import hashlib, sys
# A1111 modules/hashes.py calculate_sha256: 1 MiB reads into hashlib
h = hashlib.sha256()
with open(sys.argv[1], "rb") as f:
    for chunk in iter(lambda: f.read(1024 * 1024), b""):
        h.update(chunk)
print(h.hexdigest())
PY
warm() { cat "$@" > /dev/null; }

# best wall time in seconds of a command over $runs runs
best() {
  local b=
  for _ in $(seq "$runs"); do
    local t0 t1 d
    t0=$(date +%s.%N)
    "$@" > /dev/null
    t1=$(date +%s.%N)
    d=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$b" ] || [ "$(echo "$d < $b" | bc -l)" = 1 ]; then b=$d; fi
  done
  echo "$b"
}
gbs() { echo "scale=2; $1 / $2 / 1000000000" | bc -l; }
ratio() { echo "scale=2; $1 / $2" | bc -l; }

G1=$((1 << 30)); G4=$(stat -c %s "$tmp/big.safetensors"); G2=$((2 << 30))
warm "$tmp/g1.bin" "$tmp/big.safetensors" "$tmp/a.bin" "$tmp/b.bin"
cpus=$(nproc)
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $cpus cores"

# 1. SHA-256 alone, 1 GiB file
ossl=$(openssl speed -evp sha256 -bytes 1048576 -seconds 3 2>/dev/null | awk '/^sha256/ {print $2}' | tr -d k)
ossl_bps=$(echo "$ossl * 1000" | bc -l)
t_ck=$(best "$bin" hash --only sha256 "$tmp/g1.bin")
t_py=$(best "$py" "$tmp/a1111.py" "$tmp/g1.bin")
t_ss=$(best sha256sum "$tmp/g1.bin")
printf '\n%-52s %10s %10s %8s %s\n' "measurement" "seconds" "GB/s" "ratio" "target"
printf '%-52s %10s %10s\n' "openssl speed -evp sha256 (in memory, 1 MiB)" "-" "$(echo "scale=2; $ossl_bps/1000000000" | bc -l)"
printf '%-52s %10.3f %10s %8s %s\n' "ckptdb --only sha256, 1 GiB" "$t_ck" "$(gbs $G1 "$t_ck")" "$(echo "scale=2; $G1 / $t_ck / $ossl_bps" | bc -l)" ">= 0.85 x openssl"
printf '%-52s %10.3f %10s %8s %s\n' "python hashlib A1111 loop, 1 GiB" "$t_py" "$(gbs $G1 "$t_py")" "$(ratio "$t_py" "$t_ck")" ">= 1.2 (python/ckptdb)"
printf '%-52s %10.3f %10s %8s %s\n' "sha256sum, 1 GiB" "$t_ss" "$(gbs $G1 "$t_ss")" "$(ratio "$t_ss" "$t_ck")" ">= 3 (sha256sum/ckptdb)"

# 2. BLAKE3 one thread
t_b3=$(best "$bin" hash --only blake3 "$tmp/g1.bin")
t_b3s=$(best b3sum --num-threads 1 "$tmp/g1.bin")
printf '%-52s %10.3f %10s %8s %s\n' "ckptdb --only blake3 (one hashing thread), 1 GiB" "$t_b3" "$(gbs $G1 "$t_b3")" "$(ratio "$t_b3s" "$t_b3")" ">= 0.7 (b3sum/ckptdb)"
printf '%-52s %10.3f %10s\n' "b3sum --num-threads 1, 1 GiB" "$t_b3s" "$(gbs $G1 "$t_b3s")"

# 3. all six on 4 GiB vs SHA-256 alone vs Python
t_all=$(best "$bin" hash "$tmp/big.safetensors")
t_s4=$(best "$bin" hash --only sha256 "$tmp/big.safetensors")
t_p4=$(best "$py" "$tmp/a1111.py" "$tmp/big.safetensors")
printf '%-52s %10.3f %10s %8s %s\n' "ckptdb all six hashes, 4 GiB safetensors" "$t_all" "$(gbs $G4 "$t_all")" "$(ratio "$t_all" "$t_s4")" "<= 1.5 (all/sha256)"
printf '%-52s %10.3f %10s\n' "ckptdb --only sha256, 4 GiB" "$t_s4" "$(gbs $G4 "$t_s4")"
printf '%-52s %10.3f %10s %8s %s\n' "python hashlib sha256 only, 4 GiB" "$t_p4" "$(gbs $G4 "$t_p4")" "$(ratio "$t_p4" "$t_all")" "> 1 (python/ckptdb all)"

# 4. two 2 GiB files at once vs one after the other
for only in "" "--only sha256"; do
  # shellcheck disable=SC2086
  t_par=$(best "$bin" hash $only "$tmp/a.bin" "$tmp/b.bin")
  # shellcheck disable=SC2086
  t_seq=$(best "$bin" hash --jobs 1 $only "$tmp/a.bin" "$tmp/b.bin")
  printf '%-52s %10.3f %10s %8s %s\n' "two 2 GiB at once ${only:-(all hashes)}" "$t_par" "$(gbs $((2 * G2)) "$t_par")" "$(ratio "$t_seq" "$t_par")" ">= 1.7 (seq/par)"
  printf '%-52s %10.3f %10s\n' "two 2 GiB one after the other ${only:-(all hashes)}" "$t_seq" "$(gbs $((2 * G2)) "$t_seq")"
done

# 5. peak RSS
rss() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2}'; }
printf '%-52s %10s KiB  %s\n' "peak RSS, all six, 4 GiB" "$(rss "$bin" hash "$tmp/big.safetensors")" "< 64 MiB"
printf '%-52s %10s KiB  %s\n' "peak RSS, all six, two 2 GiB at once" "$(rss "$bin" hash "$tmp/a.bin" "$tmp/b.bin")" "< 64 MiB"
printf '%-52s %10s KiB\n' "peak RSS, python hashlib, 4 GiB" "$(rss "$py" "$tmp/a1111.py" "$tmp/big.safetensors")"
