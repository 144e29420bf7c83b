#!/usr/bin/env bash
# The catalog-backed tools on PostgreSQL, in a throwaway cluster (tests/pg/cluster.sh, as
# tests/cli/catalog_pg.sh; its own, so that the two PostgreSQL tests can run side by side): the
# lineage, sidecars, views and organize CLI suites, unchanged, each given empty databases
# through CKPT_TEST_DB1/2 instead of its temporary SQLite files (organize also gets the cluster,
# CKPT_TEST_PGDIR, to copy its pristine catalog as a template database). Skipped (77) when no
# PostgreSQL server is installed. (lineage_eval.sh uses no catalog.) Then the catalog unit tests
# (tests/unit/test_catalog*.c) with CKPT_TEST_PG_URL.
. "$(dirname "$0")/common.bash"
cl=$CKPT_SRC/tests/pg/cluster.sh
pgdir=$(mktemp -d /tmp/ckpt-pgt.XXXXXX)
rmdir "$pgdir"
work=$(mktemp -d /tmp/ckpt-pgt-work.XXXXXX)
trap 'bash "$cl" stop "$pgdir"; rm -rf "$work"' EXIT
base=$(bash "$cl" start "$pgdir") || { rc=$?; [ "$rc" = 77 ] && exit 77; echo "cannot start PostgreSQL" >&2; exit 1; }
for d in lin1 lin2 side1 side2 views org1 org2; do bash "$cl" createdb "$pgdir" "$d"; done

suite() { # NAME SCRIPT [VAR=VALUE...]: run a CLI suite with the given environment
  local name=$1 script=$2 t0=$SECONDS
  shift 2
  if env "$@" bash "$CKPT_SRC/tests/cli/$script" >"$work/$name.log" 2>&1; then
    ok "$name"
  else
    fail "$name" "tests/cli/$script against PostgreSQL:"; cat "$work/$name.log" >&2
  fi
  echo "$name: $(tail -1 "$work/$name.log") in $((SECONDS - t0)) s"
}
suite lineage lineage.sh CKPT_TEST_DB1="$base/lin1" CKPT_TEST_DB2="$base/lin2"
suite sidecars sidecars.sh CKPT_TEST_DB1="$base/side1" CKPT_TEST_DB2="$base/side2"
suite views views.sh CKPT_TEST_DB1="$base/views"
suite organize organize.sh CKPT_TEST_DB1="$base/org1" CKPT_TEST_DB2="$base/org2" CKPT_TEST_PGDIR="$pgdir"
# the catalog unit tests (cmocka): each test in a database of its own, made and dropped by it
for t in test_catalog test_catalog_db; do
  t0=$SECONDS
  if CKPT_TEST_PG_URL=$base "$CKPT_BUILD/tests/$t" >"$work/$t.log" 2>&1; then ok "$t"; else
    fail "$t" "against PostgreSQL:"; cat "$work/$t.log" >&2
  fi
  echo "$t: $(grep -c '^\[       OK \]' "$work/$t.log") passed in $((SECONDS - t0)) s"
done
finish
