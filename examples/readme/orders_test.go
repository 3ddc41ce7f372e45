package readme

import (
	"testing"

	"github.com/microcosm-go/pubsub/examples/readme/orders"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/fxpubsub/pubsubtest"
)

// TestOrderHandler is the README's "Testing your handlers" snippet, verbatim.
func TestOrderHandler(t *testing.T) {
	app := pubsubtest.New(t, "orders", nil, orders.Module)
	h := app.Handle(t.Context(), orders.CreatedMT, orders.Created{URI: "https://orders/1", Items: 2})
	if h.Result.Type != fxpubsub.Succeeded {
		t.Fatal(h)
	}
	pubsubtest.AssertPublished(t, app.Recorder,
		pubsubtest.HasMediaType(orders.CreatedMT),
		pubsubtest.All(pubsubtest.HasMediaType(orders.ShipmentMT), pubsubtest.HasURI("https://orders/1/shipment")),
	)
}
