#!/usr/bin/env bash
# merge/convert/prune/extract/bake through the CLI on the fixtures of tests/fixtures.d/50-ops.sh,
# then tests/ops/torch_check.py compares the outputs with Debian's torch (/usr/bin/python3).
source "$(dirname "$0")/common.bash"
B=$CKPT_BIN F=$CKPT_FIXTURES/ops
T=$(mktemp -d /tmp/ckpt-ops-XXXXXX)
trap 'rm -rf "$T"' EXIT
# no catalog in use unless a test names one (docs/merge.md "The catalog")
unset CKPTDB_DB
export XDG_DATA_HOME="$T/xdg"
run() { local name=$1 want=$2; shift 2; "$@" >"$T/out" 2>"$T/err"; local rc=$?
  if [ "$rc" = "$want" ]; then ok "$name"; else fail "$name" "exit $rc, want $want: $(head -3 "$T/err")"; fi; }

run ws 0 "$B" merge "$F/m1.safetensors" "$F/m2.safetensors" -o "$T/ws.safetensors" --alpha 0.3
run ad 0 "$B" merge "$F/m1.safetensors" "$F/m2.safetensors" "$F/m3.safetensors" -o "$T/ad.safetensors" \
  --method add-difference --alpha 0.3 --no-hash
run ts 0 "$B" merge "$F/m1.safetensors" "$F/m2.safetensors" "$F/m3.safetensors" -o "$T/ts.safetensors" \
  --method triple-sum --alpha 0.3 --beta 0.2 --no-hash --dtype bf16
run ties 0 "$B" merge "$F/m1.safetensors" "$F/m2.safetensors" "$F/m3.safetensors" -o "$T/ties.safetensors" \
  --method ties --k 0.2 --alpha 1 --no-hash
run dare 0 "$B" merge "$F/m1.safetensors" "$F/m2.safetensors" "$F/m3.safetensors" -o "$T/dare.safetensors" \
  --method dare --p 0.5 --seed 3 --alpha 0.5 --no-hash
run dare-again 0 "$B" merge "$F/m1.safetensors" "$F/m2.safetensors" "$F/m3.safetensors" -o "$T/dare2.safetensors" \
  --method dare --p 0.5 --seed 3 --alpha 0.5 --no-hash
if cmp -s <(tail -c 1000000 "$T/dare.safetensors") <(tail -c 1000000 "$T/dare2.safetensors"); then
  ok dare-deterministic; else fail dare-deterministic "same seed, different data"; fi
run preset 0 "$B" merge "$F/m1.safetensors" "$F/m2.safetensors" -o "$T/gv.safetensors" --blocks GRAD_V \
  --components unet --exclude 'time_embed' --no-hash --json
grep -q '"merged":' "$T/out" && ok preset-json || fail preset-json "no JSON report"
"$B" inspect --json "$T/ws.safetensors" > "$T/ws.json"
grep -q 'sd_merge_models' "$T/ws.json" && grep -q 'modelspec.architecture' "$T/ws.json" \
  && ok recipe || fail recipe "no recipe metadata"
# refusals: nothing written
run exists 1 "$B" merge "$F/m1.safetensors" "$F/m2.safetensors" -o "$T/ws.safetensors" --no-hash
run input-as-output 2 "$B" merge "$F/m1.safetensors" "$F/m2.safetensors" -o "$F/m1.safetensors" --force --no-hash
run family 1 "$B" merge "$CKPT_FIXTURES/identify/sd15.safetensors" "$CKPT_FIXTURES/identify/sdxl-base.safetensors" \
  -o "$T/fam.safetensors" --no-hash
grep -q "different families" "$T/err" && [ ! -e "$T/fam.safetensors" ] && ok family-msg || fail family-msg "$(cat "$T/err")"
run blocks-count 2 "$B" merge "$F/m1.safetensors" "$F/m2.safetensors" -o "$T/x.safetensors" --blocks 1,2,3
run method 2 "$B" merge "$F/m1.safetensors" "$F/m2.safetensors" -o "$T/x.safetensors" --method nope
run needs-c 2 "$B" merge "$F/m1.safetensors" "$F/m2.safetensors" -o "$T/x.safetensors" --method ties
ls "$T"/.*tmp* >/dev/null 2>&1 && fail no-temp "temporary files left" || ok no-temp
# convert / prune / extract
run convert 0 "$B" convert "$F/m1.ckpt" -o "$T/conv.safetensors"
run convert-deflate 0 "$B" convert "$F/m1-deflate.ckpt" -o "$T/conv-deflate.safetensors" --no-hash
run convert-fp16 0 "$B" convert "$F/m1-f32.safetensors" -o "$T/conv16.safetensors" --dtype fp16 --no-hash
run prune 0 "$B" prune "$F/ema.safetensors" -o "$T/pruned.safetensors" --json --no-hash
grep -q '"bytes_saved":' "$T/out" && ok prune-saved || fail prune-saved "no bytes_saved"
run prune-ema 0 "$B" prune "$F/ema.safetensors" -o "$T/pruned-ema.safetensors" --ema-only --no-hash
run prune-noema 1 "$B" prune "$F/m1.safetensors" -o "$T/x.safetensors" --ema-only --no-hash
run prune-pos 0 "$B" prune "$F/brokenpos.safetensors" -o "$T/fixed.safetensors" --no-hash
"$B" identify "$T/fixed.safetensors" | grep -q broken-clip && fail prune-pos-fixed "still broken" || ok prune-pos-fixed
for c in unet vae text-encoder; do
  run "extract-$c" 0 "$B" extract "$F/m1.safetensors" --component $c -o "$T/x-$c.safetensors" --no-hash
done
"$B" inspect "$T/x-vae.safetensors" | grep -q '^decoder.conv_out.weight' && ok extract-vae-names \
  || fail extract-vae-names "VAE keys not bare"
run extract-none 1 "$B" extract "$F/m1.safetensors" --component text-encoder-2 -o "$T/x.safetensors" --no-hash
# bake
/usr/bin/python3 "$CKPT_SRC/tests/ops/make_lora.py" "$T/lora.safetensors"
run bake 0 "$B" bake "$F/m1.safetensors" --lora "$T/lora.safetensors:0.8" -o "$T/baked.safetensors" --no-hash
run bake-vae 0 "$B" bake "$F/m1.safetensors" --vae "$F/m2.safetensors" -o "$T/bakedvae.safetensors" --no-hash
run bake-family 1 "$B" bake "$F/m1.safetensors" --lora "$CKPT_FIXTURES/identify/lora-sdxl-kohya.safetensors" \
  -o "$T/x.safetensors" --no-hash
[ ! -e "$T/xdg/ckptdb/catalog.sqlite" ] && ok no-catalog-by-default || fail no-catalog-by-default "catalog created"
# with a catalog: the output is scanned in, origin merge chosen, parents with their weights
D="$T/cat.sqlite"
"$B" --db "$D" scan -q "$F/m1.safetensors" "$F/m2.safetensors" "$F/m1-f32.safetensors" >/dev/null 2>&1
run cat-merge 0 "$B" --db "$D" merge "$F/m1.safetensors" "$F/m2.safetensors" -o "$T/cm.safetensors" \
  --alpha 0.3 --json
[ "$(jq '.catalog_id | type' "$T/out")" = '"number"' ] && ok cat-merge-id || fail cat-merge-id "$(cat "$T/out")"
"$B" --db "$D" show --json "$T/cm.safetensors" > "$T/show.json"
sha1=$("$B" --db "$D" show --json "$F/m1.safetensors" | jq -r .sha256)
sha2=$("$B" --db "$D" show --json "$F/m2.safetensors" | jq -r .sha256)
got=$(jq -c '[.origin, [.parents[] | [.name, .sha256, .weight]]]' "$T/show.json")
want=$(jq -nc --arg a "$sha1" --arg b "$sha2" '["merge", [["m1", $a, 0.7], ["m2", $b, 0.3]]]')
[ "$got" = "$want" ] && ok cat-merge-parents || fail cat-merge-parents "$got, want $want"
[ "$(jq -r '.sha256 | length' "$T/show.json")" = 64 ] && ok cat-merge-hashed || fail cat-merge-hashed "output not hashed"
"$B" --db "$D" show "$T/cm.safetensors" > "$T/show.txt"
grep -q 'merge parents' "$T/show.txt" && grep -q 'm2.*weight 0.3' "$T/show.txt" \
  && ok cat-merge-show || fail cat-merge-show "$(cat "$T/show.txt")"
# convert keeps the input's chosen origin, its parent is the input (weight 1)
"$B" --db "$D" set "$F/m1-f32.safetensors" origin=fine-tune >/dev/null
run cat-convert 0 "$B" --db "$D" convert "$F/m1-f32.safetensors" -o "$T/cc.safetensors" --dtype fp16 --no-hash
got=$("$B" --db "$D" show --json "$T/cc.safetensors" | jq -c '[.origin, [.parents[] | [.name, .weight]]]')
[ "$got" = '["fine-tune",[["m1-f32",1]]]' ] && ok cat-convert-parent || fail cat-convert-parent "$got"
# bake: origin merge, the checkpoint and the LoRA with its weight
run cat-bake 0 "$B" --db "$D" bake "$F/m1.safetensors" --lora "$T/lora.safetensors:0.8" -o "$T/cb.safetensors" --no-hash
got=$("$B" --db "$D" show --json "$T/cb.safetensors" | jq -c '[.origin, [.parents[] | [.name, .weight]]]')
[ "$got" = '["merge",[["m1",1],["lora",0.8]]]' ] && ok cat-bake-parents || fail cat-bake-parents "$got"
run cat-skip 0 "$B" --db "$D" merge "$F/m1.safetensors" "$F/m2.safetensors" -o "$T/cn.safetensors" --no-hash \
  --no-catalog --json
[ "$(jq -r .catalog_id "$T/out")" = null ] && ! "$B" --db "$D" show "$T/cn.safetensors" >/dev/null 2>&1 \
  && ok cat-no-catalog || fail cat-no-catalog "recorded despite --no-catalog"
# torch
if /usr/bin/python3 "$CKPT_SRC/tests/ops/torch_check.py" "$F" "$T" > "$T/torch.txt" 2>&1; then
  ok torch; cat "$T/torch.txt"; else fail torch "$(tail -5 "$T/torch.txt")"; fi
finish
