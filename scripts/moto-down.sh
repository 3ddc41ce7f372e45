#!/usr/bin/env bash
# Stops the moto_server started by scripts/moto-up.sh (by its recorded pid only; it exits about
# 1.3-2 s after SIGTERM). Uses the same state dir ($EMULATOR_STATE_DIR, default .emulator/).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
STATE="${EMULATOR_STATE_DIR:-.emulator}"
[ -d "$STATE" ] || exit 0
stop_pid "$STATE/moto.pid" moto_server
rm -f "$STATE/moto.port" "$STATE/moto.endpoint"
