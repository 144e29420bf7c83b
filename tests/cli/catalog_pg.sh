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
for d in suite1 suite2 suite3 machines conc killed copy back; do bash "$cl" createdb "$pgdir" "$d"; done
psql() { bash "$cl" psql "$pgdir" "$@"; }
py=/usr/bin/python3

# ---- the whole catalog suite, unchanged, on PostgreSQL --------------------------------------
if CKPT_TEST_DB1=$base/suite1 CKPT_TEST_DB2=$base/suite2 CKPT_TEST_DB3=$base/suite3 \
  bash "$CKPT_SRC/tests/cli/catalog.sh" >"$work/suite.log" 2>&1; then
  ok suite
else
  fail suite "tests/cli/catalog.sh against PostgreSQL:"; cat "$work/suite.log" >&2
fi

finish
