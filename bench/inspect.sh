#!/usr/bin/env bash
# bench/inspect: header-only reading of 200 sparse SDXL-shaped safetensors files (2,515 tensors
# each), ckptdb against a Python peer that opens each file and json.loads its header, in the same
# run. Also: bytes read per file (strace), and peak RSS of `inspect --json` on one 7 GB file.
# Figures, not a pass/fail test. usage: bench/inspect.sh [BUILD] [N]
set -euo pipefail
build=${1:-build}
n=${2:-200}
src=$(cd "$(dirname "$0")/.." && pwd)
ck=$src/$build/ckptdb
export CKPT_SHARED=${CKPT_SHARED:-$src/../shared}
dir=${BENCH_DIR:-/tmp/ckptdb-bench-inspect}
mkdir -p "$dir"
if [ "$(ls "$dir" | wc -l)" -lt "$n" ]; then
  echo "generating $n sparse SDXL files in $dir ..." >&2
  for i in $(seq 1 "$n"); do
    [ -f "$dir/sdxl-$i.safetensors" ] && continue
    "$src/$build/tools/mkfixture" -o "$dir/sdxl-$i.safetensors" --data sparse --seed "$i" \
      --keys UNET-XL-SD:model.diffusion_model. --keys VAE-v1-SD:first_stage_model. \
      --keys CLIP-v1-SD:conditioner.embedders.0.transformer.text_model. \
      --keys CLIP-XL-SD:conditioner.embedders.1.model. --meta "modelspec.title=bench $i"
  done
fi
files=$(ls "$dir"/sdxl-*.safetensors | head -n "$n")
cat > "$dir/peer.py" <<'PY'
import json, struct, sys
for p in sys.argv[1:]:
    with open(p, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        h = json.loads(f.read(n))
PY
# warm the page cache for both
cat $files > /dev/null 2>&1 || true
t() { local s e; s=$(date +%s.%N); "$@" > /dev/null; e=$(date +%s.%N); echo "$e - $s" | bc; }
best() { local b=999 x; for _ in 1 2 3 4 5; do x=$(t "$@"); b=$(echo "if ($x < $b) $x else $b" | bc); done; echo "$b"; }
py=$(best /usr/bin/python3 "$dir/peer.py" $files)
ckj=$(best "$ck" inspect --json $files)
cks=$(best "$ck" inspect --summary $files)
one=$(echo "$files" | head -n 1)
bytes=$(strace -f -y -e trace=pread64,read -o "$dir/strace.log" "$ck" inspect --json "$one" >/dev/null;
        grep -E '\.safetensors>' "$dir/strace.log" | sed -E 's/.*= ([0-9]+)$/\1/' | paste -sd+ | bc)
hdr=$("$ck" inspect --json "$one" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["header_bytes"])')
rss=$(/usr/bin/time -f %M "$ck" inspect --json "$one" 2>&1 >/dev/null | tail -n 1)
size=$(stat -c %s "$one")
printf '\nbench/inspect: %d SDXL-shaped files (2,515 tensors, %s bytes each, sparse)\n' "$n" "$size"
printf '%-44s %10s\n' "what" "seconds"
printf '%-44s %10.3f\n' "python3 json.loads of each header (peer)" "$py"
printf '%-44s %10.3f   ratio %.2fx\n' "ckptdb inspect --json (all tensors out)" "$ckj" "$(echo "$py / $ckj" | bc -l)"
printf '%-44s %10.3f   ratio %.2fx\n' "ckptdb inspect --summary" "$cks" "$(echo "$py / $cks" | bc -l)"
printf 'bytes read from one file: %s (header %s, header + 64 KiB = %s)\n' "$bytes" "$hdr" "$((hdr + 65536))"
printf 'peak RSS of inspect --json on one 7 GB file: %s KiB\n' "$rss"
