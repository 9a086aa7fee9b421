#!/usr/bin/env bash
# Every test: formatting, lints, unit/integration/property tests, doc tests.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
# The load and chaos test fills a small tmpfs it mounts: root, or sudo
# without a password, is needed; say so now rather than after the build.
if [ "$(id -u)" -ne 0 ] && ! sudo -n true 2>/dev/null; then
  echo "scripts/test.sh: run it as root or with passwordless sudo (the chaos test mounts a small tmpfs)" >&2
  exit 1
fi
# Builds and fuzz targets need room; say how much there is, to explain a
# "No space left on device" at once.
echo "== disk: $(df -h --output=avail . | tail -1 | tr -d ' ') free where the project is built"

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== TypeScript: ui/lib against the county API's declarations generated from the Rust DTOs"
tests/e2e/node_modules/.bin/tsc -p ui
echo "== the offline card verifier (JavaScript) against the card crate's golden vectors"
node --test tests/e2e/cardcheck.test.mjs
echo "== cargo deny: licences, duplicate versions (listed), sources; advisories (deny.toml)"
cargo deny check licenses bans sources
# The RustSec advisory database is fetched from GitHub. Where GitHub cannot
# be reached, the dependencies are checked against the snapshot kept in
# deny/ (deny/README.md), and the run says so. An advisory found always fails.
ADVISORY_SNAPSHOT_DATE=2026-08-21
if advisories=$(cargo deny check advisories 2>&1); then
  echo "cargo deny: advisories ok (the live RustSec database)"
elif grep -q "failed to fetch advisory database" <<<"$advisories"; then
  db=$PWD/target/advisory-dbs
  # cargo-deny keeps the default database in a directory named after its URL
  # and reads the date of its last commit: a git repository dated like the
  # snapshot.
  repo=$db/advisory-db-3157b0e258782691
  rm -rf "$repo" && mkdir -p "$repo"
  tar -C "$repo" -xJf deny/rustsec-advisory-db.tar.xz
  git -C "$repo" init -q
  git -C "$repo" add -A
  GIT_AUTHOR_DATE="${ADVISORY_SNAPSHOT_DATE}T00:00:00Z" GIT_COMMITTER_DATE="${ADVISORY_SNAPSHOT_DATE}T00:00:00Z" \
    git -C "$repo" -c user.name=sanjian -c user.email=sanjian@localhost commit -q -m "RustSec snapshot $ADVISORY_SNAPSHOT_DATE"
  sed "s|^\[advisories\]$|[advisories]\ndb-path = \"$db\"|" deny.toml >target/deny-offline.toml
  cargo deny --offline --config target/deny-offline.toml check advisories
  echo "cargo deny: advisories ok against the RustSec snapshot of $ADVISORY_SNAPSHOT_DATE (GitHub cannot be reached from here to fetch a newer one)"
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
echo "== a PostgreSQL pair with automatic failover (pg_auto_failover, for the failover test)"
. scripts/pgaf.sh
pgaf_start
# Stopped with the others when the script ends.
eval "set -- $(trap -p EXIT)"
trap "pgaf_stop${3:+; $3}" EXIT
echo "== cargo nextest"
cargo nextest run --workspace --no-fail-fast
echo "== doc tests"
cargo test --workspace --doc
echo "== fuzz targets, briefly (scripts/fuzz.sh long for the long runs)"
bash scripts/fuzz.sh smoke
