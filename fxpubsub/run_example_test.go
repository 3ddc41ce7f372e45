package fxpubsub_test

import (
	"context"
	"os"

	"github.com/microcosm-go/pubsub/fxpubsub"
	"go.uber.org/fx"
)

// An app of one's own (here one that publishes an order at start) with Main's command line, logs
// and exit codes: the README's "Running your own fx app".
func ExampleRun() {
	os.Exit(fxpubsub.Run("orders", os.Args[1:],
		fx.Invoke(func(lc fx.Lifecycle, p *fxpubsub.Producer) {
			lc.Append(fx.StartHook(func(ctx context.Context) error {
				_, err := p.Produce(ctx, "application/vnd.globality.pubsub._.created.order",
					map[string]any{"uri": "https://orders.example.com/api/v1/order/1"})
				return err
			}))
		}),
	))
}
