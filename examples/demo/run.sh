#!/usr/bin/env bash
# `make run`: start the simulated SaaS app, then tenantwatch on the demo config, which
# scrapes the app. Ctrl-C stops both. The first run backfills 35 days (and at least all of the
# previous calendar month) of the app's history and of the demo checks' results into the
# metric store's blocks, so long-range queries and the SLA pages (last month, this month,
# last week) have something to show.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=.venv/bin
CONFIG="${TENANTWATCH_CONFIG:-examples/demo/tenantwatch.yml}"
APP_PORT="${DEMO_APP_PORT:-9464}"
mkdir -p var
# the demo config sets no metrics.data_dir, so the store is <data dir>/metrics
BLOCKS="${TENANTWATCH_DATA_DIR:-var}/metrics/blocks"
if ! compgen -G "$BLOCKS/*/meta.json" >/dev/null; then
  HISTORY="$(mktemp "${TMPDIR:-/tmp}/tenantwatch-demo-history.XXXXXX")"
  trap 'rm -f "$HISTORY"' EXIT
  echo "demo history: first start, writing and importing 5+ weeks of history (up to a minute)"
  if "$BIN/python" -m examples.demo.saas_app history --days 35 --previous-month --out "$HISTORY" \
      --config "$CONFIG" --instance "127.0.0.1:${APP_PORT}" >var/demo-history.log 2>&1 \
    && TENANTWATCH_CONFIG="$CONFIG" "$BIN/tenantwatch" backfill "$HISTORY" >>var/demo-history.log 2>&1; then
    echo "demo history: backfilled 5+ weeks of the app's metrics and check results into $BLOCKS (log: var/demo-history.log)"
  else
    echo "demo history: not backfilled, see var/demo-history.log; starting without it"
  fi
  rm -f "$HISTORY"
fi
"$BIN/python" -m examples.demo.saas_app --port "$APP_PORT" --config "$CONFIG" \
  --heartbeat "http://${TENANTWATCH_LISTEN:-127.0.0.1:8080}/ping/demo-globex-nightly-export" >var/demo-app.log 2>&1 &
APP_PID=$!
trap 'kill "$APP_PID" 2>/dev/null || true' EXIT INT TERM
echo "demo SaaS app: http://127.0.0.1:${APP_PORT}/metrics (log: var/demo-app.log)"
TENANTWATCH_CONFIG="$CONFIG" "$BIN/tenantwatch" serve
