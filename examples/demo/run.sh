#!/usr/bin/env bash
# `make run`: start the simulated SaaS app, then tenantwatch on the demo config, which
# scrapes the app. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=.venv/bin
CONFIG="${TENANTWATCH_CONFIG:-examples/demo/tenantwatch.yml}"
APP_PORT="${DEMO_APP_PORT:-9464}"
mkdir -p var
"$BIN/python" -m examples.demo.saas_app --port "$APP_PORT" --config "$CONFIG" \
  --heartbeat "http://${TENANTWATCH_LISTEN:-127.0.0.1:8080}/ping/demo-globex-nightly-export" >var/demo-app.log 2>&1 &
APP_PID=$!
trap 'kill "$APP_PID" 2>/dev/null || true' EXIT INT TERM
echo "demo SaaS app: http://127.0.0.1:${APP_PORT}/metrics (log: var/demo-app.log)"
TENANTWATCH_CONFIG="$CONFIG" "$BIN/tenantwatch" serve
