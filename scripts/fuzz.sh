#!/usr/bin/env bash
# Short fuzzing run of every Fuzz* target (the seed corpora in testdata/fuzz already run with every
# `go test`; this explores beyond them). Needs no emulator: the targets decode, parse and verify in
# process (FuzzSNSVerify fetches its certificate from a loopback httptest server).
#
# Usage:
#   scripts/fuzz.sh                           # every target in every package, each with its budget
#   FUZZTIME=2m scripts/fuzz.sh ./fxpubsub    # override the budget (a duration or a count like 500000x)
#   scripts/fuzz.sh ./fxpubsub FuzzScanHead   # one target
#
# Budgets are execution counts (-fuzztime Nx), sized per target to about 25 CPU-seconds (about 15 s on
# 2 idle cores; measured with /usr/bin/time -f '%U %S' around a count run). A count
# gives the same amount of fuzzing on a loaded machine (it only takes longer), and it keeps the
# coordinator's wall-clock deadline out of the run: Go 1.26's coordinator can report an expiring
# duration -fuzztime as a failure of the target, "context deadline exceeded" with no failing input
# (golang/go#75804, fixed in Go 1.27).
#
# Verdict per target:
#   - a new file in <package>/testdata/fuzz/<Target>/, "Failing input written to", or a panic: FAILED.
#     The input stays where `go test` wrote it and is printed here; commit it with the fix so it stays
#     a regression test.
#   - a bare "context deadline exceeded" (only possible with a duration FUZZTIME): retried once; if it
#     recurs it is reported as a warning and counted, not failed, because no input fails.
#   - any other non-zero exit (build error, test timeout, ...): FAILED.
# The last line is the summary: "fuzz: N targets, P passed, F failed, R deadline retries, T tolerated".
# FUZZ_SUMMARY=<file> also writes that line to the file (.ci/run prints it beside the package count).
#
# For scripts/fuzz-selftest.sh: GO names the go command, FUZZ_ROOT the directory to run in.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
GO="${GO:-go}"
cd "${FUZZ_ROOT:-$ROOT}"
only="${2:-}"
# A hang guard per target, far above any budget; a timeout is a failure (the test binary panics).
FUZZ_TIMEOUT="${FUZZ_TIMEOUT:-20m}"
DEFAULT_BUDGET=50000x

# budget TARGET: the -fuzztime for TARGET (FUZZTIME wins when set).
budget() {
  if [ -n "${FUZZTIME:-}" ]; then
    printf '%s\n' "$FUZZTIME"
    return
  fi
  case "$1" in
    FuzzStrictBeforeSend) echo 60000x ;;
    FuzzLoad) echo 110000x ;;
    FuzzSNSVerify) echo 60000x ;;
    FuzzLoadConfig) echo 60000x ;;
    FuzzScanHead) echo 100000x ;;
    FuzzDecode) echo 40000x ;;
    FuzzUnwrapSNS) echo 50000x ;;
    FuzzDecodeBody) echo 40000x ;;
    FuzzMediaTypes) echo 35000x ;;
    FuzzTopicMap) echo 40000x ;;
    FuzzParsePayloadPointer) echo 50000x ;;
    FuzzURLRule) echo 50000x ;;
    *)
      echo "fuzz.sh: warning: $1 has no budget in scripts/fuzz.sh; using $DEFAULT_BUDGET (add one)" >&2
      echo "$DEFAULT_BUDGET"
      ;;
  esac
}

# corpus PKG TARGET: the files in the target's generated-input directory, one per line.
corpus() {
  ls "$1/testdata/fuzz/$2" 2>/dev/null || true
}

# bare_deadline LOG: true if the only failure detail in LOG is "context deadline exceeded".
bare_deadline() {
  grep -q 'context deadline exceeded' "$1" || return 1
  # The detail lines of the failure: after "--- FAIL:", before the package's FAIL / exit status line.
  local details
  details="$(awk '/^--- FAIL:/{on=1; next} on && /^(FAIL|exit status|ok)/{on=0} on' "$1" |
    sed -e 's/^[[:space:]]*//' -e '/^$/d' | sort -u)"
  [ "$details" = "context deadline exceeded" ]
}

# run_once PKG TARGET BUDGET LOG: one fuzzing run, output to LOG and (without progress lines) stdout.
# Prints the verdict: pass, crash, deadline or fail.
run_once() {
  local pkg="$1" target="$2" fuzztime="$3" log="$4" before after new status
  before="$(corpus "$pkg" "$target")"
  echo "+ $GO test -run '^\$' -fuzz '^$target\$' -fuzztime $fuzztime -timeout $FUZZ_TIMEOUT $pkg" >&2
  set +e
  "$GO" test -run '^$' -fuzz "^$target\$" -fuzztime "$fuzztime" -timeout "$FUZZ_TIMEOUT" "$pkg" >"$log" 2>&1
  status=$?
  set -e
  grep -v '^fuzz: elapsed' "$log" >&2 || true
  after="$(corpus "$pkg" "$target")"
  new="$(comm -13 <(printf '%s\n' "$before" | sort) <(printf '%s\n' "$after" | sort) | sed '/^$/d')"
  if [ -n "$new" ]; then
    for f in $new; do
      echo "---- failing input $pkg/testdata/fuzz/$target/$f (commit it with the fix)" >&2
      cat "$pkg/testdata/fuzz/$target/$f" >&2
    done
    echo crash
  elif [ "$status" -eq 0 ]; then
    echo pass
  elif grep -qE 'Failing input written to|panic:' "$log"; then
    echo crash
  elif bare_deadline "$log"; then
    echo deadline
  else
    echo fail
  fi
}

if [ "$#" -ge 1 ]; then
  pkgs=("$1")
else
  # Packages that have fuzz targets (tools/ holds node_modules; testdata/ holds other modules).
  mapfile -t pkgs < <(grep -rl --include='*_test.go' '^func Fuzz' . | grep -v -e '^./tools/' -e '/testdata/' |
    xargs -n1 dirname | sort -u)
fi

start=$SECONDS
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
total=0 passed=0 retried=0 tolerated=0
failed=()
for pkg in "${pkgs[@]}"; do
  mapfile -t targets < <("$GO" test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true)
  for target in "${targets[@]}"; do
    if [ -n "$only" ] && [ "$target" != "$only" ]; then
      continue
    fi
    total=$((total + 1))
    fuzztime="$(budget "$target")"
    verdict="$(run_once "$pkg" "$target" "$fuzztime" "$log")"
    if [ "$verdict" = deadline ]; then
      echo "fuzz.sh: $target: bare 'context deadline exceeded' with no failing input (golang/go#75804); retrying once" >&2
      retried=$((retried + 1))
      verdict="$(run_once "$pkg" "$target" "$fuzztime" "$log")"
      if [ "$verdict" = deadline ]; then
        echo "fuzz.sh: warning: $target: the deadline error recurred, still with no failing input; not a crasher, tolerated" >&2
        tolerated=$((tolerated + 1))
        verdict=pass
      fi
    fi
    case "$verdict" in
      pass) passed=$((passed + 1)) ;;
      crash) failed+=("$pkg $target (failing input)") ;;
      *) failed+=("$pkg $target") ;;
    esac
  done
done
summary="fuzz: $total targets, $passed passed, ${#failed[@]} failed, $retried deadline retries, $tolerated tolerated"
echo "fuzz.sh: done in $((SECONDS - start)) s"
if [ -n "${FUZZ_SUMMARY:-}" ]; then
  printf '%s\n' "$summary" >"$FUZZ_SUMMARY"
fi
echo "$summary"
if [ "$total" -eq 0 ]; then
  echo "fuzz.sh: FAILED: no fuzz target matched" >&2
  exit 1
fi
if [ "${#failed[@]}" -gt 0 ]; then
  printf 'fuzz.sh: FAILED: %s\n' "${failed[@]}" >&2
  exit 1
fi
