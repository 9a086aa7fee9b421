#!/usr/bin/env bash
# Installs what building and testing Sanjian needs on Debian 12, idempotently.
# Sourced by run.sh and test.sh; safe to run on its own (as root or with sudo).
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# System packages: a C toolchain for SQLCipher (bundled) and OpenSSL's libcrypto for it.
# postgresql (Debian 12: PostgreSQL 15): the binaries scripts/pg.sh runs a throwaway
# cluster from; the system service the package may start is never used.
# fonts-dejavu-core (Latin) and fonts-droid-fallback (Chinese): the fonts printed
# membership cards are drawn with (crates/card, feature render).
# chromium: browser tests drive Debian's chromium with playwright-core (never a
# downloaded browser); nodejs/npm only when no node is installed already.
APT_PACKAGES=(build-essential pkg-config libssl-dev ca-certificates libwebkit2gtk-4.1-dev postgresql python3
  fonts-dejavu-core fonts-droid-fallback chromium)  # webkit: the Tauri app (src-tauri)
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

# The browser tests' npm packages (playwright-core only; it never downloads a browser).
e2e="$(dirname "${BASH_SOURCE[0]}")/../tests/e2e"
if [ ! -d "$e2e/node_modules/playwright-core" ]; then
  echo "setup: installing the browser tests' npm packages"
  (cd "$e2e" && npm ci --no-audit --no-fund)
fi

# Cargo tools the tests use.
if ! cargo nextest --version >/dev/null 2>&1; then
  echo "setup: installing cargo-nextest"
  cargo install cargo-nextest --locked
fi
