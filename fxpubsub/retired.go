package fxpubsub

import "github.com/microcosm-go/pubsub/fxconfig"

// retireOriginalKeys declares on s the configuration keys (or whole sections) only the original
// Python library and its siblings (microcosm-daemon, microcosm-logging, microcosm-metrics,
// microcosm-caching) read, each with what replaces it here. Config written for the original keeps
// loading: each key it sets gets one warning with this advice (an error under strict_config).
func retireOriginalKeys(s *fxconfig.Settings) {
	for _, k := range []struct{ key, replacement string }{
		{"sns_producer.mock_sns", "--testing runs the real producer on the in-memory SNS/SQS backend; nothing to set"},
		{"sqs_consumer.sqs_event", "there is no Lambda mode; the daemon polls sqs_consumer.sqs_queue_url"},
		{"sqs_envelope.validate_md5", "the AWS SDK checks the MD5 of every received message body itself"},
		{"pubsub_send_metrics", "use telemetry.metrics (false turns the library's metrics off)"},
		{"pubsub_send_batch_metrics", "use telemetry.metrics (false turns the library's metrics off)"},
		{"pubsub_producer_metrics", "use telemetry.metrics (false turns the library's metrics off)"},
		{"metrics", "metrics are OpenTelemetry, recorded on the app's MeterProvider; constant attributes come from telemetry.service and telemetry.environment"},
		{"error_policy", "a fatal error (missing queue, rejected credentials) always stops the daemon, others are retried with backoff; health.heartbeat_threshold_seconds bounds how long a poller may fail"},
		{"sleep_policy", "receivers long-poll for sqs_consumer.wait_seconds instead of sleeping after an empty receive"},
		{"health_reporter", "pollers run in this process and are watched directly; serve the health endpoint with health.port (--healthcheck-port) or health.addr"},
		{"resource_cache", "give handlers.URIHandler a cache in code (handlers.NewTTLCache)"},
		{"logging.levels", "logging.level sets the level of the one zap logger"},
		{"logging.stream_handler", "logs are JSON on stderr (console with --debug)"},
		{"logging.loggly", "logs are JSON on stderr; ship them with the platform's log collector"},
		{"logging.logstash", "logs are JSON on stderr; ship them with the platform's log collector"},
	} {
		s.Retire(k.key, k.replacement)
	}
}
