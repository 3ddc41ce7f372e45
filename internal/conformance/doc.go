// Package conformance holds the SNS/SQS conformance suite: the same subtests run against every
// target from awstest.All (the in-memory backend, fauxqs and moto), so the in-memory backend
// cannot drift from what real SNS/SQS servers do, and so every emulator quirk the library has to
// live with is written down as a Caps branch with the reason next to it.
//
// The package has no non-test code. Run it with the emulators up:
//
//	scripts/test.sh ./internal/conformance/...          # or -v -run 'TestConformance/moto'
//
// Each subtest builds its own uniquely named topic, queues and subscription (awstest.Pipeline),
// and they run in parallel, since most of the time is spent waiting on visibility timeouts and
// long polls rather than on CPU.
package conformance
