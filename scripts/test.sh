#!/usr/bin/env bash
# Every test: formatting, lints, unit/integration/property tests, doc tests.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
# Builds and fuzz targets need room; say how much there is, to explain a
# "No space left on device" at once.
echo "== disk: $(df -h --output=avail . | tail -1 | tr -d ' ') free where the project is built"

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo deny: licences, duplicate versions (listed), sources; advisories (deny.toml)"
cargo deny check licenses bans sources
# The RustSec advisory database is fetched from GitHub, which this machine's
# network may not reach: then advisories are reported as not checked;
# an advisory found always fails.
if advisories=$(cargo deny check advisories 2>&1); then
  echo "cargo deny: advisories ok"
elif grep -q "failed to fetch advisory database" <<<"$advisories"; then
  echo "cargo deny: the RustSec advisory database cannot be fetched from here; advisories NOT checked" >&2
else
  echo "$advisories" >&2
  exit 1
fi
echo "== PostgreSQL (a throwaway cluster for the server tests)"
. scripts/pg.sh
pg_start
echo "== S3-compatible object store (a throwaway s3s-fs for the blob tests)"
. scripts/s3.sh
s3_start
echo "== cargo nextest"
cargo nextest run --workspace --no-fail-fast
echo "== doc tests"
cargo test --workspace --doc
echo "== fuzz targets, briefly (scripts/fuzz.sh long for the long runs)"
bash scripts/fuzz.sh smoke
