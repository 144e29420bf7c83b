#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: `cluster.sh start DIR` runs initdb into DIR/data
# and starts a server listening only on a unix socket in DIR (no TCP port), then prints the base
# URL (postgresql://ckpt@%2F...DIR) to which a test appends /DBNAME; `cluster.sh createdb DIR NAME`
# makes a database; `cluster.sh clone DIR FROM TO` copies one; `cluster.sh password DIR ROLE PW`
# adds a role that logs in with a password; `cluster.sh stop DIR` stops the server and removes
# DIR. initdb refuses to run as root, so as root the server runs as the
# postgres user (DIR is given to it). Exit 77 (skip) when no PostgreSQL server binaries are
# installed.
set -euo pipefail
cmd=$1 dir=$2
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] && [ -x "$bin/initdb" ] || { echo "cluster.sh: no PostgreSQL server installed" >&2; exit 77; }
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
# url [SOCKETDIR]: the base URL of the server whose socket is in SOCKETDIR (default DIR)
url() { printf 'postgresql://ckpt@%s' "$(printf '%s' "${1:-$dir}" | sed 's#/#%2F#g')"; }
case $cmd in
start)
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  as_owner "$bin/initdb" -D "$dir/data" -U ckpt -A trust --no-sync -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses='' -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60" \
    start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
  url; echo
  ;;
createdb)
  "$bin/psql" -X -q -h "$dir" -U ckpt -d postgres -c "CREATE DATABASE \"$3\"" >/dev/null
  ;;
clone)
  # `cluster.sh clone DIR FROM TO`: TO becomes a copy of database FROM (replaced if it exists;
  # sessions still connected to it are ended), the way a test copies an SQLite catalog file.
  # FILE_COPY (PostgreSQL 15+) copies the files after a checkpoint, which fsync=off makes cheap:
  # measured 0.4 s a copy against 0.7 s for the default WAL_LOG
  strategy=
  [ "$(basename "$(dirname "$bin")" | cut -d. -f1)" -ge 15 ] 2>/dev/null && strategy=" STRATEGY FILE_COPY"
  PGOPTIONS='-c client_min_messages=warning' "$bin/psql" -X -q -h "$dir" -U ckpt -d postgres \
    -c "DROP DATABASE IF EXISTS \"$4\" WITH (FORCE)" \
    -c "CREATE DATABASE \"$4\" TEMPLATE \"$3\"$strategy" >/dev/null
  ;;
password)
  # `cluster.sh password DIR ROLE PASSWORD`: a superuser ROLE that must give PASSWORD (SCRAM)
  # on the socket, every other role still trusted
  "$bin/psql" -X -q -h "$dir" -U ckpt -d postgres -c "CREATE ROLE \"$3\" SUPERUSER LOGIN PASSWORD '$4'" >/dev/null
  hba=$dir/data/pg_hba.conf
  { echo "local all $3 scram-sha-256"; cat "$hba"; } >"$dir/hba.new"
  cat "$dir/hba.new" >"$hba" # in place: the server's user keeps owning it
  rm -f "$dir/hba.new"
  "$bin/psql" -X -q -h "$dir" -U ckpt -d postgres -At -c "SELECT pg_reload_conf()" >/dev/null
  ;;
psql)
  shift 2
  "$bin/psql" -X -q -h "$dir" -U ckpt "$@"
  ;;
pooler)
  # `cluster.sh pooler DIR NAME`: pgbouncer (Debian's pgbouncer, for bench/scale.sh only) in
  # session mode on a unix socket in DIR/pgb, port 6432, in front of database NAME; prints its
  # URL. The server process and its caches outlive each client's connection, which is what a
  # studio running many short commands against one server would set up. Exit 77 without it.
  pgb=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
  [ -x "$pgb" ] || { echo "cluster.sh: pgbouncer is not installed (apt-get install pgbouncer)" >&2; exit 77; }
  mkdir -p "$dir/pgb"
  cat >"$dir/pgb/pgb.ini" <<EOF_INI
[databases]
$3 = host=$dir dbname=$3 user=ckpt
[pgbouncer]
listen_addr =
unix_socket_dir = $dir/pgb
listen_port = 6432
auth_type = trust
auth_file = $dir/pgb/users.txt
pool_mode = session
server_reset_query = DISCARD ALL
logfile = $dir/pgb/pgb.log
pidfile = $dir/pgb/pgb.pid
EOF_INI
  echo '"ckpt" ""' >"$dir/pgb/users.txt"
  [ "$(id -u)" = 0 ] && chown -R postgres "$dir/pgb"
  as_owner "$pgb" -d "$dir/pgb/pgb.ini" >/dev/null || { cat "$dir/pgb/pgb.log" >&2; exit 1; }
  url "$dir/pgb"; echo ":6432/$3"
  ;;
stop)
  [ -f "$dir/pgb/pgb.pid" ] && kill "$(cat "$dir/pgb/pgb.pid")" 2>/dev/null || true
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  ;;
*)
  echo "usage: cluster.sh start|createdb|clone|password|psql|pooler|stop DIR [NAME...]" >&2; exit 2 ;;
esac
