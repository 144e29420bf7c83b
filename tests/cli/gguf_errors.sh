#!/usr/bin/env bash
# `ckptdb inspect` on every hand-made GGUF case: refused ones exit 1 with exactly one line
# "ckptdb: FILE: ..." on stderr and `null` on stdout with --json; accepted ones exit 0.
# Also a real-shaped file end to end in JSON.
set -uo pipefail
dir=$CKPT_FIXTURES/gguf/cases
fail=0 n=0
while IFS=$'\t' read -r file code msg; do
  f=$dir/$file
  n=$((n + 1))
  out=$("$CKPT_BIN" --json inspect "$f" 2>/tmp/gguf_err.$$)
  rc=$?
  err=$(cat /tmp/gguf_err.$$)
  if [ "$code" = OK ]; then
    [ $rc -eq 0 ] || { echo "FAIL $file: exit $rc: $err"; fail=1; }
    continue
  fi
  lines=$(printf '%s\n' "$err" | wc -l)
  if [ $rc -ne 1 ] || [ "$lines" -ne 1 ] || [[ "$err" != "ckptdb: $f: "* ]] ||
     [[ "$err" != *"$msg"* ]] || [ "$out" != null ]; then
    echo "FAIL $file: exit $rc, stdout '$out', stderr: $err"
    fail=1
  fi
done <"$dir/EXPECT.tsv"
rm -f /tmp/gguf_err.$$
[ $n -ge 50 ] || { echo "FAIL: only $n cases"; fail=1; }
json=$("$CKPT_BIN" --json inspect "$CKPT_FIXTURES/gguf/flux-Q8_0.gguf") || fail=1
for want in '"format":"gguf"' '"Q8_0":36' '"general.architecture":"flux"' \
  '"name":"double_blocks.0.img_attn.qkv.weight","dtype":"Q8_0","shape":[9216,3072]'; do
  [[ "$json" == *"$want"* ]] || { echo "FAIL: flux JSON lacks $want"; fail=1; }
done
exit $fail
