#!/usr/bin/env bash
# Starts moto_server (preinstalled in the machine image; it cannot be installed from here) in the
# background on a free 127.0.0.1 port.
#
# Usage: scripts/moto-up.sh [port]
#   port: default $MOTO_PORT, else a free port picked at random.
# Writes to the state dir ($EMULATOR_STATE_DIR, default .emulator/):
#   moto.pid, moto.port, moto.endpoint (e.g. http://127.0.0.1:41235), moto.log
# Tests isolate themselves with a random account id per test (x-moto-account-id header), so one
# server serves every package; never POST /moto-api/reset against a shared server.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
STATE="$(emu_state_dir)"

if ! command -v moto_server >/dev/null 2>&1; then
  echo "moto_server not found on PATH. It comes with the machine image (pip package moto 5.x for" >&2
  echo "python3); PyPI is not reachable here, so it cannot be installed by this script." >&2
  exit 1
fi

if [ -f "$STATE/moto.pid" ] && kill -0 "$(cat "$STATE/moto.pid")" 2>/dev/null; then
  running="$(cat "$STATE/moto.port" 2>/dev/null || true)"
  if [ -z "${1:-${MOTO_PORT:-}}" ] || [ "${1:-${MOTO_PORT:-}}" = "$running" ]; then
    echo "moto_server already running at $(cat "$STATE/moto.endpoint") (pid $(cat "$STATE/moto.pid"))"
    exit 0
  fi
  echo "moto_server already running on port $running; stop it first (scripts/moto-down.sh)" >&2
  exit 1
fi

PORT="${1:-${MOTO_PORT:-}}"
FIXED="$PORT"
if [ -n "$FIXED" ] && port_in_use "$FIXED"; then
  echo "port $FIXED on 127.0.0.1 is already in use; pick another (or pass none for a free one)" >&2
  exit 1
fi
LOG="$STATE/moto.log"

# start_once PORT: starts moto_server on PORT and waits until it is ready (up to ~20 s; normally
# 0.5-0.7 s): our own process is alive, its log says it serves our port (so a different server that
# happens to answer there can't fool us), and it answers HTTP. Returns 1, leaving nothing running,
# otherwise.
start_once() {
  local port="$1" pid _
  nohup moto_server -H 127.0.0.1 -p "$port" >"$LOG" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$STATE/moto.pid"
  echo "$port" >"$STATE/moto.port"
  for _ in $(seq 1 200); do
    kill -0 "$pid" 2>/dev/null || break
    if grep -q "Running on http://127.0.0.1:$port" "$LOG" 2>/dev/null &&
      curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$port/moto-api/" 2>/dev/null; then
      echo "http://127.0.0.1:$port" >"$STATE/moto.endpoint"
      echo "moto_server $(python3 -c 'import moto; print(moto.__version__)' 2>/dev/null || echo '?') up: http://127.0.0.1:$port (pid $pid, log $LOG)"
      return 0
    fi
    sleep 0.1
  done
  gave_up moto_server moto "$port" "$LOG" "$STATE"
}

start_on_port moto_server "$FIXED"
