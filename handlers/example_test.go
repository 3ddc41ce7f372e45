package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/handlers"
)

// handleOne runs h for one message through a dispatcher and prints its result.
func handleOne[T any](mediaType string, h fxpubsub.Handler[T], content *T) {
	reg, _ := fxpubsub.NewRegistration[T](mediaType, h)
	hr, _ := fxpubsub.NewHandlerRegistry(reg)
	d := fxpubsub.NewDispatcher(hr, fxpubsub.DispatcherOptions{})
	_, r := d.Handle(context.Background(), &fxpubsub.Message{MediaType: mediaType, Content: content, MessageID: "m-1"})
	if r.Reason != "" {
		fmt.Println(r.Type, "-", r.Reason)
		return
	}
	fmt.Println(r.Type)
}

func ExampleNewURIHandler() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/orders/1" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, `{"id":"1","status":"shipped"}`)
	}))
	defer srv.Close()

	type Order struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	h, _ := handlers.NewURIHandler(handlers.URIOptions[Order]{
		AllowedHosts:  []string{"127.0.0.1"},
		AllowLoopback: true, // the httptest server: tests and local development only
		Handle: func(ctx context.Context, msg *fxpubsub.ChangedURIMessage, o *Order) error {
			fmt.Println("order", o.ID, "is", o.Status)
			return nil
		},
	})
	handleOne(fxpubsub.Created("Order"), h, &fxpubsub.ChangedURIMessage{URI: srv.URL + "/orders/1"})
	handleOne(fxpubsub.Created("Order"), h, &fxpubsub.ChangedURIMessage{URI: srv.URL + "/orders/2"})
	handleOne(fxpubsub.Created("Order"), h, &fxpubsub.ChangedURIMessage{URI: "http://metadata.internal/latest"})
	// Output:
	// order 1 is shipped
	// SUCCEEDED
	// RETRIED - URI resource not found
	// SKIPPED - uri "http://metadata.internal/latest" not allowed: host "metadata.internal" is not in the allowed hosts
}

func ExampleWrap() {
	type Payment struct {
		URI string `json:"uri"`
	}
	charge := fxpubsub.HandlerFunc[Payment](func(ctx context.Context, p *Payment) error {
		fmt.Println("charging", p.URI)
		return nil
	})
	h := handlers.Wrap[Payment](charge,
		handlers.Timeout[Payment](5*time.Second),
		handlers.Idempotent(handlers.IdempotencyOptions[Payment]{}),
	)
	// The same SQS message (id m-1) delivered twice: the second delivery is skipped.
	handleOne(fxpubsub.Created("Payment"), h, &Payment{URI: "https://payments/1"})
	handleOne(fxpubsub.Created("Payment"), h, &Payment{URI: "https://payments/1"})
	// Output:
	// charging https://payments/1
	// SUCCEEDED
	// SKIPPED - duplicate message: already handled
}

func ExampleThen() {
	type Invoice struct {
		URI string `json:"uri"`
	}
	lookup := handlers.Step[*Invoice, int](func(ctx context.Context, in *Invoice) (int, error) {
		if in.URI == "" {
			return 0, &fxpubsub.SkipMessage{Reason: "no invoice"}
		}
		return 42, nil
	})
	total := handlers.Step[int, string](func(ctx context.Context, cents int) (string, error) {
		return fmt.Sprintf("%d.%02d", cents/100, cents%100), nil
	})
	show := handlers.Step[string, struct{}](func(ctx context.Context, s string) (struct{}, error) {
		fmt.Println("total", s)
		return struct{}{}, nil
	})
	h := handlers.FromStep(handlers.Then(handlers.Then(lookup, total), show))
	handleOne(fxpubsub.Created("Invoice"), h, &Invoice{URI: "https://invoices/1"})
	handleOne(fxpubsub.Created("Invoice"), h, &Invoice{})
	// Output:
	// total 0.42
	// SUCCEEDED
	// SKIPPED - no invoice
}

// A service that republishes deferred batches registers the republisher next to its handlers;
// batch topics need an explicit mapping (sns_topic_arns.mappings).
func ExampleAsBatchRepublisher() {
	_ = handlers.AsBatchRepublisher(handlers.RepublisherOptions{
		AllowedTopics: []string{"arn:aws:sns:us-east-1:123456789012:orders"},
	})
}
