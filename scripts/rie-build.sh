#!/usr/bin/env bash
# Builds the AWS Lambda Runtime Interface Emulator (aws-lambda-rie) into bin/ (gitignored), once
# per version, and prints its path. The Lambda tests (examples/lambda) run the compiled example
# function under it; scripts/test.sh calls this and exports PUBSUB_RIE.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
RIE_MODULE=github.com/aws/aws-lambda-runtime-interface-emulator
RIE_VERSION=v0.0.0-20261030222936-bef5c4ba774d
DIR="$ROOT/bin/rie-$RIE_VERSION"
if [ ! -x "$DIR/aws-lambda-rie" ]; then
  mkdir -p "$DIR"
  # Outside the module: the emulator's dependencies stay out of go.mod.
  (cd "$DIR" && GOBIN="$DIR" GOFLAGS=-mod=mod go install "$RIE_MODULE/cmd/aws-lambda-rie@$RIE_VERSION") >&2
fi
echo "$DIR/aws-lambda-rie"
