#!/usr/bin/env bash
# Sanjian's cold sync (the sync bench's (a)) and PouchDB 9's cold
# replication of the same records (peers/pouchdb), one after the other on
# this machine, and the ratio of their records/s (issue #20: >= 4x).
#
#     bash scripts/bench-pouchdb.sh
#
# Needs Node (setup.sh installs it) and npm registry access for
# peers/pouchdb's packages (installed here, idempotently).
set -euo pipefail
cd "$(dirname "$0")/.."

(cd peers/pouchdb && npm ci --no-audit --no-fund --loglevel=error)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

SANJIAN_BENCH_UNTIL=a SANJIAN_BENCH_EXPORT="$out/records.jsonl" \
  cargo bench -p server --bench sync | tee "$out/sanjian.txt"
echo
node peers/pouchdb/bench.js "$out/records.jsonl" | tee "$out/pouchdb.txt"

sanjian=$(awk '/^    records\/s/ {print $2; exit}' "$out/sanjian.txt")
pouch=$(grep -o '[0-9]* records/s' "$out/pouchdb.txt" | awk '{print $1}' | sort -n | tail -1)
echo
awk -v s="$sanjian" -v p="$pouch" 'BEGIN {
  printf "Sanjian %d records/s, PouchDB (its faster run) %d records/s: %.1fx (target >= 4x)\n", s, p, s / p
}'
