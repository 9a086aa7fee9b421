#!/usr/bin/env bash
# The main job: builds Sanjian and shows a demo county. Until the field app and
# county server exist (issues #3 and #5), this generates a synthetic county
# into demo/county.db (encrypted; key in demo/county.db.key) and prints its
# progress report against the year's targets.
#   MEMBERS=20000 SEED=1 bash scripts/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh

MEMBERS=${MEMBERS:-20000}
SEED=${SEED:-1}
cargo build --release -p sanjian
mkdir -p demo
if [ ! -f demo/county.db ]; then
  rm -f demo/county.db.key
  ./target/release/sanjian generate --members "$MEMBERS" --seed "$SEED" --db demo/county.db
fi
./target/release/sanjian stats --db demo/county.db
