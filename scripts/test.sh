#!/usr/bin/env bash
# Every test: formatting, lints, unit/integration/property tests, doc tests.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
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
