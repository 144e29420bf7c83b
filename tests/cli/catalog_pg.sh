#!/usr/bin/env bash
# The catalog on PostgreSQL, in a throwaway cluster (tests/pg/cluster.sh: initdb in a temporary
# folder, a unix socket there, no TCP port; stopped and removed at the end, also on failure):
# the whole catalog suite (tests/cli/catalog.sh) against it, two machines scanning one shared
# folder under two host names, two scanners and an editor at once, a connection killed
# mid-scan, db copy to and from SQLite (every table, fingerprint blobs and organize's journal
# included), no password in any message (right and wrong passwords, refused connections,
# malformed URLs), and sslmode=require refused rather than fallen back from (unix socket; a TCP
# server without TLS). Skipped (77) when no PostgreSQL server is installed.
. "$(dirname "$0")/common.bash"
cl=$CKPT_SRC/tests/pg/cluster.sh
pgdir=$(mktemp -d /tmp/ckpt-pg.XXXXXX)
rmdir "$pgdir"
work=$(mktemp -d /tmp/ckpt-pg-work.XXXXXX)
trap 'bash "$cl" stop "$pgdir"; rm -rf "$work"' EXIT
base=$(bash "$cl" start "$pgdir") || { rc=$?; [ "$rc" = 77 ] && exit 77; echo "cannot start PostgreSQL" >&2; exit 1; }
for d in suite1 suite2 suite3 machines conc killed failing copy serve; do bash "$cl" createdb "$pgdir" "$d"; done
psql() { bash "$cl" psql "$pgdir" "$@"; }
py=/usr/bin/python3

# ---- the whole catalog suite, unchanged, on PostgreSQL --------------------------------------
if CKPT_TEST_DB1=$base/suite1 CKPT_TEST_DB2=$base/suite2 CKPT_TEST_DB3=$base/suite3 \
  bash "$CKPT_SRC/tests/cli/catalog.sh" >"$work/suite.log" 2>&1; then
  ok suite
else
  fail suite "tests/cli/catalog.sh against PostgreSQL:"; cat "$work/suite.log" >&2
fi
if CKPT_TEST_DB1=$base/serve bash "$CKPT_SRC/tests/cli/serve_api.sh" >"$work/serve.log" 2>&1; then
  ok serve-suite
else
  fail serve-suite "tests/cli/serve_api.sh against PostgreSQL:"; cat "$work/serve.log" >&2
fi

# ---- two machines over one shared folder ------------------------------------------------------
lib=$work/lib
bash "$CKPT_SRC/tests/catalog/make-library.sh" "$CKPT_BUILD" "$lib" >/dev/null 2>&1
mdb=$base/machines
j() { "$CKPT_BIN" --db "$mdb" "$@" --json 2>/dev/null; }
a=$(CKPTDB_HOST=alpha j scan "$lib")
n_alpha=$(CKPTDB_HOST=alpha "$CKPT_BIN" --db "$mdb" list --json | jq length)
b=$(CKPTDB_HOST=beta j scan "$lib")
# every readable file joins alpha's model; the unreadable one (no fingerprint) is beta's own
[ "$(echo "$a" | jq .bytes_hashed)" -gt 0 ] && [ "$(echo "$b" | jq .bytes_hashed)" = 0 ] &&
  ok shared-hashing || fail shared-hashing "alpha: $a; beta: $b (beta should hash nothing)"
[ "$(CKPTDB_HOST=beta "$CKPT_BIN" --db "$mdb" list --json | jq length)" = $((n_alpha + 1)) ] &&
  ok one-model-two-locations || fail one-model-two-locations "beta's scan added models"
[ "$(CKPTDB_HOST=beta "$CKPT_BIN" --db "$mdb" list --host beta --json | jq length)" = "$n_alpha" ] &&
  [ "$("$CKPT_BIN" --db "$mdb" list --host nobody --json | jq length)" = 0 ] &&
  ok list-host || fail list-host "list --host"
locs=$(CKPTDB_HOST=beta "$CKPT_BIN" --db "$mdb" show filmLook --json | jq -c '[.locations[] | .host] | sort')
[ "$locs" = '["alpha","beta"]' ] && ok show-locations || fail show-locations "locations $locs"
CKPTDB_HOST=beta "$CKPT_BIN" --db "$mdb" show filmLook | grep -q "^  alpha:$lib/Lora/styles/filmLook.safetensors" &&
  ok show-locations-text || fail show-locations-text "show does not list alpha's copy"
# a file gone on beta is missing on beta only
mv "$lib/Lora/styles/filmLook.safetensors" "$work/filmLook.away"
CKPTDB_HOST=beta "$CKPT_BIN" --db "$mdb" scan -q "$lib" 2>/dev/null
st=$("$CKPT_BIN" --db "$mdb" show filmLook --json | jq -c '[.locations[] | [.host, .missing]] | sort')
[ "$st" = '[["alpha",false],["beta",true]]' ] && ok missing-per-host || fail missing-per-host "$st"
mv "$work/filmLook.away" "$lib/Lora/styles/filmLook.safetensors"
# --verify hashes in full even when another machine has the hashes
v=$(CKPTDB_HOST=gamma j scan --verify "$lib")
[ "$(echo "$v" | jq .bytes_hashed)" = "$(echo "$a" | jq .bytes_hashed)" ] &&
  [ "$(CKPTDB_HOST=gamma "$CKPT_BIN" --db "$mdb" list --json | jq length)" = $((n_alpha + 2)) ] &&
  ok verify || fail verify "gamma --verify: $v"

# dupes: a model on several machines is one entry listing its hosts, not a duplicate of itself
dj=$("$CKPT_BIN" --db "$mdb" dupes --json)
[ "$(echo "$dj" | jq 'length')" = 1 ] && [ "$(echo "$dj" | jq '.[0].models | length')" = 2 ] &&
  [ "$(echo "$dj" | jq -c '.[0].models[0].hosts | sort')" = '["alpha","beta","gamma"]' ] &&
  ok dupes-machines || fail dupes-machines "$dj"

# ---- two scanners and one editor at once ------------------------------------------------------
cdb=$base/conc
mkdir -p "$work/big1" "$work/big2"
for i in $(seq 1 60); do
  "$CKPT_TOOLS/mkfixture" -o "$work/big1/m$i.safetensors" --seed "$i" \
    --tensor "model.diffusion_model.input_blocks.0.0.weight:F16:64,64" >/dev/null
  "$CKPT_TOOLS/mkfixture" -o "$work/big2/n$i.safetensors" --seed "$((i + 1000))" \
    --tensor "lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight:F16:8,64" >/dev/null
done
CKPTDB_HOST=alpha "$CKPT_BIN" --db "$cdb" scan -q "$work/big1" 2>/dev/null
(CKPTDB_HOST=beta "$CKPT_BIN" --db "$cdb" scan -q "$work/big1" "$work/big2" >"$work/s1.out" 2>&1; echo $? >"$work/s1.rc") &
(CKPTDB_HOST=gamma "$CKPT_BIN" --db "$cdb" scan -q "$work/big2" "$work/big1" >"$work/s2.out" 2>&1; echo $? >"$work/s2.rc") &
edits_failed=0
for i in $(seq 1 30); do
  CKPTDB_HOST=alpha "$CKPT_BIN" --db "$cdb" set "m$i" "note=edit $i" rating=$((i % 5 + 1)) >/dev/null 2>&1 || edits_failed=$((edits_failed + 1))
  CKPTDB_HOST=alpha "$CKPT_BIN" --db "$cdb" tag "m$i" +edited >/dev/null 2>&1 || edits_failed=$((edits_failed + 1))
done
wait
[ "$(cat "$work/s1.rc")" = 0 ] && [ "$(cat "$work/s2.rc")" = 0 ] && [ "$edits_failed" = 0 ] &&
  ok concurrent-runs || fail concurrent-runs "scans: $(cat "$work/s1.rc") $(cat "$work/s2.out") $(cat "$work/s1.out") $(cat "$work/s2.rc"); edits failed: $edits_failed"
counts=$(psql -d conc -At -c "SELECT (SELECT count(*) FROM models) || ' ' || (SELECT count(*) FROM files) || ' ' || (SELECT count(*) FROM files WHERE model_id NOT IN (SELECT id FROM models))")
# 120 different files; 60 on alpha, 120 on beta, 120 on gamma
[ "$counts" = "120 300 0" ] && ok concurrent-files || fail concurrent-files "models files orphans: $counts (want 120 300 0)"
kept=$(CKPTDB_HOST=alpha "$CKPT_BIN" --db "$cdb" list --tag edited --json | jq '[.[] | select(.note == "edit " + (.name | ltrimstr("m")))] | length')
[ "$kept" = 30 ] && ok concurrent-edits || fail concurrent-edits "$kept of 30 edits survived"

# ---- a connection killed mid-scan leaves nothing half-written; the scan resumes ---------------
kdb=$base/killed
# hold a lock that stops the scanner at its first write, then end its connection from the server
psql -d killed -c "SELECT 1" >/dev/null
"$CKPT_BIN" --db "$kdb" list >/dev/null 2>&1 || true
"$CKPT_BIN" --db "$kdb" forget nothing >/dev/null 2>&1 || true # creates the schema
psql -d killed -c "BEGIN; LOCK TABLE files IN EXCLUSIVE MODE; SELECT pg_sleep(60);" >/dev/null 2>&1 &
locker=$!
for _ in $(seq 100); do # the lock is held before the scanner starts
  [ "$(psql -d killed -At -c "SELECT count(*) FROM pg_locks WHERE relation = 'files'::regclass AND mode = 'ExclusiveLock' AND granted")" = 1 ] && break
  sleep 0.1
done
(CKPTDB_HOST=alpha "$CKPT_BIN" --db "$kdb" scan -q "$work/big1" >"$work/k.out" 2>&1; echo $? >"$work/k.rc") &
scanner=$!
for _ in $(seq 1 100); do
  pid=$(psql -d killed -At -c "SELECT pid FROM pg_stat_activity WHERE datname = 'killed' AND wait_event_type = 'Lock' AND application_name <> 'psql' LIMIT 1")
  [ -n "$pid" ] && break
  sleep 0.1
done
[ -n "$pid" ] && psql -d killed -At -c "SELECT pg_terminate_backend($pid)" >/dev/null
wait "$scanner"
psql -d killed -At -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'killed' AND pid <> pg_backend_pid()" >/dev/null
wait "$locker" 2>/dev/null
after=$(psql -d killed -At -c "SELECT (SELECT count(*) FROM models) || ' ' || (SELECT count(*) FROM files)")
[ -n "$pid" ] && [ "$(cat "$work/k.rc")" = 1 ] && grep -q "connection to the database lost" "$work/k.out" &&
  [ "$after" = "0 0" ] && ok killed-connection ||
  fail killed-connection "pid '$pid', exit $(cat "$work/k.rc"), rows after '$after': $(cat "$work/k.out")"
CKPTDB_HOST=alpha "$CKPT_BIN" --db "$kdb" scan -q "$work/big1" 2>/dev/null
[ "$(psql -d killed -At -c "SELECT count(*) FROM files")" = 60 ] && ok killed-resume || fail killed-resume "rescan"

# ---- a write that fails on the server mid-batch undoes the whole batch --------------------------
# (the scan's writes go down libpq's pipeline unanswered: the failure of the 28th file of the
# second batch, m9 last in name order, must still roll back the 27 files and models before it)
fdb=$base/failing
"$CKPT_BIN" --db "$fdb" forget nothing >/dev/null 2>&1 || true # creates the schema
psql -d failing -c "CREATE FUNCTION no_m9() RETURNS trigger LANGUAGE plpgsql AS \$\$BEGIN
  IF NEW.path LIKE '%/m9.safetensors' THEN RAISE EXCEPTION 'm9 refused'; END IF;
  RETURN NEW; END\$\$; CREATE TRIGGER no_m9 BEFORE INSERT ON files FOR EACH ROW
  EXECUTE FUNCTION no_m9()" >/dev/null
CKPTDB_HOST=alpha "$CKPT_BIN" --db "$fdb" scan -q "$work/big1" >"$work/f.out" 2>&1
frc=$?
after=$(psql -d failing -At -c "SELECT (SELECT count(*) FROM models) || ' ' || (SELECT count(*) FROM files) || ' ' || (SELECT count(*) FROM models m WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.model_id = m.id)) || ' ' || (SELECT count(*) FROM model_fts)")
[ "$frc" = 1 ] && grep -q "m9 refused" "$work/f.out" && [ "$after" = "32 32 0 32" ] &&
  ok failed-write-batch || fail failed-write-batch "exit $frc, models files orphans fts '$after': $(cat "$work/f.out")"
psql -d failing -c "DROP TRIGGER no_m9 ON files" >/dev/null
CKPTDB_HOST=alpha "$CKPT_BIN" --db "$fdb" scan -q "$work/big1" 2>/dev/null
[ "$(psql -d failing -At -c "SELECT count(*) FROM files")" = 60 ] && ok failed-write-resume || fail failed-write-resume "rescan"

# ---- db copy: SQLite -> PostgreSQL -> SQLite loses nothing ------------------------------------
# the source holds every kind of row: files of two machines with their sidecars, chosen values,
# tags, settings, suggestions, merge parents, lineage fingerprints (blobs: bytea on PostgreSQL),
# and organize's journal (a run undone and a run applied, on a copy of the library)
orig=$work/orig.sqlite back=$work/back.sqlite
export CKPTDB_HOST=testhost
"$CKPT_BIN" --db "$orig" scan -q "$lib" 2>/dev/null
"$CKPT_BIN" --db "$orig" set animeMix_v3 output=anime realism=2.5D,2D rating=5 'note=great hands' settings.cfg=7.5 settings.sampler='DPM++ 2M' >/dev/null
"$CKPT_BIN" --db "$orig" tag animeMix_v3 +favourite +'two words' >/dev/null
# text that COPY's text format must escape (tab, newline, carriage return, backslash)
"$CKPT_BIN" --db "$orig" set realisticVision_v51 $'note=tab\there\nnext line\r\\N back\\slash' >/dev/null
"$CKPT_BIN" --db "$orig" accept realisticVision_v51 >/dev/null
CKPTDB_HOST=othermachine "$CKPT_BIN" --db "$orig" scan -q "$lib/Lora" 2>/dev/null
mkdir -p "$work/lin" && cp "$CKPT_FIXTURES"/lineage/sd1/{base,ft1,ft2,ws1}.safetensors "$work/lin/"
"$CKPT_BIN" --db "$orig" scan -q "$work/lin" 2>/dev/null
cp -a "$lib" "$work/olib"
"$CKPT_BIN" --db "$orig" scan -q "$work/olib" 2>/dev/null
"$CKPT_BIN" --db "$orig" organize --into "$work/oout" --layout by-output --apply -q "$work/olib" >/dev/null
"$CKPT_BIN" --db "$orig" organize --undo -q >/dev/null
"$CKPT_BIN" --db "$orig" organize --into "$work/oout" --layout by-output --apply -q "$work/olib" >/dev/null
to=$("$CKPT_BIN" --json db copy --from "$orig" --to "$base/copy")
"$CKPT_BIN" --json db copy --from "$base/copy" --to "$back" >/dev/null
# every table (but the search index's) row by row, blobs as bytes, and the schema version
dump() {
  $py - "$1" <<'P'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print("user_version", db.execute("PRAGMA user_version").fetchone())
tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND"
          " name NOT LIKE 'sqlite%' AND name NOT LIKE 'model_fts%' ORDER BY name")]
print("tables", tables)
for t in tables:
    for row in sorted(db.execute(f"SELECT * FROM {t}"), key=repr):
        print(t, repr(row))
P
}
dump "$orig" > "$work/orig.dump"
dump "$back" > "$work/back.dump"
# what the source must hold for the comparison to mean something
need="files lineage lineage_fp models organize_runs organize_steps parents suggestions tags"
have=$(for t in $need; do grep -q "^$t " "$work/orig.dump" && echo "$t"; done | tr '\n' ' ')
blobs=$(grep -c "^lineage_fp (.*b'" "$work/orig.dump")
sidecars=$(grep -c '^files .*\.civitai\.info' "$work/orig.dump")
states=$(grep '^organize_runs ' "$work/orig.dump" | grep -o "'undone'\|'applied'" | sort | tr '\n' ' ')
[ "$have" = "$need " ] && [ "$blobs" -ge 4 ] && [ "$sidecars" -ge 1 ] && [ "$states" = "'applied' 'undone' " ] &&
  ok copy-source-rows || fail copy-source-rows "tables with rows: '$have'; fingerprints $blobs; sidecars $sidecars; runs $states"
[ -s "$work/orig.dump" ] && grep -q 'next line' "$work/orig.dump" && cmp -s "$work/orig.dump" "$work/back.dump" && ok copy-round-trip ||
  { fail copy-round-trip "tables differ after SQLite -> PostgreSQL -> SQLite ($to)"; diff "$work/orig.dump" "$work/back.dump" | head >&2; }
# the copy on PostgreSQL itself: the same row counts, the fingerprints' bytes, and the tools read it
pgc=$(for t in $need; do psql -d copy -At -c "SELECT '$t ' || count(*) FROM $t"; done)
sqc=$(for t in $need; do $py -c 'import sqlite3,sys; print(sys.argv[2], sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM " + sys.argv[2]).fetchone()[0])' "$orig" "$t"; done)
pgfp=$(psql -d copy -At -c "SELECT string_agg(file_id || ':' || md5(fp), ' ' ORDER BY file_id) FROM lineage_fp")
sqfp=$($py -c 'import sqlite3,sys,hashlib; print(" ".join("%d:%s" % (i, hashlib.md5(b).hexdigest()) for i, b in sqlite3.connect(sys.argv[1]).execute("SELECT file_id, fp FROM lineage_fp ORDER BY file_id")))' "$orig")
[ "$pgc" = "$sqc" ] && [ -n "$pgfp" ] && [ "$pgfp" = "$sqfp" ] && ok copy-on-postgresql ||
  fail copy-on-postgresql "counts PostgreSQL '$pgc' SQLite '$sqc'; fingerprints '$pgfp' / '$sqfp'"
l1=$("$CKPT_BIN" --db "$orig" --json lineage ws1)
l2=$("$CKPT_BIN" --db "$base/copy" --json lineage ws1)
[ -n "$l1" ] && [ "$l1" = "$l2" ] && ok copy-lineage || fail copy-lineage "lineage ws1 differs: $l1 / $l2"
"$CKPT_BIN" --db "$orig" export > "$work/e1.json"
"$CKPT_BIN" --db "$base/copy" export > "$work/e2.json"
cmp -s "$work/e1.json" "$work/e2.json" && ok copy-export || fail copy-export "export of the PostgreSQL copy differs"
[ "$("$CKPT_BIN" --db "$base/copy" search great hand --json | jq length)" = 1 ] &&
  [ "$("$CKPT_BIN" --db "$back" search great hand --json | jq length)" = 1 ] &&
  ok copy-search || fail copy-search "search index not rebuilt"
# both stores index the same words (names cut at capitals and digits, whole words marked): every
# search returns the same ids in the same order; the words come from the catalog's own names
# (whole, a prefix, a lower-cased piece), plus phrases, punctuation and hostile texts
qs=("great hand" "safetensors" "mix" "v5" "xl" "lora" "anime mix" "realistic-vision" "RealisticVision"
  "vision_v5" "zzz" "it's" "a:* | b" "'" "(v5" "\\" "anime -mix" "lora & mix")
while IFS= read -r nm; do
  piece=$(printf '%s' "$nm" | sed 's/\([a-z]\)\([A-Z0-9]\).*/\1/' | tr 'A-Z' 'a-z')
  qs+=("$nm" "${nm:0:4}" "$piece")
done < <("$CKPT_BIN" --db "$orig" list --json | jq -r '.[].name' | head -25)
differ="" found=0
for q in "${qs[@]}"; do
  a=$("$CKPT_BIN" --db "$orig" search "$q" --json 2>&1 | jq -c '[.[].id]' 2>&1)
  b=$("$CKPT_BIN" --db "$base/copy" search "$q" --json 2>&1 | jq -c '[.[].id]' 2>&1)
  [ "$a" = "$b" ] || differ="$differ [$q: SQLite $a PostgreSQL $b]"
  [ "$a" != "[]" ] && found=$((found + 1))
done
[ -z "$differ" ] && [ "$found" -ge 20 ] && ok search-same-ids ||
  fail search-same-ids "${#qs[@]} searches, $found found something; differ:$differ"
"$CKPT_BIN" db copy --from "$orig" --to "$base/copy" >/dev/null 2>&1; rc=$?
[ "$rc" = 2 ] && ok copy-refuses-nonempty || fail copy-refuses-nonempty "exit $rc"
# the journal came along: the applied run is undone from the PostgreSQL copy
"$CKPT_BIN" --db "$base/copy" organize --undo -q 2>"$work/undo.err" && [ -d "$work/olib/Lora" ] &&
  [ -z "$(find "$work/oout" -type f 2>/dev/null)" ] && ok copy-organize-undo ||
  fail copy-organize-undo "undo of the copied run: $(cat "$work/undo.err")"
unset CKPTDB_HOST

# ---- the web page sees another machine's change (its cache expires) ---------------------------
"$CKPT_BIN" --db "$mdb" serve --json --listen 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.err" &
spid=$!
for _ in $(seq 50); do grep -q url "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
url=$(jq -r .url "$work/serve.out")
n1=$(curl -s --max-time 10 "${url}api/models" | jq .total)
CKPTDB_HOST=delta "$CKPT_BIN" --db "$mdb" set filmLook 'note=from delta' >/dev/null
seen=
for _ in $(seq 40); do
  note=$(curl -s --max-time 10 "${url}api/models?q=filmLook" | jq -r '.models[] | select(.name == "filmLook") | .note')
  [ "$note" = "from delta" ] && { seen=1; break; }
  sleep 0.25
done
[ -n "$n1" ] && [ "$n1" -gt 0 ] && [ -n "$seen" ] && ok serve-sees-others || fail serve-sees-others "models $n1, note '$note'"
kill "$spid"; wait "$spid" 2>/dev/null

# ---- credentials never printed ----------------------------------------------------------------
pw=$(printf '%s' "$base" | sed 's#postgresql://ckpt@#postgresql://ckpt:s3cr3tpw@#')
out=$("$CKPT_BIN" --db "$pw/nosuchdb" list 2>&1)
case $out in *s3cr3tpw*) fail mask "password printed: $out" ;; *"ckpt:***@"*) ok mask ;; *) fail mask "$out" ;; esac
"$CKPT_BIN" --db "$pw/machines" serve --json --listen 127.0.0.1:0 >"$work/serve2.out" 2>&1 &
spid=$!
for _ in $(seq 50); do grep -q url "$work/serve2.out" 2>/dev/null && break; sleep 0.1; done
url=$(jq -r .url "$work/serve2.out")
shown=$(cat "$work/serve2.out"; curl -s --max-time 10 "${url}api/stats")
kill "$spid"; wait "$spid" 2>/dev/null
case $shown in *s3cr3tpw*) fail mask-serve "password printed: $shown" ;; *"ckpt:***@"*) ok mask-serve ;; *) fail mask-serve "$shown" ;; esac
out=$("$CKPT_BIN" --db "$base/nosuchdb?password=s3cr3tpw" list 2>&1)
case $out in *s3cr3tpw*) fail mask-param "password printed: $out" ;; *) ok mask-param ;; esac
# a role that must give its password: the right one works, a wrong one fails, and neither the
# password nor the URL's shows in any output; nor where nothing listens, nor where libpq quotes
# a malformed URL or token in its message (it does so whole: ckptdb scrubs the password)
bash "$cl" password "$pgdir" pwuser Right9pw
sock=${base#postgresql://ckpt@}
free_port() { $py -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
nport=$(free_port)
run() { # EXPECTED-EXIT ARGS...: run ckptdb, keep its output in $work/shown.EXIT, check the status
  local want=$1 got o
  shift
  o=$("$CKPT_BIN" "$@" 2>&1); got=$?
  printf '%s\n' "$o" >>"$work/shown.$want"
  [ "$got" = "$want" ] || fail "secret-exit" "exit $got (want $want): ckptdb $*: $o"
  printf '%s' "$o"
}
right=$(run 0 --db "postgresql://pwuser:Right9pw@$sock/machines" list --json | jq length)
wrong=$(run 1 --db "postgresql://pwuser:Wr0ngSecret@$sock/machines" list)
run 1 --db "postgresql://pwuser@$sock/machines?password=Wr0ngSecret" show filmLook >/dev/null
run 1 --db "postgresql://ckpt:Wr0ngSecret@127.0.0.1:$nport/machines" list >/dev/null
run 1 --db "postgresql://ckpt:Wr0ng%zzSecret@127.0.0.1:$nport/x" list >/dev/null
run 1 --db "postgresql://ckpt:Wr0ngSecret@[::1/x" list >/dev/null
run 1 --db "postgresql://ckpt@127.0.0.1:$nport/x?password=Wr0ng%zzSecret" list >/dev/null
run 1 db copy --from "$orig" --to "postgresql://pwuser:Wr0ngSecret@$sock/machines" >/dev/null
[ "$right" -gt 0 ] && [[ $wrong == *"password authentication failed"* ]] && ok password-login ||
  fail password-login "right password: '$right' models; wrong: $wrong"
# (every failure says why in one line; "Secret" is in no other word of any message)
all=$(cat "$work/shown.0" "$work/shown.1")
case $all in *Right9pw* | *Wr0ng* | *Secret*) fail secret-never-shown "a password in: $all" ;;
  *) [ "$(grep -c . "$work/shown.1")" = 7 ] && ok secret-never-shown || fail secret-never-shown "want one line each: $all" ;; esac

# ---- TLS: sslmode=require is honoured, never fallen back from --------------------------------
# over the unix socket (libpq would silently go unencrypted there): refused, nothing written
bash "$cl" createdb "$pgdir" tls
out=$("$CKPT_BIN" --db "$base/tls?sslmode=require" scan "$lib/Lora" 2>&1); rc=$?
[ "$rc" = 1 ] && [ "$(grep -c . <<<"$out")" = 1 ] && [[ $out == *"sslmode=require"* ]] &&
  [ "$(psql -d tls -At -c "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")" = 0 ] &&
  ok tls-socket || fail tls-socket "exit $rc: $out"
# over TCP, a server that answers "no TLS" to libpq's SSLRequest, as a PostgreSQL server without
# TLS does, and records any unencrypted startup packet (a fall back): none with sslmode=require
# (a clear one-line error instead), one with sslmode=disable (so the check can see one)
$py - "$work/fake.log" >"$work/fake.port" <<'P' &
import socket, struct, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
log = open(sys.argv[1], "a")
while True:
    c, _ = s.accept()
    c.settimeout(10)
    try:
        while True:
            hdr = c.recv(8, socket.MSG_WAITALL)
            if len(hdr) < 8:
                break
            code = struct.unpack("!ii", hdr)[1]
            if code in (80877103, 80877104):  # SSLRequest, GSSENCRequest: "not supported"
                log.write("tls-request\n"); log.flush(); c.sendall(b"N")
            else:
                log.write("plaintext-startup\n"); log.flush(); break
    except OSError:
        pass
    c.close()
P
fake=$!
for _ in $(seq 50); do [ -s "$work/fake.port" ] && break; sleep 0.1; done
fport=$(cat "$work/fake.port")
out=$("$CKPT_BIN" --db "postgresql://ckpt@127.0.0.1:$fport/x?sslmode=require&connect_timeout=10" list 2>&1); rc=$?
req=$(grep -c tls-request "$work/fake.log"); plain=$(grep -c plaintext-startup "$work/fake.log")
"$CKPT_BIN" --db "postgresql://ckpt@127.0.0.1:$fport/x?sslmode=disable&connect_timeout=10" list >/dev/null 2>&1
plain2=$(grep -c plaintext-startup "$work/fake.log")
kill "$fake"; wait "$fake" 2>/dev/null
[ "$rc" = 1 ] && [ "$(grep -c . <<<"$out")" = 1 ] && [[ $out == *"SSL was required"* ]] &&
  [ "$req" -ge 1 ] && [ "$plain" = 0 ] && [ "$plain2" = 1 ] && ok tls-tcp ||
  fail tls-tcp "exit $rc, TLS requests $req, unencrypted startups $plain then $plain2: $out"

finish
