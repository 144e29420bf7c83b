#!/usr/bin/env bash
# ckptdb organize end to end on a generated library (tests/catalog/make-library.sh plus a few
# files made to collide) with a temporary catalog: the plan (golden, JSON), every preset,
# collisions (suffix, skip, an identical copy), apply/undo/idempotent re-runs, the catalog
# following the files, hardlink/symlink/copy modes, moves across filesystems (/dev/shm against
# the disk), and SIGKILL at deterministic points of an applied run (CKPTDB_TEST_KILL_AFTER_STEPS)
# followed by --resume or --undo: every file accounted for, hashes unchanged.
. "$(dirname "$0")/common.bash"
g=$CKPT_SRC/tests/golden/organize
py=/usr/bin/python3
work=$(mktemp -d /tmp/ckpt-organize-cli.XXXXXX)
shm=$(mktemp -d /dev/shm/ckpt-organize-cli.XXXXXX)
trap 'rm -rf "$work" "$shm"' EXIT
export CKPTDB_HOST=testhost
mk=$CKPT_BUILD/tools/mkfixture
t() { echo "--tensor model.diffusion_model.input_blocks.0.0.weight:F16:$1"; }

# the two catalogs: SQLite files, or on PostgreSQL (tests/cli/catalog_pg.sh) the empty
# databases CKPT_TEST_DB1/2 of the cluster in CKPT_TEST_PGDIR, copied as templates
if [ -n "${CKPT_TEST_PGDIR:-}" ]; then
  db1=$CKPT_TEST_DB1 db2=$CKPT_TEST_DB2
  db_save() { bash "$CKPT_SRC/tests/pg/cluster.sh" clone "$CKPT_TEST_PGDIR" "${1##*/}" "${1##*/}_pristine"; }
  db_restore() { bash "$CKPT_SRC/tests/pg/cluster.sh" clone "$CKPT_TEST_PGDIR" "${1##*/}_pristine" "${1##*/}"; }
else
  db1=$work/catalog.sqlite db2=$work/shm.sqlite
  db_save() { rm -f "$1.pristine"; cp "$1" "$1.pristine"; }
  db_restore() { rm -f "$1" "$1-wal" "$1-shm"; cp "$1.pristine" "$1"; }
fi

# build a library at $1 with its catalog at $2, and keep a pristine copy of both
make_lib() {
  local lib=$1 db=$2
  bash "$CKPT_SRC/tests/catalog/make-library.sh" "$CKPT_BUILD" "$lib"
  mkdir -p "$lib/extra"
  # same file name as Stable-diffusion/animeMix_v3.safetensors, other bytes: a name clash
  $mk -o "$lib/extra/animeMix_v3.safetensors" --seed 41 $(t 8,4,3,13) >/dev/null
  echo '{"description": "the other animeMix"}' > "$lib/extra/animeMix_v3.json"
  CKPTDB_DB=$db "$CKPT_BIN" scan "$lib" >/dev/null 2>&1
  CKPTDB_DB=$db "$CKPT_BIN" set realisticVision_v51 output=photorealistic realism=realistic >/dev/null
  CKPTDB_DB=$db "$CKPT_BIN" set "$lib/Stable-diffusion/animeMix_v3.safetensors" output=anime \
    realism=2.5D,2D >/dev/null
  CKPTDB_DB=$db "$CKPT_BIN" set pixarDream3D_v2 output=render >/dev/null
  rm -rf "$lib.pristine"
  cp -a "$lib" "$lib.pristine"
  db_save "$db"
}
reset() { # LIB DB OUT...
  local lib=$1 db=$2
  shift 2
  rm -rf "$lib" "$@"
  cp -a "$lib.pristine" "$lib"
  db_restore "$db"
}
# the content of the given trees: "sha256" per regular file, sorted (where files are does not
# matter, that every byte is still there once does)
contents() { find "$@" -type f ! -name '*.ckptdb-part' -print0 2>/dev/null | xargs -0 -r sha256sum | cut -c1-64 | sort; }
# the trees themselves: "relative path sha256"
tree() {
  $py - "$1" <<'P'
import hashlib, os, sys
root = sys.argv[1]
out = []
for d, dirs, files in os.walk(root):
    for n in dirs + files:
        p = os.path.join(d, n)
        r = os.path.relpath(p, root)
        if os.path.islink(p):
            out.append(r + " -> " + os.readlink(p))
        elif os.path.isfile(p):
            out.append(r + " " + hashlib.sha256(open(p, "rb").read()).hexdigest())
print("\n".join(sorted(out)))
P
}
parts() { find "$@" -name '*.ckptdb-part' 2>/dev/null | wc -l; }

lib=$work/lib db=$db1 out=$work/out
make_lib "$lib" "$db"
export CKPTDB_DB=$db
norm() { sed -e "s#$lib#LIB#g" -e "s#$out#OUT#g" -e "s#$shm#SHM#g"; }
ck() { "$CKPT_BIN" "$@" 2>&1; echo "[exit $?]"; }
before_tree=$(tree "$lib")
before=$(contents "$lib")

# ---- plans change nothing; the plan as text and as data
golden "$g/plan.txt" "$(ck organize --into "$out" --layout by-output-realism | norm)"
[ "$(tree "$lib")" = "$before_tree" ] && [ ! -e "$out" ] && ok plan-changes-nothing ||
  fail plan-changes-nothing "the library changed or $out appeared"
golden "$g/plan-json.txt" "$(ck organize --into "$out" --layout '{kind}/{output|unsorted}' --json | norm)"
golden "$g/bad-field.txt" "$(ck organize --into "$out" --layout '{colour}/{output}')"
golden "$g/no-into.txt" "$(ck organize --layout by-output)"
golden "$g/bad-mode.txt" "$(ck organize --into "$out" --layout by-output --mode teleport)"

# where a model goes under each preset
to_of() { # LAYOUT PATH-SUFFIX -> the plan's destination (relative to OUT) for that file
  "$CKPT_BIN" organize --into "$out" --layout "$1" --json |
    $py -c 'import json,sys
p=json.load(sys.stdin)
for it in p["items"]:
    if it["from"].endswith(sys.argv[1]):
        print((it["to"] or "SKIP").replace(p["into"] + "/", ""))' "$2"
}
check_to() { # NAME LAYOUT FILE EXPECTED
  local got
  got=$(to_of "$2" "$3")
  [ "$got" = "$4" ] && ok "$1" || fail "$1" "$3 under $2 goes to '$got', expected '$4'"
}
check_to preset-by-output by-output /realisticVision_v51.safetensors photorealistic/realisticVision_v51.safetensors
check_to preset-by-output-unsorted by-output /detailTweaker.safetensors unsorted/detailTweaker.safetensors
check_to preset-by-output-realism by-output-realism Stable-diffusion/animeMix_v3.safetensors anime/2.5D/animeMix_v3.safetensors
check_to preset-by-family-output by-family-output /pixarDream3D_v2.safetensors unknown/render/pixarDream3D_v2.safetensors
check_to preset-a1111-lora a1111 /detailTweaker.safetensors models/Lora/unknown/detailTweaker.safetensors
check_to preset-a1111-embedding a1111 /EasyNegative.safetensors embeddings/unknown/EasyNegative.safetensors
check_to template-kind '{kind}' /EasyNegative.safetensors embedding/EasyNegative.safetensors
check_to template-fixed 'all/{subject}' /EasyNegative.safetensors all/EasyNegative.safetensors

# ---- collisions: two files of one name into one folder; a name taken on disk; an identical
# copy already there
plan_json=$("$CKPT_BIN" organize --into "$out" --layout 'flat' --json)
renamed=$(printf '%s' "$plan_json" | $py -c 'import json,sys
p=json.load(sys.stdin)
for it in p["items"]:
    if it["from"].endswith("extra/animeMix_v3.safetensors"):
        print(it["to"].rsplit("/",1)[1], it["sidecars"][0]["to"].rsplit("/",1)[1], it["reason"])')
[ "$renamed" = "animeMix_v3-2.safetensors animeMix_v3-2.json renamed: animeMix_v3.safetensors is taken there" ] &&
  ok collision-suffix || fail collision-suffix "got '$renamed'"
mkdir -p "$out/anime/2.5D"
echo "someone else's file" > "$out/anime/2.5D/animeMix_v3.safetensors"
golden "$g/collision-skip.txt" "$(ck organize --into "$out" --layout by-output-realism --on-conflict skip | norm)"
got=$(to_of by-output-realism Stable-diffusion/animeMix_v3.safetensors)
[ "$got" = anime/2.5D/animeMix_v3-2.safetensors ] && ok collision-disk || fail collision-disk "got $got"
rm -rf "$out"
# an identical, catalogued copy at the destination is a duplicate: skipped with that reason
mkdir -p "$work/dupdir/unsorted"
cp "$lib/Lora/detailTweaker.safetensors" "$work/dupdir/unsorted/"
"$CKPT_BIN" scan "$work/dupdir" >/dev/null 2>&1
reason=$("$CKPT_BIN" organize --into "$work/dupdir" --layout by-output --json "$lib" |
  $py -c 'import json,sys
for it in json.load(sys.stdin)["items"]:
    if it["from"].endswith("Lora/detailTweaker.safetensors"): print(it["status"], it["reason"])')
case $reason in "skip an identical copy is already there: "*) ok collision-identical ;;
  *) fail collision-identical "got '$reason'" ;; esac
"$CKPT_BIN" forget "$work/dupdir/unsorted/detailTweaker.safetensors" >/dev/null
rm -rf "$work/dupdir"

# ---- apply: every file accounted for, sidecars moved along, the catalog follows
reset "$lib" "$db" "$out"
golden "$g/apply.txt" "$(ck organize --into "$out" --layout by-output-realism --apply "$lib" | norm)"
[ "$(contents "$lib" "$out")" = "$before" ] && ok apply-contents || fail apply-contents "bytes lost or duplicated"
[ -f "$out/photorealistic/realistic/realisticVision_v51.civitai.info" ] &&
  [ -f "$out/photorealistic/realistic/realisticVision_v51.preview.png" ] &&
  [ -f "$out/unsorted/EasyNegative.txt" ] && [ -f "$out/render/pixarDream3D_v2.description.txt" ] &&
  [ -f "$out/unsorted/animeMix_v3.json" ] && ok apply-sidecars || fail apply-sidecars "a sidecar stayed behind"
[ -f "$lib/README.md" ] && [ -f "$lib/misc/notes.bin.txt" ] && ok apply-leaves-others ||
  fail apply-leaves-others "a file that is not a model or sidecar moved"
golden "$g/tree-by-output-realism.txt" "$(tree "$out")"
missing=$("$CKPT_BIN" list --json | $py -c 'import json,sys,os
print(sum(1 for m in json.load(sys.stdin) if not m["missing"] and not os.path.exists(m["path"])))')
[ "$missing" = 0 ] && ok catalog-follows || fail catalog-follows "$missing catalog paths do not exist"
"$CKPT_BIN" show realisticVision_v51 | grep -q "preview .*$out/photorealistic/realistic/realisticVision_v51.preview.png" &&
  ok catalog-preview || fail catalog-preview "the preview path did not follow"
golden "$g/rescan-after-apply.txt" "$(ck scan "$lib" "$out" | norm | sed 's/in [0-9.]* s$/in T s/')"
# idempotent: the same organize again has nothing to do
golden "$g/rerun.txt" "$(ck organize --into "$out" --layout by-output-realism "$lib" "$out" -q | norm)"
golden "$g/rerun-apply.txt" "$(ck organize --into "$out" --layout by-output-realism --apply -q "$lib" "$out" | norm)"
# undo twice is a stack: the empty run, then the real one
ck organize --undo >/dev/null
golden "$g/undo.txt" "$(ck organize --undo | norm)"
[ "$(tree "$lib")" = "$before_tree" ] && ok undo-restores || fail undo-restores "the library is not as before"
[ -z "$(find "$out" -mindepth 1 2>/dev/null)" ] && ok undo-cleans || fail undo-cleans "folders left in $out"
golden "$g/undo-none.txt" "$(ck organize --undo)"
golden "$g/resume-none.txt" "$(ck organize --resume)"

# ---- the other modes leave the originals (and the catalog) where they are
reset "$lib" "$db" "$out"
"$CKPT_BIN" organize --into "$out" --layout by-output --mode hardlink --apply -q
[ "$(stat -c %i "$lib/Stable-diffusion/realisticVision_v51.safetensors")" = \
  "$(stat -c %i "$out/photorealistic/realisticVision_v51.safetensors")" ] && ok mode-hardlink ||
  fail mode-hardlink "not the same inode"
"$CKPT_BIN" organize --undo -q
[ "$(tree "$lib")" = "$before_tree" ] && [ -z "$(find "$out" -type f)" ] && ok mode-hardlink-undo ||
  fail mode-hardlink-undo "links left or originals changed"
"$CKPT_BIN" organize --into "$out" --layout by-output --mode symlink --apply -q
[ "$(readlink "$out/render/pixarDream3D_v2.safetensors")" = "$lib/Stable-diffusion/pixarDream3D_v2.safetensors" ] &&
  [ -L "$out/render/pixarDream3D_v2.json" ] && ok mode-symlink || fail mode-symlink "no link to the original"
"$CKPT_BIN" organize --undo -q
"$CKPT_BIN" organize --into "$out" --layout by-output --mode copy --apply -q
[ "$(tree "$lib")" = "$before_tree" ] && cmp -s "$lib/Lora/detailTweaker.safetensors" "$out/unsorted/detailTweaker.safetensors" &&
  ok mode-copy || fail mode-copy "copy differs or originals changed"
echo "edited" >> "$out/unsorted/EasyNegative.txt" # a copy the user changed is not organize's any more
golden "$g/copy-undo-edited.txt" "$("$CKPT_BIN" organize --undo 2>&1 | norm; echo "[exit ${PIPESTATUS[0]}]")"
[ -f "$out/unsorted/EasyNegative.txt" ] && [ ! -e "$out/unsorted/detailTweaker.safetensors" ] &&
  ok copy-undo-keeps-edited || fail copy-undo-keeps-edited "undo removed an edited copy or kept an untouched one"
# hardlinks never cross filesystems
reset "$lib" "$db" "$out"
golden "$g/hardlink-cross.txt" "$(ck organize --into "$shm/x" --layout by-output --mode hardlink "$lib/Lora" | norm)"

# ---- across filesystems: the library on /dev/shm, the destination on the disk
slib=$shm/lib sdb=$db2 sout=$work/sout
make_lib "$slib" "$sdb"
sbefore=$(contents "$slib")
sbefore_tree=$(tree "$slib")
r=$(CKPTDB_DB=$sdb "$CKPT_BIN" organize --into "$sout" --layout by-output --apply --json)
copied=$(printf '%s' "$r" | $py -c 'import json,sys; d=json.load(sys.stdin); print(d["run"]["failed"], d["run"]["bytes_copied"] > 0, d["plan"]["items"][0]["cross_filesystem"])')
[ "$copied" = "0 True True" ] && ok cross-fs-apply || fail cross-fs-apply "run said '$copied'"
[ "$(contents "$slib" "$sout")" = "$sbefore" ] && [ "$(parts "$slib" "$sout")" = 0 ] &&
  ok cross-fs-contents || fail cross-fs-contents "bytes lost, duplicated or a part file left"
[ -z "$(find "$slib" -name '*.safetensors' -not -name broken.safetensors)" ] || true
CKPTDB_DB=$sdb "$CKPT_BIN" organize --undo -q
[ "$(tree "$slib")" = "$sbefore_tree" ] && ok cross-fs-undo || fail cross-fs-undo "not back as before"

# ---- SIGKILL at deterministic points, then --resume or --undo
final_tree() { # the tree a complete run gives (reference), for LIB DB OUT
  reset "$1" "$2" "$3"
  CKPTDB_DB=$2 "$CKPT_BIN" organize --into "$3" --layout by-output-realism --apply -q "$1" >/dev/null 2>&1
  echo "$(tree "$1")"
  echo "--"
  echo "$(tree "$3")"
}
kill_test() { # NAME LIB DB OUT BEFORE-CONTENTS BEFORE-TREE POINTS...
  local name=$1 l=$2 d=$3 o=$4 bc=$5 bt=$6
  shift 6
  local ref
  ref=$(final_tree "$l" "$d" "$o")
  local n k=0 bad=0
  for n in "$@"; do
    k=$((k + 1))
    reset "$l" "$d" "$o"
    # (in a subshell that reports the status itself, so bash's "Killed" note goes nowhere)
    (CKPTDB_TEST_KILL_AFTER_STEPS=$n CKPTDB_DB=$d "$CKPT_BIN" organize --into "$o" \
      --layout by-output-realism --apply -q "$l"; exit $?) >/dev/null 2>&1
    local st=$?
    [ $st = 137 ] || { fail "$name-$n" "the run was not killed at point $n (exit $st)"; bad=1; continue; }
    # nothing lost (a file copied across filesystems may briefly be in both places)
    [ -z "$(comm -23 <(echo "$bc") <(contents "$l" "$o"))" ] ||
      { fail "$name-$n" "after the kill (exit $st) a file is lost"; bad=1; continue; }
    if [ $((k % 2)) = 1 ]; then
      CKPTDB_DB=$d "$CKPT_BIN" organize --resume -q >/dev/null 2>&1 || { fail "$name-$n" "--resume failed"; bad=1; continue; }
      [ "$(tree "$l"; echo "--"; tree "$o")" = "$ref" ] || { fail "$name-$n" "--resume did not reach the complete run's tree"; bad=1; continue; }
    else
      CKPTDB_DB=$d "$CKPT_BIN" organize --undo -q >/dev/null 2>&1 || { fail "$name-$n" "--undo failed"; bad=1; continue; }
      [ "$(tree "$l")" = "$bt" ] && [ "$(parts "$l" "$o")" = 0 ] ||
        { fail "$name-$n" "--undo did not restore the library"; bad=1; continue; }
    fi
    [ "$(contents "$l" "$o")" = "$bc" ] || { fail "$name-$n" "bytes changed after recovery"; bad=1; continue; }
    missing=$(CKPTDB_DB=$d "$CKPT_BIN" list --json | $py -c 'import json,sys,os
print(sum(1 for m in json.load(sys.stdin) if not m["missing"] and not os.path.exists(m["path"])))')
    [ "$missing" = 0 ] || { fail "$name-$n" "$missing catalog paths wrong after recovery"; bad=1; continue; }
  done
  [ $bad = 0 ] && ok "$name"
}
# a point is a file operation or a journal commit: 1 = right after the journal was written; the
# 19 steps (11 files, 8 sidecars) of the same-filesystem run give 21 points, the copies across
# filesystems 40 (after the part file is synced, after it is renamed into place)
kill_test kill-same-fs "$lib" "$db" "$out" "$before" "$before_tree" 1 2 3 5 8 12 15 18 20 21
kill_test kill-cross-fs "$slib" "$sdb" "$sout" "$sbefore" "$sbefore_tree" 1 2 3 4 6 9 14 20 27 33 38 39 40
# a kill during an undo: --undo again finishes it
reset "$lib" "$db" "$out"
"$CKPT_BIN" organize --into "$out" --layout by-output-realism --apply -q "$lib" >/dev/null
(CKPTDB_TEST_KILL_AFTER_STEPS=7 "$CKPT_BIN" organize --undo -q; exit $?) >/dev/null 2>&1
golden "$g/apply-while-unfinished.txt" "$(ck organize --into "$out" --layout by-output --apply | norm)"
"$CKPT_BIN" organize --undo -q >/dev/null 2>&1
[ "$(tree "$lib")" = "$before_tree" ] && [ "$(contents "$lib" "$out")" = "$before" ] &&
  ok kill-during-undo || fail kill-during-undo "not restored"
finish
