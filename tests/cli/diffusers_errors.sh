#!/usr/bin/env bash
# `ckptdb inspect FOLDER/` end to end: a pipeline in JSON, and every broken folder of
# diffusers_folders.py refused with exit 1 and one line "ckptdb: FOLDER...: ..." on stderr.
set -uo pipefail
dir=$CKPT_FIXTURES/diffusers
fail=0 n=0
json=$("$CKPT_BIN" --json inspect "$dir/sd15/") || fail=1
for want in '"format":"diffusers"' '"tensor_count":1131' '"unet.config.in_channels":"4"' \
  '"name":"unet/conv_in.weight","dtype":"F32","shape":[320,4,3,3]' \
  "\"file\":\"$dir/sd15/unet/diffusion_pytorch_model.safetensors\""; do
  [[ "$json" == *"$want"* ]] || { echo "FAIL: sd15 JSON lacks $want"; fail=1; }
done
while IFS=$'\t' read -r name code msg; do
  f=$dir/bad/$name
  n=$((n + 1))
  "$CKPT_BIN" inspect --summary "$f" >/dev/null 2>/tmp/diff_err.$$
  rc=$?
  err=$(cat /tmp/diff_err.$$)
  if [ "$code" = OK ]; then
    [ $rc -eq 0 ] || { echo "FAIL $name: exit $rc: $err"; fail=1; }
    continue
  fi
  lines=$(printf '%s\n' "$err" | wc -l)
  if [ $rc -ne 1 ] || [ "$lines" -ne 1 ] || [[ "$err" != "ckptdb: $f"* ]] ||
     [[ "$err" != *"$msg"* ]]; then
    echo "FAIL $name: exit $rc, stderr: $err"
    fail=1
  fi
done <"$dir/bad/EXPECT.tsv"
rm -f /tmp/diff_err.$$
[ $n -ge 15 ] || { echo "FAIL: only $n cases"; fail=1; }
exit $fail
