package fxpubsub_test

import (
	"context"
	"testing"

	"github.com/microcosm-go/pubsub/fxpubsub"
)

// TestTitleize: the original's rule for handler names, Python inflection's titleize of the class
// name.
func TestTitleize(t *testing.T) {
	for give, want := range map[string]string{
		"CreatedHandler":       "Created Handler",
		"createdHandler":       "Created Handler",
		"URIHandler":           "Uri Handler",
		"HTTPServerHandler":    "Http Server Handler",
		"order_id":             "Order",
		"order_id_handler":     "Order Id Handler",
		"handler2Go":           "Handler2 Go",
		"v2handler":            "V2Handler",
		"batch-message":        "Batch Message",
		"Handler":              "Handler",
		"":                     "",
		"ÉtéHandler":           "Été Handler",
		"SNSToSQSRelayHandler": "Sns To Sqs Relay Handler",
	} {
		if got := fxpubsub.Titleize(give); got != want {
			t.Errorf("Titleize(%q) = %q, want %q", give, got, want)
		}
	}
}

type createdHandler struct{}

func (createdHandler) Handle(context.Context, *orderCreated) error { return nil }

type listHandler[T any] struct{}

func (listHandler[T]) Handle(context.Context, *T) error { return nil }

type namedHandler struct{}

func (namedHandler) Handle(context.Context, *orderCreated) error { return nil }
func (namedHandler) HandlerName() string                         { return "orders" }

func handleOrder(context.Context, *orderCreated) error { return nil }

// TestHandlerName: types by their titleized name (pointer or not, generic arguments dropped),
// functions by theirs, method values by their receiver, closures "Function" as the original's
// plain functions; a Named handler names itself.
func TestHandlerName(t *testing.T) {
	closure := func(context.Context, *orderCreated) error { return nil }
	tests := []struct {
		give any
		want string
	}{
		{createdHandler{}, "Created Handler"},
		{&createdHandler{}, "Created Handler"},
		{listHandler[orderCreated]{}, "List Handler"},
		{namedHandler{}, "orders"},
		{handleOrder, "Handle Order"},
		{fxpubsub.HandlerFunc[orderCreated](handleOrder), "Handle Order"},
		{closure, "Function"},
		{createdHandler{}.Handle, "Created Handler"},
	}
	for _, tt := range tests {
		if got := fxpubsub.HandlerName(tt.give); got != tt.want {
			t.Errorf("HandlerName(%T) = %q, want %q", tt.give, got, tt.want)
		}
	}
	reg, err := fxpubsub.NewRegistration[orderCreated](orderMT, &createdHandler{})
	if err != nil || reg.Name != "Created Handler" {
		t.Fatalf("registration name %q (%v), want Created Handler", reg.Name, err)
	}
}
