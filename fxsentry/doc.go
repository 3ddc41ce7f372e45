// Package fxsentry reports failed messages to Sentry, as the fx module [Module]: the Go form of
// microcosm-pubsub's sentry_logging_pubsub, with the original's bugs fixed.
//
// # Usage
//
// fxpubsub.Module bundles this module and registers the [Reporter] as a result hook of the
// dispatcher, so an app only configures it. Apps that compose their own graph add Module next to
// fxconfig.Module and ask for the *[Reporter]:
//
//	fx.New(fxconfig.FromArgs("orders", os.Args[1:]), fxconfig.Module, fxsentry.Module, ...)
//
// Without fx, use [LoadConfig] (or fill a [Config]) and [NewReporter], and call
// [Reporter.Report] and [Reporter.Close].
//
// # Configuration
//
// Section sentry_logging_pubsub ([Section]); sentry_logging ([AliasSection], the name in the
// original README's example) is read too, and where both set a key, sentry_logging_pubsub wins:
//
//	{
//	  "sentry_logging_pubsub": {
//	    "enabled": true,
//	    "dsn": "https://public@o1.ingest.sentry.io/2",
//	    "custom_tags_mapping": {"x-tenant": "tenant"},
//	    "custom_user_id": "x-account-id"
//	  }
//	}
//
// Keys: enabled (bool, default false; "false" from the environment is false), dsn (required when
// enabled), custom_tags_mapping (opaque key → tag name, over [DefaultTagMapping]),
// custom_user_id (opaque key of user.id, default x-request-user), environment (default
// $MICROCOSM_ENVIRONMENT, else "undefined"), release (default build_info_convention.sha1, else
// $BUILD_SHA, else the binary's VCS revision), server_name (default "<name>_daemon"),
// sample_rate (default 1) and flush_timeout (default 2s). See [Config]. Enabled without a DSN, a
// malformed DSN, or an invalid tag name stops start-up with a *fxconfig.FieldError naming the key.
// Environment variables are read from fxconfig.Input.Environ (the process environment unless an
// Input sets it), so tests need no os.Setenv.
//
// # Reporting
//
// FAILED results (handler errors, recovered panics with the panic's stack, undecodable messages)
// are reported as error events, EXPIRED results (hop TTL exhausted) as warning events; nothing
// else is. Each event carries tags from the message's opaque data through the tag mapping
// (x-request-id → x-request-id, message_id → message-id, media_type → media-type,
// span_name → span, uri → uri, handler → handler, plus custom_tags_mapping) and user.id from the
// user-id key. They are set on a scope cloned for the one event, so concurrent messages never see
// each other's tags. The client, hub and HTTP transport are the module's own; the global sentry
// hub is never touched. With Sentry disabled the Reporter has no client and fxpubsub registers no
// hook: a message costs nothing extra.
//
// # Filtering: sentry_before_send
//
// Every event passes through the [BeforeSend] component named sentry_before_send before it is
// sent. The default, [StrictBeforeSend], is "reasonably strict, removing most data in a generic
// way": in contexts, breadcrumb data, request data and user fields it keeps only empty values,
// ids, UUIDs, http(s) URLs (without credentials or query) and the mapped opaque keys and tags,
// and turns everything else into "<redacted>".
//
// # Overriding
//
// Replace sentry_before_send at the app root with [DecorateBeforeSend], which receives the
// current function so it can wrap it. To disable all filtering:
//
//	fxsentry.DecorateBeforeSend(func(fxsentry.BeforeSend) fxsentry.BeforeSend {
//		return func(event *sentry.Event, _ *sentry.EventHint) *sentry.Event {
//			return event // this disables all filtering
//		}
//	})
//
// hint.Context is the handler's context, so a custom function can read the message's opaque
// data with fxpubsub.OpaqueFrom(hint.Context); hint.OriginalException is the error.
//
// # Lifecycle
//
// On stop, after the consumer has drained, pending events are flushed within flush_timeout and
// the stop deadline; then anything still in flight is aborted and the client is closed. Events
// lost that way are logged, not returned as a stop error.
//
// # Components
//
// Named: sentry_before_send ([BeforeSendName]) — [BeforeSend]. Unnamed: [Config], [BeforeSend]
// (the named one, after decoration), *[Reporter].
//
// # Testing
//
// Leave Sentry disabled (the default) in tests, or point a real client at a loopback server that
// plays Sentry's envelope endpoint with a DSN such as http://public@127.0.0.1:PORT/1, as this
// package's tests do. Testing mode (--testing) does not change Sentry.
package fxsentry
