#!/usr/bin/env bash
# A throwaway PostgreSQL pair with automatic failover, from Debian's
# pg_auto_failover (postgresql-15-auto-failover, installed by
# scripts/setup.sh): a monitor, a primary and a synchronous standby, each
# supervised by its `pg_autoctl` keeper, all on 127.0.0.1.
#
# Source it, then:
#   pgaf_start          # exports SANJIAN_TEST_PGAF_URL, a multi-host URL that
#                       # asks for the writable node:
#                       #   postgres://sanjian@127.0.0.1:P1,127.0.0.1:P2/sanjian?target_session_attrs=read-write
#   pgaf_primary        # prints the name of the node that is primary now
#   pgaf_kill_primary   # SIGKILLs the primary's keeper and its PostgreSQL (a
#                       # machine that died), prints the killed node's name
#   pgaf_wait_primary N # waits until node N is primary (seconds it took)
#   pgaf_stop           # stops everything, removes the temp dir
#
# The monitor is tuned to notice a dead node within about two seconds (its
# defaults take twenty) and to wait three seconds, not thirty, for a primary
# it cannot reach to demote itself before it promotes the standby (the wait
# that guards against two primaries when the network, not the machine,
# failed); replication is synchronous (pg_auto_failover's default with one
# standby), so a commit the server saw is on the standby.
#
# `bash scripts/pgaf.sh selftest` starts the pair, writes, kills the
# primary, checks the standby took over with the write, and stops.

_pgaf_dir="" _pgaf_bin=""

_pgaf_as() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd "$_pgaf_dir" && runuser -u postgres -- "$@")
  else
    (cd "$_pgaf_dir" && "$@")
  fi
}

_pgaf_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Starts `pg_autoctl run` for a node in its own process group.
_pgaf_run() {
  local name=$1
  if [ "$(id -u)" -eq 0 ]; then
    (cd "$_pgaf_dir" && setsid runuser -u postgres -- pg_autoctl run --pgdata "$_pgaf_dir/$name" \
      >>"$_pgaf_dir/$name.log" 2>&1 &)
  else
    (cd "$_pgaf_dir" && setsid pg_autoctl run --pgdata "$_pgaf_dir/$name" \
      >>"$_pgaf_dir/$name.log" 2>&1 &)
  fi
}

_pgaf_state() {
  _pgaf_as pg_autoctl show state --pgdata "$_pgaf_dir/monitor" --json 2>/dev/null
}

# Waits until node $1 reports state $2 (current and assigned), up to $3 s.
_pgaf_wait_state() {
  local node=$1 want=$2 limit=${3:-120} i
  for ((i = 0; i <= limit * 4; i++)); do
    [ "$i" -gt 0 ] && sleep 0.25
    if _pgaf_state | python3 -c '
import json, sys
node, want = sys.argv[1], sys.argv[2]
for n in json.load(sys.stdin):
    if n["nodename"] == node and n["current_group_state"] == want and n["assigned_group_state"] == want:
        sys.exit(0)
sys.exit(1)' "$node" "$want"; then
      return 0
    fi
  done
  echo "pgaf: $node did not reach $want in ${limit}s" >&2
  tail -n 20 "$_pgaf_dir/$node.log" >&2
  return 1
}

pgaf_start() {
  if [ -n "$_pgaf_dir" ]; then echo "pgaf: already running in $_pgaf_dir" >&2; return 1; fi
  _pgaf_bin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  command -v pg_autoctl >/dev/null || { echo "pgaf: no pg_autoctl (run scripts/setup.sh)" >&2; return 1; }
  _pgaf_dir=$(mktemp -d /tmp/sanjian-pgaf.XXXXXX) || return 1
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$_pgaf_dir"; fi
  local pm p1 p2
  pm=$(_pgaf_port) p1=$(_pgaf_port) p2=$(_pgaf_port)
  export PG_CONFIG="$_pgaf_bin/pg_config"
  _pgaf_as pg_autoctl create monitor --pgdata "$_pgaf_dir/monitor" --pgport "$pm" --hostname 127.0.0.1 \
    --auth trust --no-ssl --pgctl "$_pgaf_bin/pg_ctl" >"$_pgaf_dir/monitor.log" 2>&1 ||
    { tail -n 20 "$_pgaf_dir/monitor.log" >&2; return 1; }
  _pgaf_run monitor
  local uri="" i
  for ((i = 0; i < 120; i++)); do
    uri=$(_pgaf_as pg_autoctl show uri --pgdata "$_pgaf_dir/monitor" --formation monitor 2>/dev/null) && [ -n "$uri" ] &&
      _pgaf_as "$_pgaf_bin/psql" "$uri" -Atc 'select 1' >/dev/null 2>&1 && break
    sleep 0.25
  done
  [ -n "$uri" ] || { echo "pgaf: the monitor did not start" >&2; return 1; }
  # Notice a dead node in about two seconds.
  local setting
  for setting in health_check_period=500 health_check_timeout=500 health_check_max_retries=1 \
    health_check_retry_delay=200 node_considered_unhealthy_timeout=1500 primary_demote_timeout=3000; do
    _pgaf_as "$_pgaf_bin/psql" -h 127.0.0.1 -p "$pm" -U postgres -d pg_auto_failover -q -v ON_ERROR_STOP=1 \
      -c "ALTER SYSTEM SET pgautofailover.${setting%%=*} = ${setting#*=}" >/dev/null || return 1
  done
  _pgaf_as "$_pgaf_bin/psql" -h 127.0.0.1 -p "$pm" -U postgres -d pg_auto_failover -q \
    -c "SELECT pg_reload_conf()" >/dev/null || return 1
  local n port
  for n in 1 2; do
    port=$p1
    [ "$n" = 2 ] && port=$p2
    _pgaf_as pg_autoctl create postgres --pgdata "$_pgaf_dir/node$n" --pgport "$port" --hostname 127.0.0.1 \
      --name "node$n" --auth trust --no-ssl --pgctl "$_pgaf_bin/pg_ctl" --monitor "$uri" \
      --dbname sanjian >"$_pgaf_dir/node$n.log" 2>&1 ||
      { tail -n 20 "$_pgaf_dir/node$n.log" >&2; return 1; }
    _pgaf_run "node$n"
    if [ "$n" = 1 ]; then
      _pgaf_wait_state node1 single || return 1
      # The keeper may still be restarting PostgreSQL: a few tries.
      for ((i = 0; i < 40; i++)); do
        _pgaf_as "$_pgaf_bin/psql" -h 127.0.0.1 -p "$p1" -U postgres -d sanjian -q -v ON_ERROR_STOP=1 \
          -c "CREATE ROLE sanjian LOGIN SUPERUSER" >/dev/null 2>&1 && break
        sleep 0.25
      done
      [ "$i" -lt 40 ] || { echo "pgaf: node1 does not answer" >&2; return 1; }
    fi
  done
  _pgaf_wait_state node1 primary || return 1
  _pgaf_wait_state node2 secondary || return 1
  export SANJIAN_TEST_PGAF_URL="postgres://sanjian@127.0.0.1:$p1,127.0.0.1:$p2/sanjian?target_session_attrs=read-write"
  export SANJIAN_TEST_PGAF_DIR="$_pgaf_dir"
}

pgaf_primary() {
  _pgaf_state | python3 -c '
import json, sys
for n in json.load(sys.stdin):
    if n["current_group_state"] == "primary":
        print(n["nodename"])'
}

# SIGKILLs every process of node $1: its keeper, the keeper's services
# (which start their own sessions) and its PostgreSQL.
_pgaf_kill_node() {
  local node_dir="$_pgaf_dir/$1" pid
  for pid in $(pgrep -f -- "$node_dir"; grep -lsz -- "^PGDATA=$node_dir\$" /proc/[0-9]*/environ | cut -d/ -f3); do
    kill -KILL "$pid" 2>/dev/null || true
  done
}

pgaf_kill_primary() {
  local p
  p=$(pgaf_primary)
  [ -n "$p" ] || { echo "pgaf: no primary" >&2; return 1; }
  _pgaf_kill_node "$p"
  echo "$p"
}

# Waits until node $1 accepts writes alone (`wait_primary`: its standby is
# gone) or with a standby (`primary`); prints the milliseconds it took.
pgaf_wait_primary() {
  local start now i
  start=$(date +%s%3N)
  for ((i = 0; i < 480; i++)); do
    if _pgaf_wait_state "$1" wait_primary 0 2>/dev/null || _pgaf_wait_state "$1" primary 0 2>/dev/null; then
      now=$(date +%s%3N)
      echo $((now - start))
      return 0
    fi
    sleep 0.25
  done
  return 1
}

pgaf_stop() {
  [ -n "$_pgaf_dir" ] || return 0
  local n
  for n in node1 node2 monitor; do _pgaf_kill_node "$n"; done
  pkill -KILL -f -- "$_pgaf_dir" 2>/dev/null || true
  # PostgreSQL's children leave a moment after their postmaster.
  local t
  for t in 1 2 3 4 5 6 7 8; do
    rm -rf "$_pgaf_dir" 2>/dev/null && break
    sleep 0.5
  done
  _pgaf_dir=""
  return 0
}

if [ "${BASH_SOURCE[0]}" = "$0" ] && [ "${1:-}" = selftest ]; then
  set -e
  trap 'set +e; pgaf_stop' EXIT
  pgaf_start
  echo "url: $SANJIAN_TEST_PGAF_URL"
  psql "$SANJIAN_TEST_PGAF_URL" -q -c "CREATE TABLE t (x int); INSERT INTO t VALUES (42)"
  killed=$(pgaf_kill_primary)
  echo "killed $killed"
  other=node2
  [ "$killed" = node2 ] && other=node1
  took=$(pgaf_wait_primary "$other")
  echo "the standby took over in $took ms"
  [ "$(psql "$SANJIAN_TEST_PGAF_URL" -Atc 'SELECT x FROM t')" = 42 ]
  echo "selftest: ok"
  exit 0
fi
