#!/usr/bin/env bash
# tools/st2torch output (fixtures.d/21-st2torch.sh, listed in st2torch/pairs.tsv):
#  - `ckptdb inspect --json` of every output, the > 4 GiB ZIP64 ones included, lists the same
#    tensors (names, dtypes, shapes, nbytes, in order) as the safetensors input, with the right
#    format, and the Lightning wrapper's global_step as metadata;
#  - the real torch loads the small ones and agrees byte for byte (tests/torch/check_st2torch.py),
#    skipped only when /usr/bin/python3 cannot import torch;
#  - the tool's own refusals: usage errors exit 2, an existing output without --force and a
#    dtype torch has no storage for exit 1 with one line naming the problem.
source "$(dirname "$0")/common.bash"
dir=$CKPT_FIXTURES/st2torch
st=$CKPT_TOOLS/st2torch
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -s "$dir/pairs.tsv" ] || { fail pairs "no $dir/pairs.tsv (fixtures not built)"; finish; exit; }

compare() { # compare OUT.json IN.json OUTNAME ARGS-FORMAT
  /usr/bin/python3 - "$@" <<'PY'
import json, sys
out, inp, name = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
key = lambda t: (t["name"], t["dtype"], t["shape"], t["nbytes"])
a, b = [key(t) for t in out["tensors"]], [key(t) for t in inp["tensors"]]
want = "torch-legacy" if name.endswith(".pt") and "legacy" in name or "legacy" in name else "torch-zip"
errs = []
if a != b:
    diff = [(x, y) for x, y in zip(a, b) if x != y][:2]
    errs.append("tensors differ (%d vs %d; first: %s)" % (len(a), len(b), diff))
if out["format"] != want:
    errs.append("format %s, expected %s" % (out["format"], want))
if "lightning" in name and "global_step" not in out["metadata"]:
    errs.append("no global_step metadata")
print("; ".join(errs))
sys.exit(1 if errs else 0)
PY
}

n=0
while IFS=$'\t' read -r out in mode; do
  n=$((n + 1))
  if ! "$CKPT_BIN" inspect --json "$dir/$out" > "$tmp/out.json" 2> "$tmp/err"; then
    fail "$out" "inspect failed: $(cat "$tmp/err")"
    continue
  fi
  "$CKPT_BIN" inspect --json "$dir/$in" > "$tmp/in.json"
  if why=$(compare "$tmp/out.json" "$tmp/in.json" "$out"); then ok "$out"; else fail "$out" "$why"; fi
done < "$dir/pairs.tsv"
[ "$n" -ge 20 ] && ok count || fail count "only $n outputs in pairs.tsv"
grep -q 'zip64' "$dir/pairs.tsv" && ok zip64-listed || fail zip64-listed "no ZIP64 output"
size=$(stat -c %s "$dir/sd15-ema-f32-zip64.ckpt")
[ "$size" -gt 4294967296 ] && ok zip64-size || fail zip64-size "sd15-ema-f32-zip64.ckpt is $size bytes"

if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  if /usr/bin/python3 "$CKPT_SRC/tests/torch/check_st2torch.py" "$dir"; then ok torch; else
    fail torch "check_st2torch.py failed"; fi
else
  echo "st2torch.sh: SKIPPING the real-torch check: /usr/bin/python3 cannot import torch" >&2
fi

# refusals
"$st" >/dev/null 2>&1; [ $? = 2 ] && ok usage || fail usage "no arguments did not exit 2"
"$st" "$dir/in-f16.safetensors" -o "$tmp/x.pt" --legacy --deflate >/dev/null 2>&1
[ $? = 2 ] && ok usage-legacy-deflate || fail usage-legacy-deflate "did not exit 2"
"$st" "$dir/in-f16.safetensors" -o "$tmp/x.pt" --protocol 6 >/dev/null 2>&1
[ $? = 2 ] && ok usage-protocol || fail usage-protocol "--protocol 6 did not exit 2"
cp "$dir/in-f16.safetensors" "$tmp/exists.ckpt"
err=$("$st" "$dir/in-f16.safetensors" -o "$tmp/exists.ckpt" 2>&1)
rc=$?
if [ $rc = 1 ] && [[ "$err" == *"already exists"* ]] && cmp -s "$tmp/exists.ckpt" "$dir/in-f16.safetensors"
then ok no-overwrite; else fail no-overwrite "exit $rc: $err"; fi
CKPT_SHARED=$CKPT_SHARED "$CKPT_TOOLS/mkfixture" -o "$tmp/f8.safetensors" --data zero \
  --tensor w:F8_E4M3:4,4 >/dev/null 2>&1
err=$("$st" "$tmp/f8.safetensors" -o "$tmp/f8.ckpt" 2>&1)
rc=$?
if [ $rc = 1 ] && [[ "$err" == *"no torch storage class"* ]] && [ ! -e "$tmp/f8.ckpt" ] &&
   [ -z "$(ls -A "$tmp" | grep '\.tmp$')" ]; then ok f8-refused; else fail f8-refused "exit $rc: $err"; fi
finish
