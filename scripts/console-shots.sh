#!/usr/bin/env bash
# Screenshots of every county console view on the demo county (20,000
# members, seed 1, as scripts/run.sh makes it), at a desktop's and an
# upright tablet's width, into docs/screenshots/console/demo/, with each
# view's height in screens. Needs scripts/setup.sh's chromium and npm
# packages (bash scripts/setup.sh, the default mode).
#
#   bash scripts/console-shots.sh [MEMBERS] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
MEMBERS=${1:-20000}
SEED=${2:-1}
PORT=${PORT:-18381}
cargo build -q -p sanjian
bin=$PWD/target/debug/sanjian
out=$PWD/docs/screenshots/console/demo
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
"$bin" generate --members "$MEMBERS" --seed "$SEED" --db "$work/county.db" >/dev/null 2>&1
"$bin" import --data "$work/server" --from "$work/county.db" >/dev/null 2>&1
"$bin" serve --data "$work/server" --listen "127.0.0.1:$PORT" >"$work/out" 2>"$work/log" &
server=$!
for _ in $(seq 1 60); do grep -q '^listening' "$work/out" 2>/dev/null && break; sleep 1; done
node tests/e2e/console-shots.mjs "http://127.0.0.1:$PORT" admin "$(cat "$work/server/initial-admin-password")" "$out"
