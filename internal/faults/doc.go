// Package faults proves the library's delivery guarantees under faults, with real parts only: the
// aws-sdk-go-v2 clients, the fxpubsub producer and daemon, and fauxqs on 127.0.0.1.
//
// The helpers here are used by the package's tests (and by scripts/soak.sh):
//
//   - [Proxy]: a fault-injecting HTTP proxy on 127.0.0.1 between the SDK and the emulator. On a
//     schedule it answers 500s and throttling errors, resets connections before or after the
//     emulator applied a call, delays responses past client timeouts, and fails chosen entries of
//     DeleteMessageBatch, ChangeMessageVisibilityBatch and PublishBatch. It counts requests per
//     operation and per second, so tests can bound the request rate while the backend fails.
//   - [Fauxqs]: a private fauxqs process on a free loopback port (the project's Node 22 binary and
//     tools/sqs-emulator/start.mjs), which tests can stop and start again on the same port.
//   - [Child]: a child process (the example daemon built with `go build`) with its stdout read
//     line by line, killed with SIGKILL or stopped with SIGTERM.
//   - [Ledger]: counts, per message key, how often it was handled: losses and duplicates.
//
// The tests skip locally without the emulators and fail under CI (the internal/awstest rules); run
// them with scripts/test.sh ./internal/faults/... . The soak (TestSoak) runs only with
// PUBSUB_SOAK=1; scripts/soak.sh runs it.
package faults
