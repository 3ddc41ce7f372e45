package pubsubtest_test

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.uber.org/fx"

	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/fxpubsub/pubsubtest"
)

type invoiceCreated struct {
	URI string `json:"uri" validate:"required"`
}

type paymentRequested struct {
	URI     string `json:"uri" validate:"required"`
	Invoice string `json:"invoice"`
}

var (
	invoiceMT = fxpubsub.Created("Invoice")
	paymentMT = fxpubsub.Created("Payment")
)

// invoiceHandler is the code under test: for each invoice it requests a payment.
type invoiceHandler struct{ producer *fxpubsub.Producer }

func (h *invoiceHandler) Handle(ctx context.Context, c *invoiceCreated) error {
	_, err := h.producer.Produce(ctx, paymentMT, paymentRequested{URI: c.URI + "/payment", Invoice: c.URI})
	return err
}

// A handler tested end to end on the in-memory backend: publish an invoice, wait until the
// consumer has handled it, and look at what the handler published. In a test, use
// pubsubtest.New(t, ...) or fxtest.New, Results.Wait and AssertPublished instead of Await and
// printing (see the package documentation).
func Example() {
	var (
		producer *fxpubsub.Producer
		rec      *pubsubtest.Recorder
		results  *pubsubtest.Results
	)
	app := fx.New(
		fx.NopLogger,
		pubsubtest.Options("billing", map[string]any{"logging": map[string]any{"level": "error"}}),
		fxpubsub.AsHandler[invoiceCreated](invoiceMT, func(p *fxpubsub.Producer) *invoiceHandler { return &invoiceHandler{producer: p} }),
		fxpubsub.AsHandlerFunc(paymentMT, func(context.Context, *paymentRequested) error { return nil }),
		fxpubsub.RunConsumer(),
		fx.Populate(&producer, &rec, &results),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := app.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = app.Stop(ctx) }()

	ctx = fxpubsub.WithOpaqueValue(ctx, fxpubsub.OpaqueRequestID, "req-42")
	if _, err := producer.Produce(ctx, invoiceMT, invoiceCreated{URI: "https://billing/invoices/1"}); err != nil {
		fmt.Println(err)
		return
	}
	handled, err := results.Await(ctx, 2) // the invoice, then the payment its handler published
	if err != nil {
		fmt.Println(err)
		return
	}
	// Results come in completion order, and the payment can finish before the invoice handler
	// that published it has returned: print them sorted.
	lines := make([]string, 0, len(handled))
	for _, h := range handled {
		lines = append(lines, fmt.Sprint("handled: ", h.MediaType, " ", h.Result.Type))
	}
	slices.Sort(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	for _, p := range rec.Published() {
		fmt.Println("published:", p.MediaType, p.URI(), p.Opaque.Get(fxpubsub.OpaqueRequestID))
	}
	fmt.Println(pubsubtest.All(pubsubtest.HasMediaType(paymentMT), pubsubtest.HasField("invoice", "https://billing/invoices/1")).Matches(rec.Published()[1]))
	// Output:
	// handled: application/vnd.globality.pubsub._.created.invoice SUCCEEDED
	// handled: application/vnd.globality.pubsub._.created.payment SUCCEEDED
	// published: application/vnd.globality.pubsub._.created.invoice https://billing/invoices/1 req-42
	// published: application/vnd.globality.pubsub._.created.payment https://billing/invoices/1/payment req-42
	// true
}
