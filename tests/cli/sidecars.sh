#!/usr/bin/env bash
# ckptdb sidecars end to end on the catalog test library (tests/catalog/make-library.sh): the
# --dry-run diff (golden), nothing written by a dry run, the written files (golden), a rerun that
# changes nothing, fields of other tools kept, model files untouched, a malformed sidecar refused
# and left alone, and the round trip: a fresh catalog scanning the written sidecars gets the same
# trigger words, source and source URL back. Regenerate goldens with CKPT_UPDATE_GOLDEN=1.
# Also runs against PostgreSQL (tests/cli/catalog_pg.sh): CKPT_TEST_DB1/2 name two empty databases.
. "$(dirname "$0")/common.bash"
g=$CKPT_SRC/tests/golden/sidecars
work=$(mktemp -d /tmp/ckpt-sidecars-cli.XXXXXX)
trap 'rm -rf "$work"' EXIT
lib=$work/lib
bash "$CKPT_SRC/tests/catalog/make-library.sh" "$CKPT_BUILD" "$lib"
dba=${CKPT_TEST_DB1:-$work/a.sqlite} dbb=${CKPT_TEST_DB2:-$work/b.sqlite}
export CKPTDB_DB=$dba CKPTDB_HOST=testhost SOURCE_DATE_EPOCH=1700000000
ck() { "$CKPT_BIN" "$@" 2>&1; echo "[exit $?]"; }
norm() { sed -e "s#$lib#LIB#g"; }
py=/usr/bin/python3
files() { (cd "$lib" && find . -type f | sort | xargs sha256sum); }

"$CKPT_BIN" scan -q "$lib" 2>/dev/null
"$CKPT_BIN" set detailTweaker 'trigger_words=detail, sharp' source=civitai \
  'source_url=https://civitai.com/models/58390?modelVersionId=62833' 'note=use at 0.5' \
  settings.weight=0.5 settings.negative=blurry 2>/dev/null
"$CKPT_BIN" tag detailTweaker +favourite 2>/dev/null
models_before=$(cd "$lib" && sha256sum Stable-diffusion/*.safetensors Lora/*.safetensors Lora/styles/*.safetensors)
before=$(files)
all=a1111,civitai-helper,stability-matrix
golden "$g/dry-run.txt" "$(ck sidecars --write $all --dry-run | norm)"
[ "$(files)" = "$before" ] && ok dry-run-writes-nothing || fail dry-run-writes-nothing "files changed"
golden "$g/dry-run-json.txt" "$(ck sidecars --write stability-matrix --dry-run --json detailTweaker | norm)"
golden "$g/write.txt" "$(ck sidecars --write $all | norm)"
golden "$g/detailTweaker.json" "$(cat "$lib/Lora/detailTweaker.json")"
golden "$g/detailTweaker.civitai.info" "$(cat "$lib/Lora/detailTweaker.civitai.info")"
golden "$g/detailTweaker.cm-info.json" "$(cat "$lib/Lora/detailTweaker.cm-info.json")"
golden "$g/realisticVision_v51.civitai.info" "$(cat "$lib/Stable-diffusion/realisticVision_v51.civitai.info")"
after=$(files)
golden "$g/rerun.txt" "$(ck sidecars --write $all -v detailTweaker realisticVision_v51 | norm)"
[ "$(files)" = "$after" ] && ok rerun-writes-nothing || fail rerun-writes-nothing "files changed"
[ "$(cd "$lib" && sha256sum Stable-diffusion/*.safetensors Lora/*.safetensors Lora/styles/*.safetensors)" = "$models_before" ] &&
  ok models-untouched || fail models-untouched "a model file changed"
# the other tools' fields survive (Civitai's version name, checkpointType, site tags)
$py - "$lib/Stable-diffusion/realisticVision_v51.civitai.info" <<'P' && ok foreign-kept || fail foreign-kept "a field was lost"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["name"] == "V5.1 (VAE)" and d["model"]["checkpointType"] == "Trained"
assert d["model"]["tags"] == ["photorealistic", "portraits", "base model"]
P
# round trip: a fresh catalog reads the same facts back (the description where the catalog had
# one: the reader takes A1111's "notes" as the description of a model that has none)
CKPTDB_DB=$dbb "$CKPT_BIN" scan -q "$lib" 2>/dev/null
for m in detailTweaker realisticVision_v51 pixarDream3D_v2; do
  a=$("$CKPT_BIN" show $m --json)
  b=$(CKPTDB_DB=$dbb "$CKPT_BIN" show $m --json)
  why=$($py -c '
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
keys = ["trigger_words", "source", "source_url"] + (["description"] if a["description"] else [])
print("; ".join("%s: %r != %r" % (k, a[k], b[k]) for k in keys if a[k] != b[k]))' "$a" "$b")
  [ -z "$why" ] && ok "round-trip-$m" || fail "round-trip-$m" "$why"
done
# a malformed sidecar is refused (exit 1) and left alone; the others are still written
printf '{"notes": ' > "$lib/Lora/styles/filmLook.json"
"$CKPT_BIN" set filmLook 'note=grainy' 2>/dev/null
golden "$g/malformed.txt" "$(ck sidecars --write a1111 filmLook detailTweaker | norm)"
[ "$(cat "$lib/Lora/styles/filmLook.json")" = '{"notes": ' ] && ok malformed-untouched ||
  fail malformed-untouched "the malformed sidecar was changed"
golden "$g/usage.txt" "$(ck sidecars --write comfyui; ck sidecars)"
finish
