#!/usr/bin/env bash
# The fuzz targets (cargo-fuzz, libFuzzer; see crates/fuzzing): card text,
# sync messages and blob batches, stored documents, other offices' lists.
#
#   bash scripts/fuzz.sh smoke              # each target for 15 s (scripts/test.sh runs this)
#   bash scripts/fuzz.sh long [SECONDS]     # each target until 10 million runs or SECONDS
#                                           # (default 1800); stats in target/fuzz-logs/
#   bash scripts/fuzz.sh run TARGET [libFuzzer flags…]
#
# New corpus entries go to target/fuzz-corpus/<target> (the committed seeds
# in fuzz/corpus stay as they are). A crash fails the run and its input is
# copied to fuzz/fixtures/<target>/, where `cargo test -p fuzzing` replays
# it for good: commit it with the fix. An input that runs out of memory or
# time goes to fuzz/findings/ instead (see its README).
set -euo pipefail
cd "$(dirname "$0")/.."
# cargo-fuzz builds with -Z flags (sanitizers); this machine's only
# toolchain is stable, which allows them with RUSTC_BOOTSTRAP.
export RUSTC_BOOTSTRAP=1
TARGETS=(card_decode sync_message stored_document import_table http_request)

run_one() { # target, libFuzzer flags…
  local t=$1
  shift
  mkdir -p "target/fuzz-corpus/$t" target/fuzz-logs "fuzz/fixtures/$t"
  # Only this run's findings are copied out below.
  rm -rf "fuzz/artifacts/$t"
  local log="target/fuzz-logs/$t.log"
  if ! cargo fuzz run "$t" "target/fuzz-corpus/$t" "fuzz/corpus/$t" -- -print_final_stats=1 "$@" >"$log" 2>&1; then
    echo "fuzz: $t FAILED; its log: $log" >&2
    tail -n 30 "$log" >&2
    # A crash is replayed by the tests for good; an input that exhausts
    # memory or time is kept apart (replaying it would take the test run
    # down with it) until its fix can bound it.
    for found in fuzz/artifacts/"$t"/*; do
      [ -f "$found" ] || continue
      case "$(basename "$found")" in
        crash-*) cp "$found" "fuzz/fixtures/$t/" && echo "fuzz: kept $found in fuzz/fixtures/$t/" >&2 ;;
        *) mkdir -p fuzz/findings && cp "$found" "fuzz/findings/$t-$(basename "$found")" \
             && echo "fuzz: kept $found in fuzz/findings/ (not replayed)" >&2 ;;
      esac
    done
    return 1
  fi
  echo "fuzz: $t $(grep -E '^Done' "$log" | tail -n 1)"
}

case "${1:-smoke}" in
  smoke)
    cargo fuzz build
    for t in "${TARGETS[@]}"; do
      run_one "$t" -max_total_time=15
    done
    ;;
  long)
    secs=${2:-1800}
    for t in "${TARGETS[@]}"; do run_one "$t" -runs=10000000 -max_total_time="$secs"; done
    ;;
  run)
    shift
    t=$1
    shift
    run_one "$t" "$@"
    ;;
  *)
    echo "usage: scripts/fuzz.sh smoke | long [SECONDS] | run TARGET [flags…]" >&2
    exit 2
    ;;
esac
