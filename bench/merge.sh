#!/usr/bin/env bash
# Weighted-sum of two SD1.5-shaped fp16 checkpoints (1131 tensors, random data, ~2.1 GB each):
# ckptdb merge vs a torch script doing what A1111's merger does (load both, combine per key in
# fp16, save), peak RSS of both (/usr/bin/time -v), and cp of one input. Not a pass/fail test.
# usage: bench/merge.sh BUILD [WORKDIR]   (needs ~9 GB free in WORKDIR, default /tmp)
set -euo pipefail
build=$(cd "$1" && pwd) w=${2:-/tmp}/ckpt-bench-merge
export CKPT_SHARED=${CKPT_SHARED:-$(cd "$(dirname "$0")/../.." && pwd)/shared}
mkdir -p "$w"; trap 'rm -rf "$w"' EXIT
U=model.diffusion_model. V=first_stage_model. T=cond_stage_model.transformer.text_model.
for s in 1 2; do
  "$build/tools/mkfixture" -o "$w/m$s.safetensors" --force --data random --dtype F16 --seed $s \
    --keys UNET-v1-SD:$U --keys VAE-v1-SD:$V --keys CLIP-v1-SD:$T >/dev/null
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
t() { /usr/bin/time -f "%e s  %M KB" "$@" 2>&1 >/dev/null | tail -1; }
echo "cp:              $(t cp "$w/m1.safetensors" "$w/cp.bin")"; rm -f "$w/cp.bin"; sync
echo "cp + sync:       $(t sh -c "cp '$w/m1.safetensors' '$w/cp.bin' && sync '$w/cp.bin'")"; rm -f "$w/cp.bin"; sync
echo "ckptdb --no-hash $(t "$build/ckptdb" merge "$w/m1.safetensors" "$w/m2.safetensors" -o "$w/o1.safetensors" --alpha 0.3 --no-hash -q)"; rm -f "$w/o1.safetensors"; sync
echo "ckptdb (hashes): $(t "$build/ckptdb" merge "$w/m1.safetensors" "$w/m2.safetensors" -o "$w/o2.safetensors" --alpha 0.3 -q)"; rm -f "$w/o2.safetensors"; sync
echo "torch (A1111):   $(t /usr/bin/python3 "$w/a1111.py" "$w/m1.safetensors" "$w/m2.safetensors" "$w/o3.pt")"
