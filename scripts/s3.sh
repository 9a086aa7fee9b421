#!/usr/bin/env bash
# A throwaway S3-compatible object store for tests: s3s-fs (the s3s
# project's S3 server over a directory; scripts/setup.sh installs it with
# cargo), with its own access keys, on a free 127.0.0.1 port.
#
# Source it, then:
#   s3_start   # start it over a temp dir; export SANJIAN_TEST_S3_ENDPOINT,
#              # SANJIAN_TEST_S3_ACCESS_KEY, SANJIAN_TEST_S3_SECRET_KEY
#   s3_stop    # stop it and remove the temp dir (safe to call twice)
# s3_start adds s3_stop to the EXIT trap, keeping any EXIT trap already set.

_s3_dir="" _s3_pid="" _s3_trap=""

s3_start() {
  if [ -n "$_s3_dir" ]; then echo "s3: already running in $_s3_dir" >&2; return 1; fi
  if ! command -v s3s-fs >/dev/null 2>&1; then
    echo "s3: s3s-fs is not installed (run scripts/setup.sh)" >&2
    return 1
  fi
  _s3_dir=$(mktemp -d /tmp/sanjian-s3.XXXXXX) || return 1
  mkdir -p "$_s3_dir/root"
  if [ -z "$_s3_trap" ]; then
    eval "set -- $(trap -p EXIT)"
    trap "s3_stop${3:+; $3}" EXIT
    _s3_trap=1
  fi
  local port key secret
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  key="sanjian-test-$RANDOM"
  secret=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  s3s-fs --host 127.0.0.1 --port "$port" --access-key "$key" --secret-key "$secret" "$_s3_dir/root" \
    >"$_s3_dir/log" 2>&1 &
  _s3_pid=$!
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      export SANJIAN_TEST_S3_ENDPOINT="http://127.0.0.1:$port"
      export SANJIAN_TEST_S3_ACCESS_KEY="$key"
      export SANJIAN_TEST_S3_SECRET_KEY="$secret"
      export SANJIAN_TEST_S3_ROOT="$_s3_dir/root"
      echo "s3: s3s-fs on 127.0.0.1:$port"
      return 0
    fi
    sleep 0.1
  done
  echo "s3: s3s-fs did not start" >&2
  tail -n 20 "$_s3_dir/log" >&2
  s3_stop
  return 1
}

s3_stop() {
  # Never fails: it runs in EXIT traps under `set -e` (the killed server's
  # status, 143, must not end the trap before the other cleanups).
  if [ -n "$_s3_pid" ]; then
    kill "$_s3_pid" 2>/dev/null || true
    wait "$_s3_pid" 2>/dev/null || true
  fi
  if [ -n "$_s3_dir" ]; then rm -rf "$_s3_dir" || true; fi
  _s3_pid="" _s3_dir=""
  return 0
}
