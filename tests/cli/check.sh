#!/usr/bin/env bash
# `ckptdb check`: every adversarial file of tests/safety/cases.tsv gets its verdict and the
# expected phrase in its worst finding; benign torch.save files, good safetensors and GGUF files
# are safe; every corrupt torch fixture is not safe; exit codes follow CONTRACT.md.
set -uo pipefail
. "$(dirname "$0")/common.bash"
dir=$CKPT_FIXTURES/safety
table=$CKPT_SRC/tests/safety/cases.tsv

# the reviewed table is what the generator says it generated
if diff <(/usr/bin/python3 "$CKPT_SRC/tests/safety/make_malicious.py" --table) "$table" >/dev/null
then ok table; else fail table "tests/safety/cases.tsv differs from make_malicious.py --table"; fi

files=()
while IFS=$'\t' read -r f _ _; do files+=("$dir/$f"); done < "$table"
json=$("$CKPT_BIN" check --json "${files[@]}")
rc=$?
[ "$rc" = 3 ] && ok batch-exit || fail batch-exit "exit $rc, want 3"
# one line per file: verdict TAB worst finding
got=$(printf '%s' "$json" | /usr/bin/python3 -c '
import json, sys
for d in json.load(sys.stdin):
    print("%s\t%s\t%s" % (d["path"].rsplit("/", 1)[1], d["verdict"],
                          d["findings"][0]["what"] if d["findings"] else ""))')
n=0
while IFS=$'\t' read -r f verdict what; do
  n=$((n + 1))
  line=$(printf '%s\n' "$got" | awk -F'\t' -v f="$f" '$1 == f' | head -1)
  gv=$(printf '%s' "$line" | cut -f2)
  gw=$(printf '%s' "$line" | cut -f3-)
  if [ "$gv" = "$verdict" ] && [[ "$gw" == *"$what"* ]]; then ok "$f"
  else fail "$f" "got '$gv' ($gw), want '$verdict' ($what)"; fi
done < "$table"
[ "$n" -ge 150 ] && ok count || fail count "only $n cases"

# exit codes per verdict, and the human output's first word
for pair in "p01_benign_v0.pkl:0:safe" "c02_png.pt:1:invalid" "import_unknown.pkl:3:suspicious" \
            "p03_eval_v4.pkl:3:dangerous"; do
  IFS=: read -r f want word <<<"$pair"
  out=$("$CKPT_BIN" check "$dir/$f")
  rc=$?
  [ "$rc" = "$want" ] && [[ "$out" == "$word "* ]] && ok "exit-$f" ||
    fail "exit-$f" "exit $rc, output '$out'"
done
"$CKPT_BIN" check "$dir/p01_benign_v0.pkl" "$dir/c02_png.pt" >/dev/null
[ $? = 1 ] && ok exit-invalid-wins-over-safe || fail exit-invalid-wins-over-safe "not 1"
"$CKPT_BIN" check "$dir/c02_png.pt" "$dir/import_unknown.pkl" >/dev/null
[ $? = 3 ] && ok exit-unsafe-wins || fail exit-unsafe-wins "not 3"
"$CKPT_BIN" check >/dev/null 2>&1
[ $? = 2 ] && ok usage || fail usage "no FILE is not a usage error"
out=$("$CKPT_BIN" check -v "$dir/p08_memoize_chain.pkl")
[ "$(printf '%s\n' "$out" | wc -l)" -ge 4 ] && ok verbose || fail verbose "-v lists findings: $out"
out=$("$CKPT_BIN" check -q "$dir/p01_benign_v0.pkl")
[ -z "$out" ] && ok quiet || fail quiet "-q printed '$out'"

# benign files are safe: real torch.save (protocols 2-5, Lightning, legacy), hand-made good
# archives, safetensors and GGUF fixtures
safe=()
for f in "$CKPT_FIXTURES"/torch/real/*.ckpt "$CKPT_FIXTURES"/torch/real/*.pt \
         "$CKPT_FIXTURES"/torch/bad/good/* "$CKPT_FIXTURES"/safetensors/ok_* \
         "$CKPT_FIXTURES"/models/*.safetensors "$CKPT_FIXTURES"/gguf/*.gguf; do
  [ -e "$f" ] && safe+=("$f")
done
[ "${#safe[@]}" -ge 10 ] && ok benign-count || fail benign-count "only ${#safe[@]} benign files"
out=$("$CKPT_BIN" check "${safe[@]}")
rc=$?
[ "$rc" = 0 ] && ok benign || fail benign "exit $rc: $(printf '%s\n' "$out" | grep -v '^safe ')"

# every corrupt or hostile torch fixture is refused one way or another
while IFS=$'\t' read -r f _ _; do
  out=$("$CKPT_BIN" check "$CKPT_FIXTURES/torch/bad/$f")
  rc=$?
  [ "$rc" != 0 ] && ok "bad-$f" || fail "bad-$f" "judged safe: $out"
done < <(grep -v '^legacy_plain_pickle' "$CKPT_FIXTURES/torch/bad/expect.tsv")
finish
