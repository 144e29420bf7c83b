#!/usr/bin/env bash
# inspect's output, human and --json, for one file of each format, against golden files
# (tests/golden/inspect/). Regenerate with CKPT_UPDATE_GOLDEN=1 and review the diff.
. "$(dirname "$0")/common.bash"
g=$CKPT_SRC/tests/golden/inspect
cd "$CKPT_FIXTURES" || exit 1
# (torch/real/legacy*.pt are left out: torch numbers legacy storages by object id, so the
# layout changes from one generation to the next; test_torchzip checks them against torch.)
for f in safetensors/ok_s01.safetensors safetensors/ok_zero_sized.safetensors \
  torch/real/lightning.ckpt torch/real/shared.pt \
  gguf/tiny-plain.gguf gguf/tiny-Q8_0.gguf; do
  name=$(echo "$f" | tr '/' '_')
  golden "$g/$name.json" "$("$CKPT_BIN" inspect --json "$f")"
  golden "$g/$name.txt" "$("$CKPT_BIN" inspect "$f")"
done
golden "$g/diffusers_sd15.txt" "$("$CKPT_BIN" inspect --summary diffusers/sd15)"
# several files: a JSON array, in argument order
out=$("$CKPT_BIN" inspect --json safetensors/ok_s01.safetensors gguf/tiny-plain.gguf |
  /usr/bin/python3 -c 'import json,sys; print(" ".join(o["format"] for o in json.load(sys.stdin)))')
[ "$out" = "safetensors gguf" ] && ok multi || fail multi "got '$out'"
# one bad among good ones: exit 1, the good one still printed
out=$("$CKPT_BIN" inspect --json safetensors/ok_s01.safetensors safetensors/s06_not_json.safetensors 2>/dev/null)
rc=$?
[ $rc = 1 ] && echo "$out" | grep -q '"format":"safetensors"' && ok partial || fail partial "rc $rc"
# usage errors: exit 2
"$CKPT_BIN" inspect >/dev/null 2>&1; [ $? = 2 ] && ok usage || fail usage "no FILE should exit 2"
"$CKPT_BIN" inspect --bogus x >/dev/null 2>&1; [ $? = 2 ] && ok usage2 || fail usage2 "bad option should exit 2"
"$CKPT_BIN" nosuchcommand >/dev/null 2>&1; [ $? = 2 ] && ok usage3 || fail usage3 "unknown command should exit 2"
"$CKPT_BIN" inspect --help | grep -q '^usage: ckptdb' && ok help || fail help "inspect --help"
finish
