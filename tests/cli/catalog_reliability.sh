#!/usr/bin/env bash
# Catalog reliability: a scan killed with SIGKILL at random moments leaves a database that opens,
# passes PRAGMA integrity_check and keeps every committed record, and the next scan completes;
# a locked database and a folder vanishing mid-scan give clear messages; a scan and lists at
# the same time both work; a full disk and a read-only file system (small tmpfs mounts, when
# this runs as root) give a clear one-line message and exit 1, and lose nothing recorded.
. "$(dirname "$0")/common.bash"
work=$(mktemp -d /tmp/ckpt-catalog-rel.XXXXXX)
trap 'umount "$work/disk" 2>/dev/null; rm -rf "$work"' EXIT
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
# a full disk, then a read-only file system: a 2 MiB tmpfs holding the catalog
mkdir "$work/disk"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=2m tmpfs "$work/disk" 2>/dev/null; then
  db=$work/disk/c.sqlite
  "$CKPT_BIN" --db "$db" scan -q --no-hash "$work/lib/d000" >/dev/null
  "$CKPT_BIN" --db "$db" set model00001 rating=4 note="kept through a full disk" >/dev/null
  dd if=/dev/zero of="$work/disk/filler" bs=4k 2>/dev/null # fill it to the last block
  out=$("$CKPT_BIN" --db "$db" scan --no-hash "$work/lib" 2>&1)
  rc=$?
  if [ $rc = 1 ] && [ "$(echo "$out" | wc -l)" = 1 ] && echo "$out" | grep -q "c.sqlite: disk full"; then
    ok full-scan
  else
    fail full-scan "rc $rc: $out"
  fi
  out=$("$CKPT_BIN" --db "$db" set model00002 rating=2 2>&1)
  rc=$?
  [ $rc = 1 ] && echo "$out" | grep -q "disk full" && ok full-set || fail full-set "rc $rc: $out"
  # reading still works while the disk is full
  n=$("$CKPT_BIN" --db "$db" list --json 2>&1 | $py -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>&1)
  [ "$n" = 60 ] && ok full-list || fail full-list "$n"
  r=$("$CKPT_BIN" --db "$db" show model00001 --json 2>&1 | $py -c 'import json,sys; m=json.load(sys.stdin); print(m["rating"], m["note"])' 2>&1)
  [ "$r" = "4 kept through a full disk" ] && ok full-chosen-kept || fail full-chosen-kept "$r"
  rm -f "$work/disk/filler"
  [ "$(count "$db")" = 60 ] && ok full-kept || fail full-kept "$(count "$db") records, not 60"
  [ "$(integrity "$db")" = ok ] && ok full-integrity || fail full-integrity "$(integrity "$db")"
  out=$("$CKPT_BIN" --db "$db" --json scan --no-hash "$work/lib" 2>&1)
  [ $? = 0 ] && [ "$(count "$db")" = $total ] && ok full-then-room || fail full-then-room "$out"
  # read-only: writes refused with the reason, reads still work
  mount -o remount,ro "$work/disk"
  out=$("$CKPT_BIN" --db "$db" set model00001 rating=1 2>&1)
  rc=$?
  if [ $rc = 1 ] && [ "$(echo "$out" | wc -l)" = 1 ] && echo "$out" | grep -q "read-only here (Read-only file system"; then
    ok ro-set
  else
    fail ro-set "rc $rc: $out"
  fi
  mkdir -p "$work/extra"
  cp "$work/lib/d000/model00000.safetensors" "$work/extra/another.safetensors"
  out=$("$CKPT_BIN" --db "$db" scan --no-hash "$work/extra" 2>&1)
  [ $? = 1 ] && echo "$out" | grep -q "read-only here" && ok ro-scan || fail ro-scan "$out"
  n=$("$CKPT_BIN" --db "$db" list --json 2>&1 | $py -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>&1)
  [ "$n" = $total ] && ok ro-list || fail ro-list "$n"
  r=$("$CKPT_BIN" --db "$db" show model00001 --json | $py -c 'import json,sys; print(json.load(sys.stdin)["rating"])')
  [ "$r" = 4 ] && ok ro-unchanged || fail ro-unchanged "rating $r"
  umount "$work/disk"
else
  # not root (or no mount allowed): a read-only catalog by permissions
  db=$work/ro/c.sqlite
  mkdir -p "$work/ro"
  "$CKPT_BIN" --db "$db" scan -q --no-hash "$work/lib/d000" >/dev/null
  chmod a-w "$work/ro" "$db"
  out=$("$CKPT_BIN" --db "$db" set model00001 rating=1 2>&1)
  rc=$?
  [ $rc = 1 ] && echo "$out" | grep -q "read-only here" && ok ro-set || fail ro-set "rc $rc: $out"
  chmod u+w "$work/ro" "$db"
  echo "note: the full-disk test needs root (a tmpfs mount); skipped" >&2
fi
finish
