#!/usr/bin/env bash
# Making files by streaming, against their peers in the same run (not a pass/fail test):
#  sd15     weighted-sum of two SD1.5-shaped fp16 checkpoints (1131 tensors, random data, ~2.1 GB
#           each): cp of one input, cp + sync, ckptdb merge (without and with hashing the inputs),
#           and a torch script doing what A1111's merger does (load both, combine per key in fp16,
#           save); wall time and peak RSS (/usr/bin/time).
#  sdxl     weighted-sum of two SDXL-shaped fp16 checkpoints (6.9 GB each, sparse data so that
#           the inputs cost no disk; the output is written in full): peak RSS (target < 1 GiB).
#  convert  a 4.2 GB .ckpt (torch zip, SD1.5 fp32 random data, made by tools/st2torch) to
#           safetensors vs cp of the .ckpt and cp + sync (target: within 2x of cp).
# Every ckptdb run writes and fsyncs its output (required); cp alone leaves the data in the page
# cache, cp + sync is the like-for-like peer.
# usage: bench/merge.sh BUILD [WORKDIR] [sd15|sdxl|convert|all]   (default all; needs ~15 GB
# free in WORKDIR, default /tmp; big files are deleted as soon as a section is done)
set -euo pipefail
build=$(cd "$1" && pwd) w=${2:-/tmp}/ckpt-bench-merge what=${3:-all}
export CKPT_SHARED=${CKPT_SHARED:-$(cd "$(dirname "$0")/../.." && pwd)/shared}
export XDG_DATA_HOME=$w/xdg; unset CKPTDB_DB # no catalog: the merge alone is measured
mkdir -p "$w"; trap 'rm -rf "$w"' EXIT
mk=$build/tools/mkfixture
U=model.diffusion_model. V=first_stage_model. T=cond_stage_model.transformer.text_model.
SD1="--keys UNET-v1-SD:$U --keys VAE-v1-SD:$V --keys CLIP-v1-SD:$T"
SDXL="--keys UNET-XL-SD:$U --keys VAE-v1-SD:$V --keys CLIP-v1-SD:conditioner.embedders.0.transformer.text_model. --keys CLIP-XL-SD:conditioner.embedders.1.model."
t() { /usr/bin/time -f "%e s  %M KB" "$@" 2>&1 >/dev/null | tail -1; }
cps() { # cp and cp + sync of $1
  echo "cp:              $(t cp "$1" "$w/cp.bin")"; rm -f "$w/cp.bin"; sync
  echo "cp + sync:       $(t sh -c "cp '$1' '$w/cp.bin' && sync '$w/cp.bin'")"; rm -f "$w/cp.bin"; sync
}

if [ "$what" = all ] || [ "$what" = sd15 ]; then
  echo "== SD1.5 fp16 weighted-sum (2 x 2.1 GB, random data)"
  for s in 1 2; do
    $mk -o "$w/m$s.safetensors" --force --data random --dtype F16 --seed $s $SD1 >/dev/null
  done
  cat > "$w/a1111.py" <<'PY'
import json, struct, sys, torch
def load(p):
    with open(p, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]; h = json.loads(f.read(n)); d = bytearray(f.read())
    h.pop("__metadata__", None)
    DT = {"F16": torch.float16, "F32": torch.float32, "I64": torch.int64}
    return {k: torch.frombuffer(d, dtype=DT[v["dtype"]], offset=v["data_offsets"][0],
            count=(v["data_offsets"][1] - v["data_offsets"][0]) // torch.tensor([], dtype=DT[v["dtype"]]).element_size()
            ).reshape(v["shape"]) if v["data_offsets"][1] > v["data_offsets"][0] else torch.empty(v["shape"], dtype=DT[v["dtype"]]) for k, v in h.items()}
b = load(sys.argv[2]); a = load(sys.argv[1]); al = 0.3
for k in a:
    if "model" in k and k in b and "position_ids" not in k:
        a[k] = (1 - al) * a[k] + al * b[k]
del b
torch.save(a, sys.argv[3])
PY
  sync
  for round in 1 2; do
    cps "$w/m1.safetensors"
    echo "ckptdb --no-hash $(t "$build/ckptdb" merge "$w/m1.safetensors" "$w/m2.safetensors" -o "$w/o1.safetensors" --alpha 0.3 --no-hash -q)"; rm -f "$w/o1.safetensors"; sync
  done
  echo "ckptdb (hashes): $(t "$build/ckptdb" merge "$w/m1.safetensors" "$w/m2.safetensors" -o "$w/o2.safetensors" --alpha 0.3 -q)"; rm -f "$w/o2.safetensors"; sync
  if [ "${CKPT_BENCH_TORCH:-1}" = 1 ]; then
    echo "torch (A1111):   $(t /usr/bin/python3 "$w/a1111.py" "$w/m1.safetensors" "$w/m2.safetensors" "$w/o3.pt")"
  fi
  rm -f "$w"/m?.safetensors "$w/o3.pt"
fi

if [ "$what" = all ] || [ "$what" = sdxl ]; then
  echo "== SDXL fp16 weighted-sum (2 x 6.9 GB, sparse inputs, output written in full)"
  for s in 1 2; do
    $mk -o "$w/x$s.safetensors" --force --data sparse --dtype F16 --seed $s $SDXL >/dev/null
  done
  ls -l "$w"/x?.safetensors | awk '{print "input: " $5 " bytes"}'
  echo "ckptdb --no-hash $(t "$build/ckptdb" merge "$w/x1.safetensors" "$w/x2.safetensors" -o "$w/xo.safetensors" --alpha 0.3 --no-hash -q)"
  rm -f "$w"/x?.safetensors "$w/xo.safetensors"; sync
fi

if [ "$what" = all ] || [ "$what" = convert ]; then
  echo "== convert a 4.2 GB .ckpt (torch zip, fp32, random data) to safetensors"
  $mk -o "$w/c.safetensors" --force --data random --dtype F32 --seed 3 $SD1 >/dev/null
  "$build/tools/st2torch" "$w/c.safetensors" -o "$w/c.ckpt" --force >/dev/null
  rm -f "$w/c.safetensors"; sync
  ls -l "$w/c.ckpt" | awk '{print "input: " $5 " bytes"}'
  for round in 1 2; do
    cps "$w/c.ckpt"
    echo "ckptdb convert   $(t "$build/ckptdb" convert "$w/c.ckpt" -o "$w/co.safetensors" --no-hash -q)"; rm -f "$w/co.safetensors"; sync
  done
  rm -f "$w/c.ckpt"
fi
