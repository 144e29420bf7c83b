# Shared helpers for the CLI tests (sourced). Each test: `ok NAME` / `fail NAME why`; the script
# ends with `finish`, printing "N passed, N failed" and exiting non-zero on any failure.
set -u
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); }
fail() { FAIL=$((FAIL + 1)); echo "FAIL: $1: $2" >&2; }
finish() {
  echo "$PASS passed, $FAIL failed"
  [ "$FAIL" -eq 0 ]
}
# golden FILE ACTUAL: compare with a golden file; CKPT_UPDATE_GOLDEN=1 rewrites it.
golden() {
  local gold=$1 actual=$2 name
  name=$(basename "$gold")
  if [ "${CKPT_UPDATE_GOLDEN:-0}" = 1 ]; then
    mkdir -p "$(dirname "$gold")"
    printf '%s\n' "$actual" > "$gold"
    ok "$name"
  elif [ ! -f "$gold" ]; then
    fail "$name" "no golden file $gold (run with CKPT_UPDATE_GOLDEN=1 and review it)"
  elif [ "$(cat "$gold")" = "$actual" ]; then
    ok "$name"
  else
    fail "$name" "differs from $gold:"
    diff <(cat "$gold") <(printf '%s\n' "$actual") | head -20 >&2
  fi
}
