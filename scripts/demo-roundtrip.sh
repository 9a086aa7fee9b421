#!/usr/bin/env bash
# Everything out and back in (issue #18): the demo county (`scripts/run.sh`'s:
# 20,000 members, seed 1) exports its six sheets (area tree, entity census
# and the four real-name ledgers, full numbers) as XLSX; a new, empty
# server names the county and imports them in order; then both servers'
# ledgers (as CSV, running numbers aside) and dashboard figures are
# compared, and each sheet is imported once more to show it changes
# nothing. Prints both servers' figures; fails on any difference. The same
# round trip on smaller counties, on SQLite and PostgreSQL, runs in the
# test command (crates/server/tests/intake.rs).
#
#   bash scripts/demo-roundtrip.sh [MEMBERS] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
MEMBERS=${1:-20000}
SEED=${2:-1}
PORT=${PORT:-18281}
cargo build -q -p sanjian
bin=$PWD/target/debug/sanjian
work=$(mktemp -d)
trap 'kill "$a" "$b" 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
"$bin" generate --members "$MEMBERS" --seed "$SEED" --db county.db >/dev/null 2>&1
"$bin" import --data original --from county.db >/dev/null 2>&1
"$bin" serve --data original --listen "127.0.0.1:$PORT" >a.out 2>a.log &
a=$!
"$bin" serve --data copy --listen "127.0.0.1:$((PORT + 1))" >b.out 2>b.log &
b=$!
for _ in $(seq 1 60); do grep -q '^listening' a.out 2>/dev/null && grep -q '^listening' b.out 2>/dev/null && break; sleep 1; done
A=http://127.0.0.1:$PORT
B=http://127.0.0.1:$((PORT + 1))
login() {
  curl -sf -X POST "$1/api/login" -H 'content-type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$(cat "$2/initial-admin-password")\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
ta=$(login "$A" original)
tb=$(login "$B" copy)
name=$(curl -sf "$A/api/console/areas" -H "authorization: Bearer $ta" | python3 -c 'import json,sys; print(json.load(sys.stdin)["county"]["name"])')
curl -sf -X POST "$B/api/console/areas" -H "authorization: Bearer $tb" -H 'content-type: application/json' \
  -d "{\"name\":\"$name\",\"level\":\"county\"}" >/dev/null
echo "a new server for $name"
counts='import json,sys; r=json.load(sys.stdin); c=r["counts"]; print("%12s: created %d, updated %d, unchanged %d, refused %d" % (r["sheet"], c["create"], c["update"], c["unchanged"], c["refused"]))'
for pass in first again; do
  echo "-- import ($pass)"
  for sheet in area entity organisation member cadre transfer; do
    curl -sf "$A/api/console/export?ledger=$sheet&format=xlsx&full_ids=true" -H "authorization: Bearer $ta" >"$sheet.xlsx"
    start=$(date +%s%N)
    curl -sf -X POST "$B/api/console/intake?write=true" -H "authorization: Bearer $tb" --data-binary "@$sheet.xlsx" |
      python3 -c "$counts" | tr -d '\n'
    echo " ($((($(date +%s%N) - start) / 1000000)) ms)"
  done
done
echo "-- the ledgers, row by row"
same=0
for sheet in area entity organisation member cadre transfer; do
  for side in A B; do
    url=$A; tok=$ta; [ "$side" = B ] && url=$B && tok=$tb
    curl -sf "$url/api/console/export?ledger=$sheet&format=csv&full_ids=true" -H "authorization: Bearer $tok" |
      tail -n +2 | cut -d, -f2- | sort >"$sheet.$side.csv"
  done
  if cmp -s "$sheet.A.csv" "$sheet.B.csv"; then
    echo "$sheet: $(wc -l <"$sheet.A.csv") rows, identical"
  else
    echo "$sheet: DIFFERENT"; diff "$sheet.A.csv" "$sheet.B.csv" | head -5; same=1
  fi
done
echo "-- the dashboards"
curl -sf "$A/api/console/progress" -H "authorization: Bearer $ta" >a.json
curl -sf "$B/api/console/progress" -H "authorization: Bearer $tb" >b.json
python3 - a.json b.json <<'PY' || same=1
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
pct = lambda r: f'{100 * r["numerator"] / r["denominator"]:.1f}%' if r["denominator"] else "—"
def line(t):
    return (f'建会率 {pct(t["coverage"])}, 25人以上单独建会 {pct(t["own_union_25"])}, 工会 {t["unions"]}, '
            f'在册会员 {t["active_members"]}, 新发展会员 {t["new_members"]}, 新建工会 {t["new_unions"]}, 主席空缺 {t["vacancies"]}')
print(f'original: {line(a["county"])}')
print(f'copy:     {line(b["county"])}')
tally = lambda t: {k: v for k, v in t.items() if k not in ("id",)}
ok = tally(a["county"]) == tally(b["county"])
towns = lambda r: {t["name"]: tally(t) for t in r["townships"]}
for name, t in towns(a).items():
    other = towns(b).get(name)
    print(f'{name}: {line(t)} — {"same" if other == t else "DIFFERENT"}')
    ok = ok and other == t
print("every figure the same" if ok else "FIGURES DIFFER")
sys.exit(0 if ok else 1)
PY
exit $same
