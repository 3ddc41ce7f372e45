// Package bench holds the throughput and memory benchmarks behind the figures in issues 2 and 3:
// draining a pre-loaded fauxqs queue with a hand-rolled aws-sdk-go-v2 loop and with the library
// daemon at default settings (BenchmarkDrainFauxqs), end-to-end publish → consume → ack through
// fauxqs (BenchmarkPublishConsumeFauxqs) and through the in-memory backend
// (BenchmarkPublishConsumeMemory), memory with 1,000 messages in flight (BenchmarkInFlight1000), and
// what the shipped logger's result line costs a dispatched message (BenchmarkResultLine, in memory).
//
// The fauxqs benchmarks skip unless PUBSUB_FAUXQS_ENDPOINT is set; PUBSUB_FAUXQS_PID (optional)
// adds the emulator's CPU to the report. scripts/bench.sh starts fauxqs, runs everything with the
// variants in alternating order, each in its own process, and prints medians.
package bench
