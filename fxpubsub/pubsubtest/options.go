package pubsubtest

import (
	"maps"
	"reflect"
	"testing"

	"go.uber.org/fx"
	"go.uber.org/zap/zaptest"

	"github.com/microcosm-go/pubsub/fxconfig"
	"github.com/microcosm-go/pubsub/fxpubsub"
)

// TestWaitSeconds is the sqs_consumer.wait_seconds [Options] sets unless the values set it: short,
// so a stopping app's receivers return quickly even where the backend does not cut long polls short.
const TestWaitSeconds = 1

// Options is everything an in-memory test app needs: [fxconfig.ForTesting](name, values) (testing
// mode: the process environment is ignored, and the module's [fxpubsub.Backend] is the in-memory
// SNS/SQS with every configured topic subscribed to the queue), [fxpubsub.Module], a *[Recorder]
// in front of the backend's SNS client, so every message the producer publishes is recorded and
// still delivered, and a *[Results] registered as a result hook. Both are provided to the graph.
// sqs_consumer.wait_seconds is [TestWaitSeconds] unless values set it.
//
// Add the app's own modules and handlers, and [fxpubsub.RunConsumer] to handle messages:
//
//	fxtest.New(t, pubsubtest.Options("orders", nil), orders.Module, fxpubsub.RunConsumer(),
//		fx.Populate(&producer, &rec, &results))
//
// The recorder is installed with fx.Decorate inside Options' own module, so the app may still
// decorate *fxpubsub.Backend at its root. Options includes fxconfig.Module (through
// fxpubsub.Module): don't add either again.
func Options(name string, values map[string]any) fx.Option {
	return fx.Module("pubsubtest",
		fxconfig.ForTesting(name, withTestDefaults(values)),
		fxpubsub.Module,
		fx.Provide(NewRecorder, NewResults),
		fx.Decorate(func(r *Recorder, b *fxpubsub.Backend) *fxpubsub.Backend { return r.WrapBackend(b) }),
		fxpubsub.AsResultHook(func(r *Results) fxpubsub.ResultHook { return r.Hook }),
	)
}

// withTestDefaults returns a copy of values with sqs_consumer.wait_seconds set when values don't
// set it (as a dotted key or in the sqs_consumer map). values itself is never modified.
func withTestDefaults(values map[string]any) map[string]any {
	out := maps.Clone(values)
	if out == nil {
		out = map[string]any{}
	}
	if _, ok := out["sqs_consumer.wait_seconds"]; ok {
		return out
	}
	section := stringMap(out["sqs_consumer"])
	if section == nil {
		if out["sqs_consumer"] != nil {
			return out // not a map: let configuration loading report it
		}
		section = map[string]any{}
	}
	if _, ok := section["wait_seconds"]; !ok {
		section["wait_seconds"] = TestWaitSeconds
	}
	out["sqs_consumer"] = section
	return out
}

// stringMap copies a map with string-like keys into a new map[string]any, or returns nil.
func stringMap(v any) map[string]any {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
		return nil
	}
	out := make(map[string]any, rv.Len())
	for it := rv.MapRange(); it.Next(); {
		out[it.Key().String()] = it.Value().Interface()
	}
	return out
}

// LogTo sends the app's log (the *zap.Logger of fxconfig.Module) to t's log instead of stderr, so
// an app's lines appear beside the test that wrote them, and only when it fails or runs with -v.
// [New] applies it; add it to fxtest.New at the app's root when you build the app from [Options].
// Nothing may log through the app's logger once t has finished: stop the app in a cleanup (fxtest
// and [New] do).
func LogTo(t testing.TB) fx.Option {
	w := zaptest.NewTestingWriter(t)
	return fx.Decorate(func(in fxconfig.Input) fxconfig.Input {
		in.LogOutput = w
		return in
	})
}
