#!/usr/bin/env bash
# Runs the benchmarks of internal/bench (the figures of issues 2 and 3) against a private fauxqs and
# prints the median of every metric.
#
# Usage: scripts/bench.sh [rounds]      rounds per benchmark, default 3
#
# - Starts fauxqs on a free 127.0.0.1 port with its own state dir (scripts/emulator-up.sh) and
#   stops it on exit.
# - Builds the benchmark binary once, then runs every benchmark in its own process with
#   -benchtime 1x (one op = one full drain / run), so peak RSS (VmHWM) belongs to that run alone.
# - BenchmarkDrainFauxqs: one discarded warm-up of each variant (fauxqs's JIT), then `rounds` rounds
#   of baseline and library, alternating which goes first.
# - Records `uptime` before each run (other work on the machine changes msg/s a lot; CPU per message
#   much less).
# - Ends with the drain table: the library at defaults beside the loop, medians and ratios, per
#   message (CPU µs, allocations, SQS calls), and the load (1-minute average) of those runs.
# Raw output goes to $BENCH_OUT (default .emulator/bench-<time>.txt); the medians go to stdout.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
ROUNDS="${1:-3}"

mkdir -p .emulator
STATE="$(mktemp -d "$ROOT/.emulator/bench.XXXXXX")"
export EMULATOR_STATE_DIR="$STATE"
OUT="${BENCH_OUT:-$ROOT/.emulator/bench-$(date -u +%Y%m%dT%H%M%S).txt}"
: >"$OUT"
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
PUBSUB_FAUXQS_PID="$(cat "$STATE/fauxqs.pid")"
export PUBSUB_FAUXQS_ENDPOINT PUBSUB_FAUXQS_PID
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_EC2_METADATA_DISABLED=true
unset AWS_ENDPOINT_URL AWS_PROFILE AWS_SESSION_TOKEN CI 2>/dev/null || true

BIN="$STATE/bench.test"
go test -c -o "$BIN" ./internal/bench/

# run PATTERN BENCHTIME [discard]: one benchmark process; its result lines go to $OUT unless discard.
run() {
  local line
  line="# $(date -u +%H:%M:%S) $1 load:$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "$line" >&2
  if [ "${3:-}" = discard ]; then
    "$BIN" -test.run '^$' -test.bench "$1" -test.benchtime "$2" -test.count 1 >/dev/null
    return
  fi
  echo "$line" >>"$OUT"
  "$BIN" -test.run '^$' -test.bench "$1" -test.benchtime "$2" -test.count 1 -test.benchmem | grep -E '^(Benchmark|--- |    )' | tee -a "$OUT" >&2
}

BASE='BenchmarkDrainFauxqs/baseline$'
LIB='BenchmarkDrainFauxqs/library$'
run "$BASE" 1x discard
run "$LIB" 1x discard
for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) -eq 1 ]; then run "$BASE" 1x; run "$LIB" 1x; else run "$LIB" 1x; run "$BASE" 1x; fi
done
for _ in $(seq 1 "$ROUNDS"); do run 'BenchmarkPublishConsumeFauxqs$' 1x; done
for _ in $(seq 1 "$ROUNDS"); do run 'BenchmarkInFlight1000/memory$' 1x; run 'BenchmarkInFlight1000/fauxqs$' 1x; done
for _ in $(seq 1 "$ROUNDS"); do run 'BenchmarkPublishConsumeMemory$' 100000x; done
for _ in $(seq 1 "$ROUNDS"); do run 'BenchmarkResultLine' 300000x; done

# ---- publish table (issue 13, goal 2) -------------------------------------------------------
# BenchmarkPublishFauxqs: the hand-tuned PublishBatch loop beside Produce from 8 and 64 goroutines
# and ProduceBatch from 8; one discarded warm-up of each, then `rounds` rounds (at least 5) with the
# order of the variants rotating from round to round.
publish_table() {
  local variants=(loop produce8 producebatch8 produce64) v r i n rounds=$((ROUNDS < 5 ? 5 : ROUNDS))
  n=${#variants[@]}
  for v in "${variants[@]}"; do run "BenchmarkPublishFauxqs/$v\$" 1x discard; done
  for r in $(seq 0 $((rounds - 1))); do
    for i in $(seq 0 $((n - 1))); do
      if [ $((r % 2)) -eq 0 ]; then v=${variants[$(((i + r / 2) % n))]}; else v=${variants[$(((n - 1 - i + r / 2) % n))]}; fi
      run "BenchmarkPublishFauxqs/$v\$" 1x
    done
  done
}
publish_table
# ---- end of the publish table ---------------------------------------------------------------

# Medians: one block per benchmark, one line per metric.
echo "raw results: $OUT"
grep '^Benchmark' "$OUT" | awk '{
    name = $1; sub(/-[0-9]+$/, "", name)
    for (i = 3; i + 1 <= NF; i += 2) print name "\t" $(i + 1) "\t" $i
  }' | sort -t$'\t' -k1,1 -k2,2 -k3,3g | awk -F'\t' '
    function flush() {
      if (n == 0) return
      med = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
      if (key1 != lastname) { printf "\n%s\n", key1; lastname = key1 }
      printf "  %-36s %12.6g   (n=%d, min %g, max %g)\n", key2, med, n, v[1], v[n]
      n = 0
    }
    { if ($1 != key1 || $2 != key2) { flush(); key1 = $1; key2 = $2 } v[++n] = $3 }
    END { flush() }'

# The drain table: medians of the library (defaults) and the loop, and their ratio.
echo
DRAIN_N="$(grep -m1 -o 'drainMessages = [0-9_]*' internal/bench/drain_test.go | tr -d '_' | cut -d' ' -f3)"
echo "drain of $DRAIN_N messages on fauxqs, medians of $ROUNDS alternating runs each"
grep '^BenchmarkDrainFauxqs/' "$OUT" | awk '
    { v = ($1 ~ /library/) ? "library" : "loop"
      for (i = 3; i + 1 <= NF; i += 2) print v "\t" $(i + 1) "\t" $i }' | sort -t$'\t' -k1,1 -k2,2 -k3,3g | awk -F'\t' -v N="$DRAIN_N" '
    { k = $1 SUBSEP $2; n[k]++; val[k, n[k]] = $3 }
    function med(k) { c = n[k]; if (c == 0) return -1; return (c % 2) ? val[k, (c + 1) / 2] : (val[k, c / 2] + val[k, c / 2 + 1]) / 2 }
    function row(label, metric, scale, fmt,   a, b) {
      a = med("loop" SUBSEP metric); b = med("library" SUBSEP metric)
      if (a < 0 || b < 0) return
      printf "| %-28s | " fmt " | " fmt " | %5.2fx |\n", label, a * scale, b * scale, (a > 0 ? b / a : 0)
    }
    END {
      printf "| %-28s | %10s | %10s | %6s |\n", "", "loop", "library", "ratio"
      print  "| ---------------------------- | ---------- | ---------- | ------ |"
      row("msg/s", "msg/s", 1, "%10.0f")
      row("client CPU us/msg", "cpu-s/1k-msg", 1000, "%10.1f")
      row("allocs/msg", "allocs/op", 1 / N, "%10.1f")
      row("bytes/msg", "B/op", 1 / N, "%10.0f")
      row("SQS calls/msg", "calls/msg", 1, "%10.4f")
      row("  ReceiveMessage/msg", "ReceiveMessage/msg", 1, "%10.4f")
      row("  DeleteMessageBatch/msg", "DeleteMessageBatch/msg", 1, "%10.4f")
      row("peak pending deletes", "peak-pending-deletes", 1, "%10.0f")
      row("load (1 min)", "load1", 1, "%10.2f")
    }'

# ---- publish table: ratios to the loop (issue 13, goal 2) ------------------------------------
# Medians per variant, and rate, client CPU and calls per message as ratios to the loop's medians.
echo
echo "publish, medians (ratios to the loop)"
grep '^BenchmarkPublishFauxqs/' "$OUT" | awk '
  function median(k,   n, i, j, t, a) {
    n = split(vals[k], a, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  {
    v = $1; sub(/^BenchmarkPublishFauxqs\//, "", v); sub(/-[0-9]+$/, "", v); seen[v] = 1
    for (i = 3; i + 1 <= NF; i += 2) vals[v SUBSEP $(i + 1)] = vals[v SUBSEP $(i + 1)] " " $i
  }
  END {
    lr = median("loop" SUBSEP "msg/s"); lc = median("loop" SUBSEP "cpu-µs/msg")
    printf "  %-14s %10s %8s %12s %8s %10s %8s\n", "variant", "msg/s", "×loop", "cpu-µs/msg", "×loop", "calls/msg", "load1"
    split("loop produce8 producebatch8 produce64", order, " ")
    for (k = 1; k <= 4; k++) {
      v = order[k]; if (!(v in seen)) continue
      r = median(v SUBSEP "msg/s"); c = median(v SUBSEP "cpu-µs/msg")
      printf "  %-14s %10.0f %8.2f %12.1f %8.2f %10.3f %8.2f\n", v, r, r / lr, c, c / lc, median(v SUBSEP "calls/msg"), median(v SUBSEP "load1")
    }
  }'
