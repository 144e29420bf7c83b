#!/usr/bin/env bash
# `ckptdb inspect` on every corrupt torch fixture: exit 1 and exactly one line on stderr,
# "ckptdb: FILE: ...", containing the phrase expect.tsv names; and exit 0 on the good ones.
set -uo pipefail
dir=$CKPT_FIXTURES/torch/bad
fail=0 n=0
while IFS=$'\t' read -r file code word; do
  n=$((n + 1))
  err=$("$CKPT_BIN" inspect "$dir/$file" 2>&1 >/dev/null)
  rc=$?
  lines=$(printf '%s\n' "$err" | wc -l)
  if [ "$rc" != 1 ] || [ "$lines" != 1 ] || [[ "$err" != "ckptdb: $dir/$file: "* ]] ||
     [[ "$err" != *"$word"* ]]; then
    echo "FAIL $file: exit $rc, stderr: $err (want '$word')"
    fail=1
  fi
done < "$dir/expect.tsv"
for f in "$dir"/good/* "$CKPT_FIXTURES"/torch/real/*.ckpt "$CKPT_FIXTURES"/torch/real/*.pt; do
  [ -e "$f" ] || continue
  if ! "$CKPT_BIN" inspect --json "$f" >/dev/null; then
    echo "FAIL $f: could not be inspected"
    fail=1
  fi
done
[ "$n" -ge 40 ] || { echo "FAIL: only $n corrupt fixtures"; fail=1; }
exit $fail
