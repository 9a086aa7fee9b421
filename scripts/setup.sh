#!/usr/bin/env bash
# Installs what building and testing Sanjian needs on Debian 12, idempotently.
# Sourced by run.sh and test.sh; safe to run on its own (as root or with sudo).
#
# SANJIAN_SETUP=run (run.sh, the main job) installs only what building and
# running the server and the app need; anything else (the default, test.sh)
# also installs what the tests need: PostgreSQL, chromium, the virtual
# display and WebDriver, cargo-nextest, cargo-deny, cargo-fuzz, s3s-fs and
# tauri-driver.
set -euo pipefail
SANJIAN_SETUP=${SANJIAN_SETUP:-test}

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# System packages: a C toolchain for SQLCipher (bundled) and OpenSSL's libcrypto for it.
# postgresql (Debian 12: PostgreSQL 15): the binaries scripts/pg.sh runs a throwaway
# cluster from; the system service the package may start is never used.
# fonts-dejavu-core (Latin) and fonts-droid-fallback (Chinese): the fonts printed
# membership cards are drawn with (crates/card, feature render).
# chromium: browser tests drive Debian's chromium with playwright-core (never a
# downloaded browser); nodejs/npm only when no node is installed already.
# libwebkit2gtk-4.1-dev: the Tauri app (src-tauri); xvfb and webkit2gtk-driver:
# its end-to-end tests under a virtual display through tauri-driver;
# fonts-noto-cjk: the app's Chinese text (no character drawn as a box).
# git and xz-utils: the RustSec advisory snapshot cargo deny reads offline (deny/).
APT_PACKAGES=(build-essential pkg-config libssl-dev ca-certificates libwebkit2gtk-4.1-dev python3
  fonts-dejavu-core fonts-droid-fallback fonts-noto-cjk)
if [ "$SANJIAN_SETUP" != run ]; then
  # curl: scripts/demo-agreement.sh asks the county server's API.
  # haproxy: the load balancer the several-servers test puts before three
  # `sanjian serve` on one PostgreSQL; postgresql-15-auto-failover and
  # pg-auto-failover-cli: the failover test's primary and standby
  # (scripts/pgaf.sh).
  APT_PACKAGES+=(postgresql chromium xvfb xauth webkit2gtk-driver git xz-utils curl haproxy
    postgresql-15-auto-failover pg-auto-failover-cli)
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then APT_PACKAGES+=(nodejs npm); fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

# The Rust toolchain (rustup, Rust >= 1.95) is a prerequisite: Debian 12's own
# rustc is too old and rustup's installer is not a package.
if [ -f "$HOME/.cargo/env" ]; then . "$HOME/.cargo/env"; fi
if ! command -v cargo >/dev/null; then
  echo "setup: cargo not found. Install Rust 1.95 or newer with rustup first (https://rustup.rs)." >&2
  exit 1
fi
rust_minor=$(rustc --version | sed -E 's/^rustc 1\.([0-9]+).*/\1/')
if [ "$rust_minor" -lt 95 ]; then
  echo "setup: Rust 1.95 or newer is needed; found $(rustc --version)" >&2
  exit 1
fi

# The browser tests' npm packages (playwright-core, which never downloads a
# browser; jsqr, the QR decoder the app bundles). Reinstalled when the lock
# file changes.
e2e="$(dirname "${BASH_SOURCE[0]}")/../tests/e2e"
lock_hash=$(sha256sum "$e2e/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$e2e/node_modules/.sanjian-lock" 2>/dev/null)" != "$lock_hash" ]; then
  echo "setup: installing the browser tests' npm packages"
  (cd "$e2e" && npm ci --no-audit --no-fund)
  echo "$lock_hash" > "$e2e/node_modules/.sanjian-lock"
fi
# The app's QR decoder, served from ui/ itself: the app works offline and a
# webview must not fetch code from a CDN.
ui_vendor="$(dirname "${BASH_SOURCE[0]}")/../ui/vendor"
# The county console's chart library (Chart.js), served by the county
# server from its own binary (crates/server/build.rs embeds it): the
# console works on a county LAN with no internet.
if ! cmp -s "$e2e/node_modules/chart.js/dist/chart.umd.min.js" "$ui_vendor/chart.umd.min.js"; then
  mkdir -p "$ui_vendor"
  cp "$e2e/node_modules/chart.js/dist/chart.umd.min.js" "$ui_vendor/chart.umd.min.js"
  cp "$e2e/node_modules/chart.js/LICENSE.md" "$ui_vendor/chart.js.LICENSE.md"
fi
if ! cmp -s "$e2e/node_modules/jsqr/dist/jsQR.js" "$ui_vendor/jsQR.js"; then
  mkdir -p "$ui_vendor"
  cp "$e2e/node_modules/jsqr/dist/jsQR.js" "$ui_vendor/jsQR.js"
  cp "$e2e/node_modules/jsqr/LICENSE" "$ui_vendor/jsQR.LICENSE" 2>/dev/null || true
fi

# The main job stops here: the rest is for the tests.
if [ "$SANJIAN_SETUP" = run ]; then
  return 0 2>/dev/null || exit 0
fi

# Cargo tools the tests use: nextest, and tauri-driver (WebDriver for the real
# app; it drives Debian's WebKitWebDriver).
if ! cargo nextest --version >/dev/null 2>&1; then
  echo "setup: installing cargo-nextest"
  cargo install cargo-nextest --locked
fi
# cargo-deny (licences, duplicates, sources, advisories) for the test command.
if ! cargo deny --version >/dev/null 2>&1; then
  echo "setup: installing cargo-deny"
  cargo install cargo-deny --version 0.20.2 --locked
fi
# cargo-fuzz for the fuzz targets (scripts/fuzz.sh).
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "setup: installing cargo-fuzz"
  cargo install cargo-fuzz --version 0.13.2 --locked
fi
# An S3-compatible object store for the server's blob tests (s3s-fs, the s3s
# project's S3 server over a directory).
if ! command -v s3s-fs >/dev/null 2>&1; then
  echo "setup: installing s3s-fs"
  cargo install s3s-fs --features binary --version 0.13.0 --locked
fi
if ! command -v tauri-driver >/dev/null 2>&1; then
  echo "setup: installing tauri-driver"
  cargo install tauri-driver --version "^2" --locked
fi
