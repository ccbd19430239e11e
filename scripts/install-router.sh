#!/usr/bin/env bash
# Installs the pinned Apollo Router binary where later runs on this machine find it.
#
# The router is built from the Rust registry (`cargo install --locked`), which needs `protoc` and
# takes roughly 30-40 minutes on two cores, so it is built once per machine and reused:
#   $CITYOS_TOOLS_DIR/router-$ROUTER_VERSION/bin/router   (default tools dir: ~/.cache/cityos)
# Prints the binary's path on stdout; progress goes to stderr.
set -euo pipefail

ROUTER_VERSION="${ROUTER_VERSION:-2.17.0}"
TOOLS_DIR="${CITYOS_TOOLS_DIR:-$HOME/.cache/cityos}"
ROOT="$TOOLS_DIR/router-$ROUTER_VERSION"
BIN="$ROOT/bin/router"

if [[ -x "$BIN" ]]; then
  echo "$BIN"
  exit 0
fi

if ! command -v protoc >/dev/null 2>&1; then
  echo "install-router: protoc missing, installing Debian's protobuf-compiler" >&2
  if [[ $(id -u) -eq 0 ]]; then
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq protobuf-compiler >&2
  else
    sudo apt-get update -qq >&2 && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq protobuf-compiler >&2
  fi
fi

echo "install-router: building apollo-router $ROUTER_VERSION (about 30-40 minutes on 2 cores, once per machine)" >&2
mkdir -p "$TOOLS_DIR"
# A private target dir keeps a half-finished build warm if this is interrupted.
CARGO_TARGET_DIR="$TOOLS_DIR/router-build" \
  cargo install apollo-router --version "=$ROUTER_VERSION" --locked --root "$ROOT" >&2
rm -rf "$TOOLS_DIR/router-build"
echo "$BIN"
