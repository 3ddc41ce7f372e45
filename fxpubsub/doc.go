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
// Producer-only apps take *[Producer] from fx.New(fxpubsub.Module, fxconfig.FromArgs(...)) and
// never poll: the daemon starts only with [RunConsumer] or [Main].
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
// messages at once and flushes pending deletes.
//
// # Opaque data
//
// Every handler's context carries the message's opaque data ([OpaqueFrom]) plus message_id, the
// decremented x-request-ttl, uri, receipt_handle and handler; messages produced with that context
// carry it on, so request ids and the hop TTL cross services. [LoggerFrom] gives a logger with
// those fields.
//
// # Configuration
//
// [Config] lists every section and key with its default; fxconfig loads them from files,
// <NAME>__SECTION__KEY environment variables and flags. --testing swaps AWS for the in-memory
// backend in package pubsubmem.
//
// # Errors
//
// Typed errors, matched with errors.As: [UnknownMediaTypeError], [TopicNotDefinedError],
// [ValidationError], [DecodeError], [MessageTooLargeError], [PublishError],
// [DuplicateSchemaError], [DuplicateHandlerError].
package fxpubsub
