#!/usr/bin/env bash
# The soak (issue 6, item 9), the long form of the short soak every test run does: 1,000,000 messages through the
# in-memory backend and 100,000 through fauxqs (publish -> daemon -> handler, at most 2,000 in
# flight), reporting messages, duplicates, losses, the live heap after warm-up and goroutines
# after stop. It fails on any loss, on heap growth after warm-up, or on goroutines left behind.
#
# Usage: scripts/soak.sh            (about 2-4 minutes on 2 cores)
#   PUBSUB_SOAK_MEMORY=N PUBSUB_SOAK_FAUXQS=N PUBSUB_SOAK_INFLIGHT=N override the sizes.
# Starts its own fauxqs on a free 127.0.0.1 port (private state dir) and stops it on exit; runs
# without -race (it measures memory); the output is kept in $SOAK_OUT (default
# .emulator/soak-<time>.txt).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
mkdir -p .emulator
STATE="$(mktemp -d "$ROOT/.emulator/soak.XXXXXX")"
export EMULATOR_STATE_DIR="$STATE"
OUT="${SOAK_OUT:-$ROOT/.emulator/soak-$(date -u +%Y%m%dT%H%M%S).txt}"
cleanup() {
  set +e
  scripts/emulator-down.sh
  rm -rf "$STATE"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

scripts/emulator-up.sh
PUBSUB_FAUXQS_ENDPOINT="$(cat "$STATE/fauxqs.endpoint")"
export PUBSUB_FAUXQS_ENDPOINT PUBSUB_SOAK=1
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_EC2_METADATA_DISABLED=true
unset AWS_ENDPOINT_URL AWS_PROFILE AWS_SESSION_TOKEN 2>/dev/null || true
echo "soak: output in $OUT"
go test -count=1 -run '^TestSoak$' -v -timeout 60m ./internal/faults/ 2>&1 | tee "$OUT"
