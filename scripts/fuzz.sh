#!/usr/bin/env bash
# Short fuzzing run of every Fuzz* target (the seed corpora in testdata/fuzz already run with every
# `go test`; this explores beyond them). Needs no emulator: the targets decode, parse and verify in
# process (FuzzSNSVerify fetches its certificate from a loopback httptest server).
#
# Usage:
#   scripts/fuzz.sh                      # every target in every package, FUZZTIME each (default 15s)
#   FUZZTIME=2m scripts/fuzz.sh ./fxpubsub   # longer, one package
#   scripts/fuzz.sh ./fxpubsub FuzzScanHead  # one target
#
# A failing input is written to <package>/testdata/fuzz/<Target>/ by `go test` and printed here;
# commit it with the fix so it stays a regression test.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
fuzztime_set="${FUZZTIME:-}"
FUZZTIME="${FUZZTIME:-15s}"
only="${2:-}"

# budget: targets fuzzed for a fixed count of executions (Nx, sized to about 25 CPU-seconds on this
# 2-core machine, measured with /usr/bin/time) instead of FUZZTIME. A FUZZTIME set by the caller wins.
declare -A budget=(
  [FuzzParsePayloadPointer]=50000x # 40000x took 20 CPU-s
)

if [ "$#" -ge 1 ]; then
  pkgs=("$1")
else
  # Packages that have fuzz targets (tools/ holds node_modules, not Go).
  mapfile -t pkgs < <(grep -rl --include='*_test.go' '^func Fuzz' . | grep -v '^./tools/' | xargs -n1 dirname | sort -u)
fi

start=$SECONDS
failed=()
for pkg in "${pkgs[@]}"; do
  mapfile -t targets < <(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true)
  for target in "${targets[@]}"; do
    if [ -n "$only" ] && [ "$target" != "$only" ]; then
      continue
    fi
    ft="$FUZZTIME"
    if [ -z "$fuzztime_set" ] && [ -n "${budget[$target]:-}" ]; then
      ft="${budget[$target]}"
    fi
    echo "+ go test -run '^\$' -fuzz '^$target\$' -fuzztime $ft $pkg"
    before="$(ls "$pkg/testdata/fuzz/$target" 2>/dev/null || true)"
    set +e
    go test -run '^$' -fuzz "^$target\$" -fuzztime "$ft" "$pkg" 2>&1 | grep -v '^fuzz: elapsed'
    status=${PIPESTATUS[0]}
    set -e
    if [ "$status" -ne 0 ]; then
      failed+=("$pkg $target")
      after="$(ls "$pkg/testdata/fuzz/$target" 2>/dev/null || true)"
      for f in $(comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$after")); do
        echo "---- failing input $pkg/testdata/fuzz/$target/$f (commit it with the fix)" >&2
        cat "$pkg/testdata/fuzz/$target/$f" >&2
      done
    fi
  done
done
echo "fuzz.sh: done in $((SECONDS - start)) s"
if [ "${#failed[@]}" -gt 0 ]; then
  printf 'fuzz.sh: FAILED: %s\n' "${failed[@]}" >&2
  exit 1
fi
