#!/usr/bin/env bash
# Checks scripts/fuzz.sh's verdicts in both directions (run by .ci/run before the fuzz step):
#   1. a planted crasher (scripts/testdata/fuzzcrash, a module of its own, fuzzed with the real go
#      command) fails the step, and its input stays in testdata/fuzz/FuzzPlanted/;
#   2. a bare "context deadline exceeded" (golang/go#75804), simulated by a stub go command, is retried
#      once and passes; if it recurs it is tolerated and counted;
#   3. a deadline error that comes with a written input, or with any other failure detail, fails;
#   4. every fuzz target has a budget line in fuzz.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
FUZZ="$ROOT/scripts/fuzz.sh"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cases=0

fail() {
  echo "fuzz-selftest: FAILED: $*" >&2
  exit 1
}

# expect NAME WANT_STATUS WANT_SUMMARY -- command...: runs the command, checks exit status and summary.
expect() {
  local name="$1" want_status="$2" want_summary="$3" status summary
  shift 4
  set +e
  FUZZ_SUMMARY="$work/summary" "$@" >"$work/$name.log" 2>&1
  status=$?
  set -e
  summary="$(cat "$work/summary" 2>/dev/null || true)"
  rm -f "$work/summary"
  if [ "$status" -ne "$want_status" ] || [ "$summary" != "$want_summary" ]; then
    cat "$work/$name.log" >&2
    fail "$name: exit $status, summary '$summary'; want exit $want_status, summary '$want_summary'"
  fi
  cases=$((cases + 1))
  echo "fuzz-selftest: $name: exit $status, $summary"
}

# 1. The planted crasher, with the real go command.
cp -r "$ROOT/scripts/testdata/fuzzcrash" "$work/crash"
expect planted-crasher 1 "fuzz: 1 targets, 0 passed, 1 failed, 0 deadline retries, 0 tolerated" -- \
  env FUZZ_ROOT="$work/crash" FUZZTIME=200000x "$FUZZ" . FuzzPlanted
kept="$(ls "$work/crash/testdata/fuzz/FuzzPlanted" 2>/dev/null || true)"
[ -n "$kept" ] || fail "planted-crasher: no input kept in testdata/fuzz/FuzzPlanted"
grep -q 'failing input ./testdata/fuzz/FuzzPlanted/' "$work/planted-crasher.log" ||
  fail "planted-crasher: the failing input was not printed"
# The kept input reproduces the panic with a plain `go test`.
(cd "$work/crash" && go test -run 'FuzzPlanted' . >"$work/replay.log" 2>&1) &&
  fail "planted-crasher: the kept input does not fail go test"
grep -q 'planted crasher' "$work/replay.log" || fail "planted-crasher: the replay did not hit the planted panic"
echo "fuzz-selftest: planted-crasher: input kept ($kept) and it reproduces"

# 2-3. A stub go command: `test -list` names FuzzStub; a fuzzing run behaves as STUB_MODE says.
mkdir -p "$work/stub/bin" "$work/stub/pkg"
cat >"$work/stub/bin/go" <<'EOF'
#!/usr/bin/env bash
set -eu
case " $* " in
  *" -list "*) printf 'FuzzStub\nok  \tstub\t0.01s\n'; exit 0 ;;
esac
calls="$STUB_STATE/calls"
n=$(( $(cat "$calls" 2>/dev/null || echo 0) + 1 ))
echo "$n" >"$calls"
deadline() {
  printf 'fuzz: elapsed: 15s, execs: 1000 (66/sec), new interesting: 0 (total: 3)\n'
  printf -- '--- FAIL: FuzzStub (16.55s)\n    context deadline exceeded\nFAIL\nexit status 1\n'
  printf 'FAIL\tstub\t16.6s\n'
  exit 1
}
case "$STUB_MODE" in
  deadline-once) [ "$n" -ge 2 ] && { printf 'PASS\nok  \tstub\t15.1s\n'; exit 0; }; deadline ;;
  deadline-always) deadline ;;
  deadline-with-input)
    mkdir -p testdata/fuzz/FuzzStub
    printf 'go test fuzz v1\nstring("boom")\n' >testdata/fuzz/FuzzStub/0123abcd
    deadline ;;
  other-failure)
    printf -- '--- FAIL: FuzzStub (0.20s)\n    stub_test.go:9: decoded 3 fields, want 2\n'
    printf '    context deadline exceeded\nFAIL\nexit status 1\nFAIL\tstub\t0.3s\n'
    exit 1 ;;
esac
echo "stub go: unknown STUB_MODE $STUB_MODE" >&2
exit 2
EOF
chmod +x "$work/stub/bin/go"

stub() {
  local mode="$1"
  rm -rf "$work/stub/pkg/testdata" "$work/stub/state"
  mkdir -p "$work/stub/state"
  env GO="$work/stub/bin/go" FUZZ_ROOT="$work/stub/pkg" STUB_STATE="$work/stub/state" STUB_MODE="$mode" \
    "$FUZZ" . FuzzStub
}

expect deadline-once 0 "fuzz: 1 targets, 1 passed, 0 failed, 1 deadline retries, 0 tolerated" -- stub deadline-once
[ "$(cat "$work/stub/state/calls")" = 2 ] || fail "deadline-once: want 2 runs, got $(cat "$work/stub/state/calls")"
expect deadline-always 0 "fuzz: 1 targets, 1 passed, 0 failed, 1 deadline retries, 1 tolerated" -- stub deadline-always
grep -q 'tolerated' "$work/deadline-always.log" || fail "deadline-always: no warning printed"
expect deadline-with-input 1 "fuzz: 1 targets, 0 passed, 1 failed, 0 deadline retries, 0 tolerated" -- \
  stub deadline-with-input
[ -f "$work/stub/pkg/testdata/fuzz/FuzzStub/0123abcd" ] || fail "deadline-with-input: input not kept"
expect other-failure 1 "fuzz: 1 targets, 0 passed, 1 failed, 0 deadline retries, 0 tolerated" -- stub other-failure
[ "$(cat "$work/stub/state/calls")" = 1 ] || fail "other-failure: retried a failure that was not a bare deadline"

# 4. Every fuzz target in the repository has its own budget line in fuzz.sh.
missing=()
while read -r target; do
  grep -qE "^[[:space:]]+$target\) echo [0-9]+x ;;" "$FUZZ" || missing+=("$target")
done < <(grep -rhoE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+' "$ROOT" --exclude-dir=node_modules --exclude-dir=testdata |
  sed 's/^func //' | sort -u)
[ "${#missing[@]}" -eq 0 ] || fail "no budget in scripts/fuzz.sh for: ${missing[*]}"
cases=$((cases + 1))
echo "fuzz-selftest: every fuzz target has a budget"

echo "fuzz-selftest: $cases cases passed"
