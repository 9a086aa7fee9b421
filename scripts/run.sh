#!/usr/bin/env bash
# The main job: a local county server with a demo county, and a device
# enrolled and synced with it.
#
#   1. generates a synthetic county into demo/county.db (encrypted; key in
#      demo/county.db.key) unless it exists;
#   2. loads it into a county server's data directory, demo/server/;
#   3. starts `sanjian serve` on 127.0.0.1:$PORT (default 8080); the county
#      admin's first password is in demo/server/initial-admin-password;
#   4. enrols a demo township device (demo/device.db) and syncs it;
#   5. prints the county's progress report;
#   6. sets up the field app (demo/app/, PIN 258014, enrolled for the same
#      township) and starts it: the Tauri app when there is a display,
#      otherwise the same screens at http://127.0.0.1:$APP_PORT/ (default
#      8788) for a browser on this machine (APP=web forces that, APP=0
#      starts no app); keeps serving until Ctrl-C.
#
#   MEMBERS=20000 SEED=1 PORT=8080 APP_PORT=8788 bash scripts/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SANJIAN_SETUP=run . scripts/setup.sh

MEMBERS=${MEMBERS:-20000}
SEED=${SEED:-1}
PORT=${PORT:-8080}
APP=${APP:-auto}
APP_PORT=${APP_PORT:-8788}
PIN=258014
if [ "$APP" = auto ]; then
  if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then APP=tauri; else APP=web; fi
fi
cargo build --release -p sanjian
if [ "$APP" = tauri ] || [ "$APP" = 1 ]; then cargo build --release -p sanjian-app; fi
bin=./target/release/sanjian
mkdir -p demo
if [ ! -f demo/county.db ]; then
  rm -rf demo/county.db.key demo/server demo/device.db demo/device.db.key demo/app
  "$bin" generate --members "$MEMBERS" --seed "$SEED" --db demo/county.db
fi
if [ ! -f demo/server/server.db ]; then
  "$bin" import --data demo/server --from demo/county.db
fi

"$bin" serve --data demo/server --listen "127.0.0.1:$PORT" >demo/server.out 2>demo/server.log &
server=$!
trap 'kill -TERM $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  grep -q '^listening' demo/server.out 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat demo/server.log >&2; exit 1; }
  sleep 0.1
done
base=$(awk '/^listening/ {print $2; exit}' demo/server.out)
echo "县服务器 county server: $base   (log: demo/server.log)"

if [ ! -f demo/device.db ]; then
  township=$("$bin" stats --db demo/county.db --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["townships"][0]["name"])')
  text=$("$bin" enrol --data demo/server --person 演示员 --role township_staff --township "$township" --text-only)
  "$bin" device enrol --db demo/device.db --text "$text"
fi
"$bin" device sync --db demo/device.db
"$bin" stats --db demo/county.db

if [ "$APP" != 0 ] && [ ! -f demo/app/lock.json ]; then
  township=$("$bin" stats --db demo/county.db --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["townships"][0]["name"])')
  text=$("$bin" enrol --data demo/server --person 演示员二 --role township_staff --township "$township" --text-only)
  "$bin" app-setup --data demo/app --pin "$PIN" --enrolment "$text"
fi

echo
echo "县管理员 county admin: admin, 初始密码 first password in demo/server/initial-admin-password"
echo "新设备注册码 a new device code: $bin enrol --data demo/server --person 姓名 --township 乡镇名"
case "$APP" in
  tauri|1)
    ./target/release/sanjian-app --data demo/app &
    echo "三建应用已启动 the app is open: PIN $PIN" ;;
  web)
    "$bin" app-web --data demo/app --ui ui --listen "127.0.0.1:$APP_PORT" 2>demo/app-web.log &
    echo "三建应用 the app: http://127.0.0.1:$APP_PORT/   PIN $PIN   (no display: open it in a browser here)" ;;
esac
echo "服务器运行中，按 Ctrl-C 停止 (serving; Ctrl-C stops)"
wait "$server"
