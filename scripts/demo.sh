#!/usr/bin/env bash
# Quick start: start local MariaDB and PostgreSQL, install and build sayclaw, load a demo fleet
# into sayclaw_admin / sayclaw_portal / oneapi (and legacy logs into PostgreSQL "postgres"),
# then list the jp-2 instances. Safe to re-run: the fleet is loaded only into empty databases.
# --reset drops the demo databases and loads the demo fleet again (refused unless they hold the
# demo, on this machine).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
[ -d node_modules ] || npm ci --no-audit --no-fund
[ -f dist/main.cjs ] || npm run build
export SAYCLAW_MYSQL_URL="${SAYCLAW_MYSQL_URL:-mysql://root@127.0.0.1:3306}"
export SAYCLAW_PG_URL="${SAYCLAW_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
node dist/demo/seed-demo.js "$@"
echo
echo "\$ sayclaw instances ls --prefix oc-ai-jp-2-"
./bin/sayclaw instances ls --prefix oc-ai-jp-2-
