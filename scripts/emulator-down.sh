#!/usr/bin/env bash
# Stops the fauxqs emulator started by scripts/emulator-up.sh (by its recorded pid only).
# Uses the same state dir ($EMULATOR_STATE_DIR, default .emulator/).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
STATE="${EMULATOR_STATE_DIR:-.emulator}"
[ -d "$STATE" ] || exit 0
stop_pid "$STATE/fauxqs.pid" fauxqs
rm -f "$STATE/fauxqs.port" "$STATE/fauxqs.endpoint"
