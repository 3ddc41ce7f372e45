// Package handlers holds ready-made message handlers for fxpubsub and the small, typed tools to
// build handlers from parts: the Go form of the original microcosm-pubsub's handlers package and
// its Chain DSL.
//
// # URI handler
//
// Messages in the microcosm style are references: a created, changed or deleted message carries
// the URI of the resource, which the consumer fetches from its source of truth. [URIHandler] does
// that with net/http: it GETs the message's uri (with a timeout, sending only the x-request-*
// opaque keys as headers), decodes the JSON into a typed resource and hands it to a hook. A 404
// means "not committed yet" and is RETRIED after a resource timeout; a changed message whose
// field_name does not have new_value yet is RETRIED too; other HTTP errors FAIL.
//
//	fxpubsub.AsHandler[fxpubsub.ChangedURIMessage](fxpubsub.Created("Order"), func(s *Shipping) (*handlers.URIHandler[Order], error) {
//		return handlers.NewURIHandler(handlers.URIOptions[Order]{
//			AllowedHosts: []string{"orders.internal"},
//			Cache:        handlers.NewTTLCache(handlers.TTLCacheOptions{TTL: time.Minute}),
//			Handle: func(ctx context.Context, msg *fxpubsub.ChangedURIMessage, o *Order) error {
//				return s.Ship(ctx, o)
//			},
//		})
//	})
//
// # SSRF guard
//
// A message's URI is input from whoever can publish to the topic, so the handler fetches only
// http and https URIs and, with [URIOptions.AllowedHosts], only those hosts; the same check runs on
// every redirect. Whatever the host list, an address guard checks every connection at dial time,
// on the address the name resolved to, and refuses loopback, unspecified, link-local (with the
// instance-metadata addresses), multicast and broadcast addresses, in their IPv6-embedded forms
// too; [URIOptions.DenyPrivate] adds the private ranges, and [URIOptions.AllowLoopback] (tests and
// local development only) lets loopback through. A URI outside the rules is SKIPPED with a reason
// (and deleted), never fetched. Set an allow-list in production as well.
//
// # Resource cache
//
// [URIOptions.Cache] (a [TTLCache], or any [Cache]) keeps fetched bodies for the URIs that
// [URIOptions.Cacheable] accepts, by default those of created media types. The original's cache
// never applied (its whitelist read a key decoded messages don't have); this one does, and its
// tests drive it with an injected clock.
//
// # Batch messages
//
// [fxpubsub.Producer.DeferredBatch] publishes a unit of work's messages as batch messages
// (media type [fxpubsub.BatchMessageMediaType], at most 100 messages and 256 KiB each), in the
// original's wire format, so Go and Python services exchange them. [BatchRepublisher], registered
// with [AsBatchRepublisher], handles them by republishing every inner message verbatim. Restrict
// the topics it republishes to with [RepublisherOptions.AllowedTopics].
//
// # Composition
//
// A [Middleware] wraps a typed handler; [Wrap] applies several, the first outermost, keeping the
// wrapped handler's name:
//
//	h := handlers.Wrap[Order](orderHandler,
//		handlers.Logging[Order](nil),               // start/finish lines with the message's opaque fields
//		handlers.Timeout[Order](10*time.Second),    // per-handler deadline
//		handlers.Idempotent(handlers.IdempotencyOptions[Order]{}), // at most once per SQS message id
//	)
//
// [Idempotent] remembers handled message ids in an [IdempotencyStore]: [MemoryStore] by default
// (one process), or any shared store that implements Claim, Complete and Release.
//
// Instead of the Chain DSL's name-injected context, steps pass typed values: a [Step] turns one
// value into the next, [Then] composes two, [FromStep] makes a handler of the result, and
// [Sequence] runs several functions on one message. [URIHandler.Fetch] is a Step, so "fetch, then
// process" is handlers.FromStep(handlers.Then(uri.Fetch, process)).
//
// # Errors
//
// Handlers report outcomes with fxpubsub's outcome errors (*fxpubsub.Nack, *fxpubsub.SkipMessage,
// ...). Failures are typed where callers branch on them: *[ForbiddenURIError] (the cause of a
// skipped URI), *[StatusError] (an HTTP status outside 2xx), *[TimeoutError] (a handler that failed
// after its deadline).
//
// # Testing
//
// Everything here runs without AWS: drive handlers through an fxpubsub.Dispatcher, or an app from
// package pubsubtest on the in-memory backend. The package's own tests use httptest servers, the
// in-memory backend and the fauxqs emulator.
package handlers
