#!/usr/bin/env bash
# The catalog commands end to end on a generated library (tests/catalog/make-library.sh) with a
# temporary database: scan, list (filters, sort, JSON, CSV), show, set, tag, accept, search,
# choose, dupes, export/import, forget, rescan after moves and deletions. Outputs are compared
# with tests/golden/catalog/ after replacing the library path with LIB and times with T.
# Regenerate with CKPT_UPDATE_GOLDEN=1 and review the diff.
# The same script runs against PostgreSQL (tests/cli/catalog_pg.sh): CKPT_TEST_DB1/2/3 then name
# three empty databases instead of the temporary SQLite files.
. "$(dirname "$0")/common.bash"
g=$CKPT_SRC/tests/golden/catalog
work=$(mktemp -d /tmp/ckpt-catalog-cli.XXXXXX)
trap 'rm -rf "$work"' EXIT
lib=$work/lib
bash "$CKPT_SRC/tests/catalog/make-library.sh" "$CKPT_BUILD" "$lib"
db1=${CKPT_TEST_DB1:-$work/catalog.sqlite}
db2=${CKPT_TEST_DB2:-$work/second.sqlite}
db3=${CKPT_TEST_DB3:-$work/other.sqlite}
export CKPTDB_DB=$db1 CKPTDB_HOST=testhost
ck() { "$CKPT_BIN" "$@" 2>&1; echo "[exit $?]"; }
norm() { sed -e "s#$lib#LIB#g" -e 's/in [0-9.]* s$/in T s/' -e 's/"seconds":[0-9.]*/"seconds":T/' \
  -e 's/"mtime":[0-9.e+]*/"mtime":T/g'; }
py=/usr/bin/python3

golden "$g/scan1.txt" "$(ck scan "$lib" | norm)"
golden "$g/scan2.txt" "$(ck scan "$lib" | norm)"
golden "$g/list.txt" "$(ck list | norm)"
golden "$g/list-lora-json.txt" "$(ck list --kind lora --sort -name --json | norm)"
golden "$g/list-csv.txt" "$(ck list --csv --sort size | norm)"
golden "$g/show-realistic.txt" "$(ck show realisticVision_v51 | norm)"
golden "$g/show-merge-json.txt" "$(ck show animeMix_v3 --json | norm)"
# every table line fits 80 columns
width=$("$CKPT_BIN" list 2>/dev/null | awk '{ if (length($0) > m) m = length($0) } END { print m }')
[ "$width" -le 80 ] && ok width || fail width "table is $width columns wide"

# set / tag / accept; bad values change nothing and list the valid ones (exit 2)
golden "$g/set-bad.txt" "$(ck set animeMix_v3 output=anime realism=cubist)"
golden "$g/set-bad-field.txt" "$(ck set animeMix_v3 colour=red)"
out=$("$CKPT_BIN" show animeMix_v3 --json | $py -c 'import json,sys; print(json.load(sys.stdin)["output"])')
[ "$out" = None ] && ok set-atomic || fail set-atomic "output became $out after a refused set"
golden "$g/set-ok.txt" "$(ck set animeMix_v3 output=anime realism=2.5D,2D rating=5 'note=great hands' settings.cfg=7 settings.sampler='DPM++ 2M')"
golden "$g/tag.txt" "$(ck tag animeMix_v3 +favourite +nsfw -nsfw)"
golden "$g/accept.txt" "$(ck accept realisticVision_v51)"
golden "$g/accept-bad.txt" "$(ck accept realisticVision_v51 colour)"
golden "$g/list-filters.txt" "$(ck list --output anime --realism 2D --tag favourite --min-rating 4 | norm)"
golden "$g/list-bad-filter.txt" "$(ck list --realism flat)"
golden "$g/list-bad-sort.txt" "$(ck list --sort colour)"
golden "$g/search.txt" "$(ck search great hand | norm)"
golden "$g/search-sidecar.txt" "$(ck search analog | norm)"
# names cut into words: "vision" is inside realisticVision_v51; --limit keeps the best N
n=$("$CKPT_BIN" search vision | grep -c 'realisticVision' || true)
[ "$n" -ge 1 ] && ok search-inside-name || fail search-inside-name "'vision' did not find realisticVision_v51"
n=$("$CKPT_BIN" --json search --limit 1 safetensors | $py -c 'import json,sys; print(len(json.load(sys.stdin)))')
all=$("$CKPT_BIN" --json search safetensors | $py -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$n" = 1 ] && [ "$all" -gt 1 ] && ok search-limit || fail search-limit "--limit 1 gave $n, all $all"
"$CKPT_BIN" search --limit 0 x >/dev/null 2>&1
[ $? = 2 ] && ok search-limit-bad || fail search-limit-bad "--limit 0 was not refused with exit 2"
# nothing matched: no rows (an empty result once printed every model)
n=$("$CKPT_BIN" search zzqqxxnothing | grep -c '^[0-9]' || true)
[ "$n" = 0 ] && ok search-none || fail search-none "a search matching nothing printed $n rows"
n=$("$CKPT_BIN" --json list --min-rating 5 --output anime --realism realistic --tag nosuchtag | $py -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$n" = 0 ] && ok list-none || fail list-none "a list matching nothing printed $n models"
golden "$g/choose.txt" "$(ck choose --output anime --realism 2D | norm)"
golden "$g/choose-json.txt" "$(ck choose --output photorealistic --top 2 --json | norm)"
golden "$g/dupes.txt" "$(ck dupes | norm)"
# MODEL by id, name, path, hash prefix; ambiguous / unknown
id=$("$CKPT_BIN" show filmLook --json | $py -c 'import json,sys; m=json.load(sys.stdin); print(m["id"], m["sha256"][:8])')
set -- $id
[ "$("$CKPT_BIN" show "$2" --json | $py -c 'import json,sys; print(json.load(sys.stdin)["id"])')" = "$1" ] &&
  ok by-hash || fail by-hash "sha256 prefix did not find model $1"
[ "$("$CKPT_BIN" show "$lib/Lora/styles/filmLook.safetensors" --json | $py -c 'import json,sys; print(json.load(sys.stdin)["id"])')" = "$1" ] &&
  ok by-path || fail by-path "path did not find model $1"
golden "$g/show-unknown.txt" "$(ck show noSuchModel)"

# export: json / csv / md; import into a fresh catalog of the same files restores everything
"$CKPT_BIN" export > "$work/export.json" || fail export "exit $?"
golden "$g/export-md.txt" "$(ck export --format md | norm)"
golden "$g/export-csv.txt" "$(ck export --format csv | norm)"
CKPTDB_DB=$db2 "$CKPT_BIN" scan -q "$lib" 2>/dev/null
golden "$g/import.txt" "$(CKPTDB_DB=$db2 ck import "$work/export.json")"
CKPTDB_DB=$db2 "$CKPT_BIN" export > "$work/export2.json"
cmp -s "$work/export.json" "$work/export2.json" && ok round-trip ||
  { fail round-trip "export after import differs"; diff "$work/export.json" "$work/export2.json" | head >&2; }
echo '[{"sha256":"x","output":"cubism"}]' > "$work/bad.json"
golden "$g/import-bad.txt" "$(ck import "$work/bad.json" | sed "s#$work#WORK#g")"

# moves, renames, deletions: records and user fields survive
mkdir -p "$lib/moved"
mv "$lib/Stable-diffusion/animeMix_v3.safetensors" "$lib/moved/animeMix-renamed.safetensors"
rm "$lib/embeddings/EasyNegative.safetensors"
golden "$g/scan3.txt" "$(ck scan "$lib" | norm)"
golden "$g/show-moved.txt" "$(ck show animeMix_v3 | norm | sed -n '1,4p;/chosen/,/suggested/p')"
golden "$g/list-after.txt" "$(ck list | norm)"
golden "$g/forget.txt" "$(ck forget EasyNegative)"
[ -e "$lib/embeddings/EasyNegative.txt" ] && ok forget-file || fail forget-file "sidecar touched"
golden "$g/usage.txt" "$(ck set; ck scan; ck list --bogus; ck choose --output cubism)"
"$CKPT_BIN" --db "$db3" list >/dev/null 2>&1; [ $? = 1 ] && ok no-db || fail no-db "missing catalog"

# a model's kind follows its file: a checkpoint rewritten as a LoRA is listed as a LoRA after a
# rescan (list filters on the model's copy of its file's kind and family)
"$CKPT_BUILD/tools/mkfixture" --force -o "$lib/Stable-diffusion/pixarDream3D_v2.safetensors" --seed 99 \
  --tensor lora_unet_down.lora_down.weight:F16:4,32 --meta ss_network_module=networks.lora >/dev/null
"$CKPT_BIN" scan -q "$lib" 2>/dev/null
names() { "$CKPT_BIN" --json list "$@" | $py -c 'import json,sys; print(" ".join(sorted(m["name"] for m in json.load(sys.stdin))))'; }
case " $(names --kind lora) " in *" pixarDream3D_v2 "*) ok list-kind-follows ;;
  *) fail list-kind-follows "a checkpoint rewritten as a LoRA is not listed by --kind lora" ;; esac
case " $(names --kind checkpoint) " in *" pixarDream3D_v2 "*)
  fail list-kind-old "a checkpoint rewritten as a LoRA is still listed by --kind checkpoint" ;;
  *) ok list-kind-old ;; esac

# the table shows the first 50 (and says so), --all every model, --limit N the first N; JSON all
"$CKPT_BUILD/tools/catalog_gen" "$db2" 120 >/dev/null
total=$("$CKPT_BIN" --db "$db2" --json list | $py -c 'import json,sys; print(len(json.load(sys.stdin)))')
rows() { "$CKPT_BIN" --db "$db2" list "$@" 2>/dev/null | grep -c '^[0-9]' || true; }
note=$("$CKPT_BIN" --db "$db2" list 2>&1 >/dev/null | grep -c "the first 50 of $total shown" || true)
[ "$total" -gt 120 ] && [ "$(rows)" = 50 ] && [ "$note" = 1 ] && ok list-table-top ||
  fail list-table-top "$total models: the table showed $(rows) rows, note $note"
[ "$(rows --all)" = "$total" ] && [ "$(rows --limit 7)" = 7 ] && ok list-all-limit ||
  fail list-all-limit "--all showed $(rows --all) of $total, --limit 7 $(rows --limit 7)"
n=$("$CKPT_BIN" --db "$db2" --json list --limit 3 | $py -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$n" = 3 ] && ok list-limit-json || fail list-limit-json "--json --limit 3 gave $n"
"$CKPT_BIN" --db "$db2" list --limit 0 >/dev/null 2>&1
[ $? = 2 ] && ok list-limit-bad || fail list-limit-bad "--limit 0 was not refused with exit 2"
finish
