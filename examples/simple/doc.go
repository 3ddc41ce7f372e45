// Command simple is the original microcosm-pubsub README's "Asynchronous Workers" example, in Go:
// a schema (SimpleSchema, media type application/vnd.globality.pubsub.simple), a handler with an
// injected collaborator (SimpleHandler, Collaborator), and a consumer daemon named "example" run
// by fxpubsub.Main.
//
// # Run it
//
// With no queue it is a self-contained demo: it runs on the in-memory SNS/SQS backend (it adds
// --testing itself), publishes a few SimpleSchema messages through the producer (sns_producer),
// prints one line per handled message with its result, and exits 0 once all are handled:
//
//	go run ./examples/simple
//
// Give it a queue and it is a real daemon that runs until SIGINT or SIGTERM (it then drains and
// exits 0). Credentials and region come from the AWS SDK's default chain; for LocalStack or an
// emulator, point the clients at it:
//
//	go run ./examples/simple --sqs-queue-url my-queue \
//	    --set sqs_consumer.endpoint_url=http://localhost:4566 \
//	    --set sns_producer.endpoint_url=http://localhost:4566
//
// Replay messages from JSON lines, one message per line, either a message JSON or an SQS record
// ({"Body": ..., "MessageId": ...}); it exits 0 at the end of the input, reporting FAILED for lines
// that are not valid messages:
//
//	echo '{"mediaType":"application/vnd.globality.pubsub.simple","message":"hi","timestamp":1}' |
//	    go run ./examples/simple --stdin
//	go run ./examples/simple --sqs-queue-url ./messages.jsonl
//
// Every flag of fxpubsub.Main works (--debug, --config, --set, --envelope, --health-addr); run
// with --help to list them. Configuration also comes from EXAMPLE__<SECTION>__<KEY> environment
// variables.
//
// # What it shows
//
//   - a message type that knows its media type (PubSubMediaType) with validate tags: a message
//     without "message" or "timestamp" is FAILED, not handed to the handler;
//   - fxpubsub.AsHandler[SimpleSchema]("", NewSimpleHandler): a handler built by a constructor
//     whose parameters fx injects (the original's @binding plus @handles);
//   - fxpubsub.AsResultHook: observing every result (here, to print it);
//   - fxpubsub.Main: the daemon entry point, the original's ConsumerDaemon().run().
package main
