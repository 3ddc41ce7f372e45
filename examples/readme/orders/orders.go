// Package orders is the small app module the README's testing snippet tests: a handler for created
// orders that asks for a shipment.
package orders

import (
	"context"

	"github.com/microcosm-go/pubsub/fxpubsub"
	"go.uber.org/fx"
)

// Media types of the module's messages.
var (
	CreatedMT  = fxpubsub.Created("Order")
	ShipmentMT = fxpubsub.Created("Shipment")
)

// Created is an order-created message.
type Created struct {
	URI   string `json:"uri" validate:"required"`
	Items int    `json:"items" validate:"min=1"`
}

// Shipper handles created orders by publishing a shipment request.
type Shipper struct {
	producer *fxpubsub.Producer
}

// NewShipper returns the handler; fx injects the producer.
func NewShipper(p *fxpubsub.Producer) *Shipper { return &Shipper{producer: p} }

// Handle publishes created(shipment) for the order.
func (s *Shipper) Handle(ctx context.Context, c *Created) error {
	_, err := s.producer.Produce(ctx, ShipmentMT, fxpubsub.URIMessage{URI: c.URI + "/shipment"})
	return err
}

// Module registers the handler.
var Module = fx.Options(fxpubsub.AsHandler[Created](CreatedMT, NewShipper))
