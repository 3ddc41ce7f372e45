#!/usr/bin/env bash
# THE test command: starts fauxqs and moto_server on free 127.0.0.1 ports (installing fauxqs with
# `npm ci` the first time), runs `go vet` and `go test -race -count=1` against them, and stops both
# emulators on exit.
#
# Usage:
#   scripts/test.sh                          # go vet ./... && go test -race -count=1 ./...
#   scripts/test.sh -run X ./fxpubsub/...    # extra args go to `go test`; package patterns
#                                            # (./..., ./x, github.com/...) also select what is vetted
#
# Exports for the tests: PUBSUB_FAUXQS_ENDPOINT, PUBSUB_MOTO_ENDPOINT, AWS_REGION=us-east-1,
# AWS_ACCESS_KEY_ID=test, AWS_SECRET_ACCESS_KEY=test, AWS_EC2_METADATA_DISABLED=true, and
# PUBSUB_RIE (the AWS Lambda Runtime Interface Emulator, built by scripts/rie-build.sh).
# Each run uses its own state dir under .emulator/, so concurrent runs don't share servers; it is
# removed after a passing run and kept (with the emulator logs) after a failing one.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

mkdir -p .emulator
STATE="$(mktemp -d "$ROOT/.emulator/run.XXXXXX")"
export EMULATOR_STATE_DIR="$STATE"

status=1
cleanup() {
  set +e
  scripts/emulator-down.sh
  scripts/moto-down.sh
  if [ "$status" -eq 0 ]; then
    rm -rf "$STATE"
  else
    for f in "$STATE"/fauxqs.log "$STATE"/moto.log; do
      [ -s "$f" ] || continue
      echo "---- last lines of $f (successful requests left out)" >&2
      grep -v '" 200 -$' "$f" | tail -n 20 >&2
    done
    echo "test.sh: failed (exit $status); emulator logs kept in $STATE" >&2
  fi
}
trap 'status=$?; cleanup' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Split the arguments into package patterns (vetted and tested) and everything else (tested only).
pkgs=()
for a in "$@"; do
  case "$a" in
    ./* | ../* | . | github.com/*) pkgs+=("$a") ;;
  esac
done
vet_pkgs=("${pkgs[@]}")
test_args=("$@")
if [ "${#pkgs[@]}" -eq 0 ]; then
  vet_pkgs=(./...)
  test_args+=(./...)
fi

PUBSUB_RIE="$(scripts/rie-build.sh)"
export PUBSUB_RIE

t0=$SECONDS
# Start both emulators at once; fauxqs may need a one-time `npm ci` (about 10-30 s).
scripts/emulator-up.sh &
fauxqs_job=$!
scripts/moto-up.sh &
moto_job=$!
up_ok=0
wait "$fauxqs_job" || up_ok=1
wait "$moto_job" || up_ok=1
if [ "$up_ok" -ne 0 ]; then
  echo "test.sh: an emulator failed to start (see above)" >&2
  exit 1
fi
echo "test.sh: emulators ready in $((SECONDS - t0)) s"

PUBSUB_FAUXQS_ENDPOINT="$(cat "$STATE/fauxqs.endpoint")"
PUBSUB_MOTO_ENDPOINT="$(cat "$STATE/moto.endpoint")"
export PUBSUB_FAUXQS_ENDPOINT PUBSUB_MOTO_ENDPOINT
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_EC2_METADATA_DISABLED=true
unset AWS_ENDPOINT_URL AWS_PROFILE AWS_SESSION_TOKEN 2>/dev/null || true

echo "+ go vet ${vet_pkgs[*]}"
go vet "${vet_pkgs[@]}"
echo "+ go test -race -count=1 ${test_args[*]}"
go test -race -count=1 "${test_args[@]}"
