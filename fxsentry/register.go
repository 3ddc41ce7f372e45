package fxsentry

import (
	"fmt"
	"reflect"

	"go.uber.org/fx"
)

var (
	beforeSendType = reflect.TypeFor[BeforeSend]()
	errorType      = reflect.TypeFor[error]()
)

// DecorateBeforeSend replaces the sentry_before_send component with what decorator returns.
// decorator is a function whose first parameter receives the current [BeforeSend] (the strict
// default, or an earlier decoration) so it can wrap it, whose other parameters fx injects, and
// which returns the new BeforeSend, optionally with an error:
//
//	func(prev fxsentry.BeforeSend, deps ...) fxsentry.BeforeSend
//	func(prev fxsentry.BeforeSend, deps ...) (fxsentry.BeforeSend, error)
//
// A nil result keeps the strict default. Put it at the app root (in fx.New, not inside a module):
// a decoration applies only to its own module and the modules below it, and one scope may
// decorate sentry_before_send only once.
func DecorateBeforeSend(decorator any) fx.Option {
	t := reflect.TypeOf(decorator)
	if t == nil || t.Kind() != reflect.Func || t.IsVariadic() ||
		t.NumIn() == 0 || t.In(0) != beforeSendType ||
		t.NumOut() == 0 || t.NumOut() > 2 || t.Out(0) != beforeSendType ||
		t.NumOut() == 2 && t.Out(1) != errorType {
		return fx.Error(fmt.Errorf("fxsentry.DecorateBeforeSend: want func(fxsentry.BeforeSend, ...) fxsentry.BeforeSend (and optionally an error), got %T", decorator))
	}
	return fx.Decorate(fx.Annotate(decorator, fx.ParamTags(beforeSendTag), fx.ResultTags(beforeSendTag)))
}
