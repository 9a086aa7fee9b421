#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests, from Debian's postgresql packages
# (scripts/setup.sh installs them; the system service is never used).
#
# Source it, then:
#   pg_start   # initdb in a temp dir, start on a free 127.0.0.1 port, create
#              # role `sanjian` and database `sanjian_test` (trust auth), export
#              # SANJIAN_TEST_PG_URL=postgres://sanjian@127.0.0.1:PORT/sanjian_test
#   pg_stop    # stop the cluster and remove the temp dir (safe to call twice)
# pg_start adds pg_stop to the EXIT trap, keeping any EXIT trap already set.
# A caller that sets its own EXIT trap *after* pg_start replaces that, so it
# must call pg_stop itself, e.g. trap 'pg_stop; other_cleanup' EXIT.
#
# `bash scripts/pg.sh selftest` starts a cluster, uses it through the URL and
# stops it.

_pg_dir="" _pg_port="" _pg_bin="" _pg_trap=""

# Runs a command as the cluster's owner: `postgres` when we are root (initdb
# refuses root), else ourselves; from the temp dir so cwd is always readable.
_pg_as() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd "$_pg_dir" && runuser -u postgres -- "$@")
  else
    (cd "$_pg_dir" && "$@")
  fi
}

_pg_fail() {
  echo "pg: $*" >&2
  if [ -f "$_pg_dir/log" ]; then tail -n 20 "$_pg_dir/log" >&2; fi
  pg_stop
  return 1
}

pg_start() {
  if [ -n "$_pg_dir" ]; then echo "pg: already running in $_pg_dir" >&2; return 1; fi
  # Newest major version installed.
  _pg_bin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  if [ ! -x "$_pg_bin/initdb" ]; then
    echo "pg: no PostgreSQL under /usr/lib/postgresql (run scripts/setup.sh)" >&2
    return 1
  fi

  _pg_dir=$(mktemp -d /tmp/sanjian-pg.XXXXXX) || return 1
  if [ -z "$_pg_trap" ]; then
    # `trap -p EXIT` prints: trap -- 'CMD' EXIT; keep CMD after pg_stop.
    eval "set -- $(trap -p EXIT)"
    trap "pg_stop${3:+; $3}" EXIT
    _pg_trap=1
  fi
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$_pg_dir" || { _pg_fail "chown failed"; return 1; }; fi

  _pg_as "$_pg_bin/initdb" -D "$_pg_dir/data" -U postgres --auth=trust \
    --encoding=UTF8 --locale=C --no-sync --no-instructions >"$_pg_dir/initdb.log" 2>&1 ||
    { cat "$_pg_dir/initdb.log" >&2; _pg_fail "initdb failed"; return 1; }

  # Pick a free port; another process may grab it before the server binds it,
  # so retry a few times with a fresh one.
  local try started=""
  for try in 1 2 3 4 5; do
    _pg_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') ||
      { _pg_fail "no free port"; return 1; }
    if _pg_as "$_pg_bin/pg_ctl" -D "$_pg_dir/data" -l "$_pg_dir/log" -w -t 60 -s start \
      -o "-p $_pg_port -k $_pg_dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      >/dev/null 2>&1; then
      started=1
      break
    fi
  done
  if [ -z "$started" ]; then _pg_fail "server did not start"; return 1; fi

  "$_pg_bin/psql" "postgres://postgres@127.0.0.1:$_pg_port/postgres" -X -q -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE sanjian LOGIN CREATEDB" -c "CREATE DATABASE sanjian_test OWNER sanjian" ||
    { _pg_fail "creating role/database failed"; return 1; }

  export SANJIAN_TEST_PG_URL="postgres://sanjian@127.0.0.1:$_pg_port/sanjian_test"
}

pg_stop() {
  if [ -z "$_pg_dir" ]; then return 0; fi
  if [ -f "$_pg_dir/data/postmaster.pid" ]; then
    _pg_as "$_pg_bin/pg_ctl" -D "$_pg_dir/data" -m fast -w -s stop >/dev/null 2>&1 ||
      echo "pg: pg_ctl stop failed (log: $_pg_dir/log)" >&2
  fi
  rm -rf "$_pg_dir"
  _pg_dir="" _pg_port=""
  unset SANJIAN_TEST_PG_URL
  return 0
}

_pg_selftest() {
  pg_start
  local dir=$_pg_dir port=$_pg_port out
  echo "selftest: cluster in $dir, URL $SANJIAN_TEST_PG_URL"
  sql() { "$_pg_bin/psql" "$SANJIAN_TEST_PG_URL" -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }

  out=$(sql "SELECT version()")
  echo "selftest: $out"
  sql "CREATE TABLE t (id BIGINT PRIMARY KEY, data BYTEA NOT NULL)"
  sql "INSERT INTO t VALUES (9223372036854775807, decode('00ff7f', 'hex'))"
  out=$(sql "SELECT id || ' ' || encode(data, 'hex') FROM t")
  if [ "$out" != "9223372036854775807 00ff7f" ]; then echo "selftest: FAIL: read back '$out'" >&2; return 1; fi
  echo "selftest: BIGINT/BYTEA round trip ok ($out)"

  pg_stop
  if [ -e "$dir" ]; then echo "selftest: FAIL: $dir still exists" >&2; return 1; fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "selftest: FAIL: port $port still in use" >&2; return 1
  fi
  echo "selftest: stopped, $dir removed, port $port free"
  echo "selftest: OK"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case "${1:-}" in
    selftest) _pg_selftest ;;
    *) echo "usage: bash $0 selftest   (or source it and call pg_start / pg_stop)" >&2; exit 2 ;;
  esac
fi
