// Package fxpubsub is microcosm-pubsub for Go: typed publish/subscribe messaging over AWS SNS
// (publish) and SQS (consume), wire-compatible with Python services that use microcosm-pubsub, as
// Uber fx modules.
//
// # Usage
//
// Declare a message type (its json tags are the wire names, its validate tags the rules), write a
// handler, and run the consumer daemon:
//
//	type OrderCreated struct {
//		URI string `json:"uri" validate:"required,url"`
//	}
//
//	func (OrderCreated) PubSubMediaType() string { return fxpubsub.Created("Order") }
//
//	type OrderHandler struct{ store *Store }
//
//	func NewOrderHandler(s *Store) *OrderHandler { return &OrderHandler{store: s} }
//
//	func (h *OrderHandler) Handle(ctx context.Context, msg *OrderCreated) error { ... }
//
//	func main() {
//		os.Exit(fxpubsub.Main("orders", os.Args[1:],
//			fx.Provide(NewStore),
//			fxpubsub.AsHandler[OrderCreated]("", NewOrderHandler),
//		))
//	}
//
// Apps of their own run with [Run], which gives them Main's command line, logs and exit codes
// around their own fx options; producer-only apps take *[Producer] from it and never poll: the
// daemon starts only with [RunConsumer] or [Main]. (fx.New(fxpubsub.Module,
// fxconfig.FromArgs(...)) still works, with fx's own errors, event log and exit codes.)
//
// # Components
//
// [Module] provides each part unnamed by type and under microcosm's component names:
// *[SchemaRegistry] pubsub_message_schema_registry, *[Producer] sns_producer, *[Consumer]
// sqs_consumer, *[Dispatcher] sqs_message_dispatcher and *[HandlerRegistry]
// sqs_message_handler_registry; plus [Config], *[Backend], *[Telemetry] and *[Daemon]. Apps never
// write group or name tags: [AsSchema], [AsSchemaOf], [AsHandler], [AsHandlerFunc] and
// [AsResultHook] add to the value groups, which nothing reads in order; a second handler or schema
// for one media type is a start-up error ([DuplicateHandlerError], [DuplicateSchemaError]).
//
// # Overriding
//
// Replace a part with fx.Decorate at the app's root, for example a *[Backend] with clients of your
// own (an SQS client with a custom endpoint, a recorder; pubsubtest does this). Every
// constructor the module uses is exported and works without fx: [NewSchemaRegistry],
// [NewProducer], [NewConsumer], [NewDispatcher], [NewDaemon].
//
// # Testing
//
// Package pubsubtest runs an app on the in-memory backend (package pubsubmem), records what it
// publishes and what its handlers return, and sends its log to the test's log:
//
//	app := pubsubtest.New(t, "orders", nil, orders.Module)
//	h := app.Handle(ctx, orders.CreatedMT, orders.Created{URI: "https://orders/1"})
//
// # Messages and media types
//
// A message is JSON: {"mediaType": ..., <fields>, "opaqueData": {...}}, published with the SNS
// message attribute media_type. [Created], [Changed], [Deleted] and [Lifecycle] build media types
// as microcosm does; [SchemaFor], [AsSchema] and [AsHandler] bind Go types to them. Lifecycle media
// types without a registered type get the convention schemas [URIMessage], [ChangedURIMessage] and
// [IdentityMessage], exactly as the Python library, so a Go producer can never send a created.*
// message without a uri that would poison a Python consumer.
//
// # Delivery semantics
//
// At least once. A handler's outcome decides what happens to its message: nil is SUCCEEDED;
// *[SkipMessage], *[IgnoreMessage] and *[TTLExpired] are SKIPPED, IGNORED and EXPIRED; those four
// delete the message. *[Nack] is RETRIED after its timeout; any other error, or a panic, is FAILED
// and retried after the backoff policy's timeout, so the queue's redrive policy can dead-letter a
// message that keeps failing. A message that cannot be decoded fails on its own: it never holds
// back the rest of its batch. Deletes and visibility changes are batched; the heartbeat extends
// the visibility of long-running messages; stopping drains in-flight handlers, returns unstarted
// messages at once and flushes pending deletes. On a FIFO queue (URL ending in .fifo) message groups
// run in parallel and one group's messages one at a time, in order; after a RETRIED or FAILED
// message, the rest of its group's receive goes back unstarted, so the group keeps its order.
//
// # Opaque data
//
// Every handler's context carries the message's opaque data ([OpaqueFrom]) plus message_id, the
// decremented x-request-ttl, uri, receipt_handle and handler; messages produced with that context
// carry it on, so request ids and the hop TTL cross services. [LoggerFrom] gives a logger with
// those fields. As in the original, that ambient data wins over [WithOpaqueData] on a key both
// have; [OverrideOpaqueData] may replace it but never raises the hop TTL. Values keep their JSON
// types (see [Opaque]). Only the exact key x-request-ttl is the hop TTL; one that is not an
// integer makes the message FAILED with an [InvalidTTLError].
//
// # Observability
//
// The library records OpenTelemetry metrics and spans through a [Telemetry] ([NewTelemetry],
// [ProducerOptions.Telemetry], [DispatcherOptions.Telemetry], [DaemonOptions.Telemetry]). [Module]
// builds one from an optional metric.MeterProvider, trace.TracerProvider and
// propagation.TextMapPropagator in the graph, falling back to the global providers; nothing is
// recorded, and nothing measurable is spent, until an SDK is installed. Any exporter works
// (Prometheus, OTLP, a statsd bridge); examples/prometheus serves Prometheus.
//
// Metrics (instrumentation scope [ScopeName]; all durations in seconds). The first five keep the
// original's statsd names and tags, so dashboards translate; the original sent milliseconds for
// message, message_batch and sns_producer and seconds for message_handle_start, and its
// consumer-side media type tag is spelled media-type, its producer-side one media_type:
//
//	name                               instrument             unit       attributes                                   original (statsd histogram)
//	message                            Float64Histogram       s          source, result, media-type                   message, ms
//	message_handle_start               Float64Histogram       s          source, result, media-type                   message_handle_start, s
//	message_batch                      Float64Histogram       s          source                                       message_batch, ms
//	message_batch_size                 Int64Histogram         {message}  source                                       message_batch_size, count
//	sns_producer                       Float64Histogram       s          source, publish_result, media_type           sns_producer, ms
//	sqs_consumer.receive.duration      Float64Histogram       s          messaging.destination.name, result           new
//	sqs_consumer.received              Int64ObservableCounter {message}  messaging.destination.name                   new
//	sqs_consumer.handled               Int64ObservableCounter {message}  messaging.destination.name                   new
//	sqs_consumer.released              Int64ObservableCounter {message}  messaging.destination.name                   new
//	sqs_consumer.receive.calls         Int64ObservableCounter {call}     messaging.destination.name                   new
//	sqs_consumer.receive.empty         Int64ObservableCounter {call}     messaging.destination.name                   new
//	sqs_consumer.receive.errors        Int64ObservableCounter {call}     messaging.destination.name                   new
//	sqs_consumer.visibility_extensions Int64ObservableCounter {message}  messaging.destination.name                   new
//	sqs_consumer.in_flight             Int64ObservableUpDown  {message}  messaging.destination.name                   new
//	sqs_consumer.workers.reserved      Int64ObservableUpDown  {worker}   messaging.destination.name                   new
//	sqs_consumer.workers.utilization   Float64ObservableGauge 1          messaging.destination.name                   new
//	sqs_consumer.settle.calls          Int64ObservableCounter {call}     messaging.destination.name, action           new
//	sqs_consumer.settle.entries        Int64ObservableCounter {message}  messaging.destination.name, action           new
//	sqs_consumer.settle.call_errors    Int64ObservableCounter {call}     messaging.destination.name, action           new
//	sqs_consumer.settle.failures       Int64ObservableCounter {message}  messaging.destination.name, action           new
//	sqs_consumer.settle.pending        Int64ObservableUpDown  {message}  messaging.destination.name, action           new
//
// source is always "microcosm-pubsub"; result is the [ResultType] name (IGNORED messages are not
// measured, as in the original); publish_result is SUCCESS or FAILURE; action is delete or
// change_visibility; the receive result is messages, empty or error. message is the handler's
// time, message_handle_start the delay from x-request-published to the handler's start.
// Handling is decoupled from receiving, so a batch is now the messages of one ReceiveMessage call:
// message_batch runs from the receive returning until the last of them is handled, and
// message_batch_size counts its non-IGNORED messages. sns_producer measures the Publish (or
// PublishBatch) call that settled a message. The sqs_consumer.* counters and gauges are read from
// [Daemon.Stats] at collection time and cost nothing per message. Prometheus exporters add unit
// and counter suffixes: message becomes message_seconds, sqs_consumer.received
// sqs_consumer_received_total.
//
// Traces: every publish gets a producer span ("publish <topic>", messaging.system aws.sns) whose
// context is written into the message's opaqueData as a W3C traceparent (and tracestate), and every
// dispatched message a consumer span ("process <queue>", messaging.system aws_sqs, with
// pubsub.media_type, pubsub.result and pubsub.handler) that continues that trace, so a handler
// that publishes extends one trace across services; Python services that pass opaqueData through
// keep it, as they kept the original's x-dynatrace tag. x-request-id becomes
// messaging.message.conversation_id. FAILED marks the span as an error. With tracing on, the
// result log line and [LoggerFrom]'s logger carry trace_id and span_id. [TraceContextFrom] reads
// the trace context a message carries, traced or not.
//
// # Configuration
//
// [Config] lists every section and key with its default; fxconfig loads them from files,
// <NAME>__SECTION__KEY environment variables and flags. --testing swaps AWS for the in-memory
// backend in package pubsubmem.
//
// # Securing envelopes
//
// With raw delivery off, SNS wraps each message in a JSON notification naming its topic. Anyone
// allowed sqs:SendMessage on the queue can send a body that looks just like one and claims any
// topic. Three checks, all in section sqs_envelope and all off by default (emulators don't sign:
// fauxqs and the in-memory backend write the signature "EXAMPLE"), guard the codec envelope:
//
//	sqs_envelope:
//	  verify_signatures: true        # SignatureVersion 1 (SHA1withRSA) and 2 (SHA256withRSA)
//	  allowed_topic_arns:            # or PREFIX__SQS_ENVELOPE__ALLOWED_TOPIC_ARNS=arn1,arn2
//	    - arn:aws:sns:us-east-1:123456789012:orders
//	  require_envelope: true         # refuse bodies that are not SNS notifications
//
// verify_signatures checks each notification's signature over the canonical string AWS documents
// (Message, MessageId, Subject if present, Timestamp, TopicArn, Type). The signing certificate is
// fetched only from https://sns.<region>.amazonaws.com[.cn]/….pem (no other host, port, query or
// redirect; at most 64 KiB; 10 s timeout), must be a currently valid RSA certificate, and is cached
// for up to 24 hours, so a consumer needs outbound HTTPS to that host, once per certificate.
// allowed_topic_arns refuses notifications from other topics before any certificate fetch; on its
// own it only stops mistakes, since a forger can name an allowed topic: pair it with
// verify_signatures. require_envelope refuses raw bodies, so with both on nothing but a genuine
// notification from an allowed topic is handled. The envelope's MessageAttributes are never read
// (SNS does not sign them); the media type comes from the signed Message. A signature does not stop
// a replay of a genuine notification: keep handlers idempotent.
//
// A refused body is FAILED, not IGNORED: its Message.Err is a *[DecodeError] wrapping an
// *[EnvelopeError] (Check names the config key, Err one of [ErrTopicNotAllowed], [ErrNotEnvelope],
// [ErrSignatureFields], [ErrSigningCertURL], [ErrSigningCert], [ErrBadSignature]), its content is
// never decoded and no handler sees it. It is nacked with the backoff policy, so the queue's
// redrive policy moves it to the dead-letter queue after maxReceiveCount receives. IGNORED would
// delete it: a genuine message refused for a passing reason (the certificate host unreachable)
// would be lost, and a forgery would leave no evidence. Configure a redrive policy on production
// queues. The checks apply to strategy_name codec only; setting them with raw or naive is a
// configuration error. In code, set [ConsumerOptions].EnvelopeChecks (with [NewSNSVerifier]).
//
// # Secrets
//
// AWS credentials are never part of the configuration (the SDK's default chain supplies them), and
// the clients [NewBackend] builds scrub the SigV4 signature and session token a request carried out
// of any error response before it becomes an error ([RedactSecrets]), so an endpoint or proxy that
// echoes requests cannot put them in errors, logs or Sentry. Configuration errors about the Sentry
// DSN show it without its keys.
//
// # Errors
//
// Typed errors, matched with errors.As: [UnknownMediaTypeError], [TopicNotDefinedError],
// [ValidationError], [DecodeError], [EnvelopeError], [MessageTooLargeError], [PublishError],
// [DuplicateSchemaError], [DuplicateHandlerError].
package fxpubsub
