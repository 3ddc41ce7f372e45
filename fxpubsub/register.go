package fxpubsub

import (
	"context"
	"fmt"
	"reflect"

	"go.uber.org/fx"
)

// What an app adds to fx.New beside [Module]: its handlers and schemas, result hooks, and the
// switches that run the consumer daemon and its health endpoint. (The AWS Lambda entry point,
// fxlambda.Main, is in package fxlambda, which keeps the Lambda runtime out of apps that do not
// use it.)

const schemaGroup = `group:"pubsub.schemas"`

// AsSchema registers T as the schema of mediaType (the original's @schema). Use it in fx.New or a
// module; registering two different types for one media type fails at start-up with a
// *DuplicateSchemaError.
func AsSchema[T any](mediaType string) fx.Option {
	s := SchemaFor[T](mediaType)
	return fx.Provide(fx.Annotate(func() Schema { return s }, fx.ResultTags(schemaGroup)))
}

const handlerGroup = `group:"pubsub.handlers"`

var (
	registrationType = reflect.TypeFor[Registration]()
	errorType        = reflect.TypeFor[error]()
)

// AsHandler registers a handler built by ctor for mediaType ("" = T's [MediaTyped] media type),
// the Go form of the original's @binding plus @handles. ctor is a constructor whose parameters fx
// injects (plain types or an fx.In struct) and whose first result implements [Handler][T]
// (optionally followed by an error). T is also registered as the media type's schema, so the
// handler receives decoded *T values. Two handlers for one media type fail start-up with a
// *DuplicateHandlerError naming both.
func AsHandler[T any](mediaType string, ctor any) fx.Option {
	mt, err := mediaTypeOf[T](mediaType)
	if err != nil {
		return fx.Error(err)
	}
	ct := reflect.TypeOf(ctor)
	handlerIface := reflect.TypeFor[Handler[T]]()
	switch {
	case ct == nil || ct.Kind() != reflect.Func:
		return fx.Error(fmt.Errorf("handler constructor for %q must be a function, got %T", mt, ctor))
	case ct.NumOut() == 0 || ct.NumOut() > 2 || !ct.Out(0).Implements(handlerIface) || (ct.NumOut() == 2 && ct.Out(1) != errorType):
		return fx.Error(fmt.Errorf("handler constructor %v for %q must return a Handler[%v] (and optionally an error)", ct, mt, reflect.TypeFor[T]()))
	}
	in := make([]reflect.Type, ct.NumIn())
	for i := range in {
		in[i] = ct.In(i)
	}
	fnType := reflect.FuncOf(in, []reflect.Type{registrationType, errorType}, ct.IsVariadic())
	cv := reflect.ValueOf(ctor)
	wrapped := reflect.MakeFunc(fnType, func(args []reflect.Value) []reflect.Value {
		out := cv.Call(args)
		if len(out) == 2 && !out[1].IsNil() {
			return []reflect.Value{reflect.Zero(registrationType), out[1]}
		}
		reg, err := NewRegistration[T](mt, out[0].Interface().(Handler[T]))
		errv := reflect.Zero(errorType)
		if err != nil {
			errv = reflect.ValueOf(&err).Elem()
		}
		return []reflect.Value{reflect.ValueOf(reg), errv}
	})
	return fx.Options(
		fx.Provide(fx.Annotate(wrapped.Interface(), fx.ResultTags(handlerGroup))),
		schemaOption[T](mt),
	)
}

// AsHandlerFunc registers fn as the handler for mediaType ("" = T's [MediaTyped] media type).
func AsHandlerFunc[T any](mediaType string, fn func(ctx context.Context, content *T) error) fx.Option {
	reg, err := NewRegistration[T](mediaType, HandlerFunc[T](fn))
	if err != nil {
		return fx.Error(err)
	}
	if fn != nil {
		reg.Name = handlerName(fn)
	}
	return fx.Options(
		fx.Provide(fx.Annotate(func() Registration { return reg }, fx.ResultTags(handlerGroup))),
		schemaOption[T](reg.MediaType),
	)
}

// AsSchemaOf registers T as the schema of its own [MediaTyped] media type (the original's @schema
// on a class with MEDIA_TYPE).
func AsSchemaOf[T any]() fx.Option {
	mt, err := mediaTypeOf[T]("")
	if err != nil {
		return fx.Error(err)
	}
	return AsSchema[T](mt)
}

// schemaOption registers T as mediaType's schema unless T is a map or interface (raw content).
func schemaOption[T any](mediaType string) fx.Option {
	switch reflect.TypeFor[T]().Kind() {
	case reflect.Map, reflect.Interface:
		return fx.Options()
	}
	return AsSchema[T](mediaType)
}

const resultHookGroup = `group:"pubsub.result_hooks"`

// AsResultHook registers a hook that observes every handled message (see [ResultHook]).
func AsResultHook(ctor any) fx.Option {
	return fx.Provide(fx.Annotate(ctor, fx.ResultTags(resultHookGroup)))
}

// RunConsumer turns the consumer daemon on: on start it begins polling sqs_consumer.sqs_queue_url
// and dispatching to the registered handlers; on stop it drains. Without it, fxpubsub.Module never
// polls (producer-only apps). A fatal consumer error (missing queue, rejected credentials) stops the
// app with exit code 1; the end of replay input stops it with exit code 0.
func RunConsumer() fx.Option {
	return fx.Invoke(recordDaemon)
}

// ServeHealth serves the consumer daemon's health endpoint on section health's address
// (--health-addr, or --healthcheck-host and --healthcheck-port, in [Main]) for the app's lifetime,
// and provides the *[HealthServer]. It needs the daemon, so it goes with [RunConsumer]. With no
// address configured it serves nothing.
func ServeHealth() fx.Option {
	return fx.Options(
		fx.Provide(NewHealthServerFx),
		fx.Invoke(func(*HealthServer) {}),
	)
}
