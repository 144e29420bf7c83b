#!/usr/bin/env bash
# The catalog on PostgreSQL, in a throwaway cluster (tests/pg/cluster.sh: initdb in a temporary
# folder, a unix socket there, no TCP port; stopped and removed at the end, also on failure):
# the whole catalog suite (tests/cli/catalog.sh) against it, two machines scanning one shared
# folder under two host names, two scanners and an editor at once, a connection killed
# mid-scan, db copy to and from SQLite, and no password in any message. Skipped (77) when no
# PostgreSQL server is installed.
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
orig=$work/orig.sqlite back=$work/back.sqlite
export CKPTDB_HOST=testhost
"$CKPT_BIN" --db "$orig" scan -q "$lib" 2>/dev/null
"$CKPT_BIN" --db "$orig" set animeMix_v3 output=anime realism=2.5D,2D rating=5 'note=great hands' settings.cfg=7.5 settings.sampler='DPM++ 2M' >/dev/null
"$CKPT_BIN" --db "$orig" tag animeMix_v3 +favourite +'two words' >/dev/null
# text that COPY's text format must escape (tab, newline, carriage return, backslash)
"$CKPT_BIN" --db "$orig" set realisticVision_v51 $'note=tab\there\nnext line\r\\N back\\slash' >/dev/null
"$CKPT_BIN" --db "$orig" accept realisticVision_v51 >/dev/null
CKPTDB_HOST=othermachine "$CKPT_BIN" --db "$orig" scan -q "$lib/Lora" 2>/dev/null
# a checkpoint with a lineage fingerprint (blob columns)
"$CKPT_BIN" --db "$orig" scan -q "$CKPT_FIXTURES/lineage/sd1/base.safetensors" 2>/dev/null
to=$("$CKPT_BIN" --json db copy --from "$orig" --to "$base/copy")
"$CKPT_BIN" --json db copy --from "$base/copy" --to "$back" >/dev/null
dump() {
  $py - "$1" <<'P'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for t in ("models", "files", "tags", "suggestions", "parents", "lineage", "lineage_fp"):
    for row in sorted(db.execute(f"SELECT * FROM {t}"), key=repr):
        print(t, repr(row))
P
}
dump "$orig" > "$work/orig.dump"
dump "$back" > "$work/back.dump"
[ -s "$work/orig.dump" ] && grep -q "^lineage_fp " "$work/orig.dump" && grep -q 'next line' "$work/orig.dump" && cmp -s "$work/orig.dump" "$work/back.dump" && ok copy-round-trip ||
  { fail copy-round-trip "tables differ after SQLite -> PostgreSQL -> SQLite ($to)"; diff "$work/orig.dump" "$work/back.dump" | head >&2; }
"$CKPT_BIN" --db "$orig" export > "$work/e1.json"
"$CKPT_BIN" --db "$base/copy" export > "$work/e2.json"
cmp -s "$work/e1.json" "$work/e2.json" && ok copy-export || fail copy-export "export of the PostgreSQL copy differs"
[ "$("$CKPT_BIN" --db "$base/copy" search great hand --json | jq length)" = 1 ] &&
  [ "$("$CKPT_BIN" --db "$back" search great hand --json | jq length)" = 1 ] &&
  ok copy-search || fail copy-search "search index not rebuilt"
"$CKPT_BIN" db copy --from "$orig" --to "$base/copy" >/dev/null 2>&1; rc=$?
[ "$rc" = 2 ] && ok copy-refuses-nonempty || fail copy-refuses-nonempty "exit $rc"
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

finish
