#!/usr/bin/env bash
# One truth on the demo county (issue #17): for every township of the demo
# county (`scripts/run.sh`'s: 20,000 members, seed 1), a township tablet
# synced from a county server shows the same progress row as the county
# admin's console. Prints each township's 建会率 on both and fails on any
# difference. Takes a few minutes; the same check on smaller synthetic
# counties runs in the test command (crates/server/tests/agreement.rs).
#
#   bash scripts/demo-agreement.sh [MEMBERS] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
MEMBERS=${1:-20000}
SEED=${2:-1}
PORT=${PORT:-18181}
cargo build -q -p sanjian
bin=$PWD/target/debug/sanjian
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
"$bin" generate --members "$MEMBERS" --seed "$SEED" --db county.db >/dev/null 2>&1
"$bin" import --data server --from county.db >/dev/null 2>&1
"$bin" serve --data server --listen "127.0.0.1:$PORT" >server.out 2>server.log &
server=$!
for _ in $(seq 1 60); do grep -q '^listening' server.out 2>/dev/null && break; sleep 1; done
password=$(cat server/initial-admin-password)
token=$(curl -sf -X POST "http://127.0.0.1:$PORT/api/login" -H 'content-type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$password\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
curl -sf "http://127.0.0.1:$PORT/api/console/progress" -H "authorization: Bearer $token" >console.json
python3 -c 'import json; [print(t["name"]) for t in json.load(open("console.json"))["townships"]]' >townships
i=0
while read -r township; do
  i=$((i + 1))
  text=$("$bin" enrol --data server --person "演示员$i" --role township_staff --township "$township" --text-only)
  "$bin" device enrol --db "device$i.db" --text "$text" >/dev/null 2>&1
  "$bin" device sync --db "device$i.db" >/dev/null 2>&1
  "$bin" stats --db "device$i.db" --json >"device$i.json"
  python3 - "$township" "device$i.json" <<'PY'
import json, sys
name, device = sys.argv[1], sys.argv[2]
row = lambda path: next(t for t in json.load(open(path))["townships"] if t["name"] == name)
tablet, console = row(device), row("console.json")
pct = lambda r: f'{100 * r["numerator"] / r["denominator"]:.1f}% ({r["numerator"]}/{r["denominator"]})' if r["denominator"] else "—"
print(f'{name}: tablet 建会率 {pct(tablet["coverage"])}, console {pct(console["coverage"])}:',
      "same row" if tablet == console else "DIFFERENT")
sys.exit(0 if tablet == console else 1)
PY
done <townships
echo "every township: the tablet's row is the console's"
