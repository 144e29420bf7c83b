#!/usr/bin/env bash
# Catalog reliability: a scan killed with SIGKILL at random moments leaves a database that opens,
# passes PRAGMA integrity_check and keeps every committed record, and the next scan completes;
# a locked database and a folder vanishing mid-scan give clear messages; a scan and lists at
# the same time both work.
. "$(dirname "$0")/common.bash"
work=$(mktemp -d /tmp/ckpt-catalog-rel.XXXXXX)
trap 'rm -rf "$work"' EXIT
py=/usr/bin/python3
export CKPTDB_HOST=testhost
$py "$CKPT_SRC/tests/catalog/many.py" "$work/lib" 240 262144 --per-dir 60
total=240
# (a scan killed before its first migration committed leaves a database without tables: 0 rows)
count() { $py -c "
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
try:
    print(c.execute('select count(*) from files').fetchone()[0])
except sqlite3.OperationalError:
    print(0)" "$1"; }
integrity() { $py -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute('pragma integrity_check').fetchone()[0])" "$1"; }

for round in 1 2 3 4 5; do
  db=$work/kill$round.sqlite
  "$CKPT_BIN" --db "$db" scan -q "$work/lib" >/dev/null 2>&1 &
  pid=$!
  # a different moment each round: 20 ms .. 300 ms
  sleep "0.$(printf '%02d' $(( (RANDOM % 28) + 2 )))"
  kill -KILL $pid 2>/dev/null
  wait $pid 2>/dev/null
  [ -e "$db" ] || { ok "kill$round-early"; continue; }   # killed before the database existed
  [ "$(integrity "$db")" = ok ] && ok "kill$round-integrity" || fail "kill$round-integrity" "$(integrity "$db")"
  before=$(count "$db")
  out=$("$CKPT_BIN" --db "$db" --json scan "$work/lib" 2>&1)
  rc=$?
  unchanged=$(echo "$out" | $py -c 'import json,sys; print(json.load(sys.stdin)["unchanged"])' 2>/dev/null)
  added=$(echo "$out" | $py -c 'import json,sys; print(json.load(sys.stdin)["new"])' 2>/dev/null)
  after=$(count "$db")
  if [ $rc = 0 ] && [ "$unchanged" = "$before" ] && [ $((unchanged + added)) = $total ] && [ "$after" = $total ]; then
    ok "kill$round-resume"
  else
    fail "kill$round-resume" "rc $rc, $before before, then unchanged=$unchanged new=$added, $after rows: $out"
  fi
done

# a locked database: a clear message, exit 1, nothing changed
db=$work/lock.sqlite
"$CKPT_BIN" --db "$db" scan -q --no-hash "$work/lib/d000" >/dev/null
$py - "$db" "$work/locked" <<'P' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").close()
time.sleep(3)
P
lockpid=$!
for _ in $(seq 1 100); do [ -e "$work/locked" ] && break; sleep 0.1; done
out=$(CKPTDB_BUSY_TIMEOUT_MS=200 "$CKPT_BIN" --db "$db" set model00001 rating=3 2>&1)
rc=$?
wait $lockpid
if [ $rc = 1 ] && echo "$out" | grep -q "locked by another process"; then ok locked; else fail locked "rc $rc: $out"; fi
r=$("$CKPT_BIN" --db "$db" show model00001 --json | $py -c 'import json,sys; print(json.load(sys.stdin)["rating"])')
[ "$r" = None ] && ok locked-unchanged || fail locked-unchanged "rating $r"

# a scan and lists at the same time (WAL: readers do not wait for the writer)
db=$work/both.sqlite
"$CKPT_BIN" --db "$db" scan -q --no-hash "$work/lib/d000" >/dev/null
"$CKPT_BIN" --db "$db" scan -q "$work/lib" >/dev/null 2>&1 &
spid=$!
bad=0
for i in $(seq 1 15); do
  "$CKPT_BIN" --db "$db" list --json >/dev/null 2>"$work/err" || { bad=1; cat "$work/err" >&2; }
done
wait $spid
src=$?
[ $bad = 0 ] && [ $src = 0 ] && ok concurrent || fail concurrent "list failed ($bad) or scan exit $src"

# a folder vanishing mid-scan: no crash, recorded files kept, database intact
db=$work/vanish.sqlite
cp -r "$work/lib" "$work/lib2"
"$CKPT_BIN" --db "$db" scan -q "$work/lib2" >/dev/null 2>"$work/err" &
spid=$!
sleep 0.1
rm -rf "$work/lib2/d002" "$work/lib2/d003"
wait $spid
rc=$?
[ $rc -le 1 ] && [ "$(integrity "$db")" = ok ] && ok vanish || fail vanish "exit $rc: $(cat "$work/err")"
out=$("$CKPT_BIN" --db "$db" scan "$work/lib2" 2>&1)
[ $? = 0 ] && ok vanish-rescan || fail vanish-rescan "$out"
# a root that does not exist
out=$("$CKPT_BIN" --db "$db" scan "$work/nope" 2>&1)
rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "nope: cannot scan: No such file" && ok no-root || fail no-root "rc $rc: $out"
finish
