#!/usr/bin/env bash
# Every malformed safetensors fixture: exit 1 and one line "ckptdb: FILE: ..." naming the
# problem; every odd-but-valid one: exit 0. Cases and expected messages: tests/safetensors/cases.txt
. "$(dirname "$0")/common.bash"
cases="$CKPT_SRC/tests/safetensors/cases.txt"
while read -r name code want; do
  case "$name" in '#'* | '') continue ;; esac
  f="$CKPT_FIXTURES/safetensors/$name.safetensors"
  err=$("$CKPT_BIN" inspect --json "$f" 2>&1 >/dev/null)
  rc=$?
  if [ "$rc" != "$code" ]; then fail "$name" "exit $rc, expected $code ($err)"; continue; fi
  if [ "$code" = 0 ]; then
    [ -z "$err" ] && ok "$name" || fail "$name" "unexpected stderr: $err"
    continue
  fi
  lines=$(printf '%s\n' "$err" | wc -l)
  if [ "$lines" != 1 ]; then fail "$name" "expected one line, got $lines: $err"; continue; fi
  case "$err" in
    "ckptdb: $f: "*"$want"*) ok "$name" ;;
    *) fail "$name" "message '$err' lacks '$want'" ;;
  esac
done < "$cases"
finish
