// Command prometheus is a consumer daemon that exports the library's metrics in the Prometheus text
// format on a local HTTP port, through OpenTelemetry: it puts a metric.MeterProvider backed by the
// OpenTelemetry Prometheus exporter into the fx graph, and fxpubsub.Module records into it.
//
// # Run it
//
// With no queue it is a demo on the in-memory SNS/SQS backend: it publishes a few greetings (one
// is retried later, one fails and is redelivered after the backoff) and keeps running until
// SIGINT or SIGTERM, serving the metrics:
//
//	go run ./examples/prometheus
//	curl -s http://127.0.0.1:9464/metrics | grep -E '^(message|sns_producer|sqs_consumer)'
//
// The listen address is the config key prometheus.addr (default 127.0.0.1:9464):
//
//	go run ./examples/prometheus --set prometheus.addr=127.0.0.1:9000
//
// With a queue (--sqs-queue-url, see the simple example and fxpubsub.Main) it consumes it.
//
// # What it shows
//
//   - fx.Provide(NewMeterProvider): a metric.MeterProvider in the graph is all fxpubsub.Module
//     needs; without one it records into the global provider (a no-op unless set), at no cost;
//   - the Prometheus names of the library's metrics: the exporter adds unit and counter suffixes,
//     so the original's statsd histogram "message" (milliseconds) is message_seconds here, and
//     the counter sqs_consumer.received is sqs_consumer_received_total.
package main
