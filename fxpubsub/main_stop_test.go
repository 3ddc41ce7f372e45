package fxpubsub_test

import (
	"context"
	"testing"
	"time"

	"github.com/microcosm-go/pubsub/fxpubsub"
	"go.uber.org/fx"
)

// The exit code after SIGTERM tells whether a message was left unsettled: a handler that outlives
// drain_timeout but returns in the grace period that follows is settled (exit 0, nothing on
// stderr); one that never returns leaves its message unsettled (exit 1, and stderr says how many).
func TestMainStopExitCodeTellsTheTruth(t *testing.T) {
	for _, tc := range []struct {
		name      string
		returns   bool // the handler returns once its context is cancelled
		wantCode  int
		wantError string
	}{
		{"handler returns in the grace period", true, fxpubsub.ExitOK, ""},
		{"handler never returns", false, fxpubsub.ExitFailure, "drain: 1 message(s) left unsettled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var producer *fxpubsub.Producer
			handling, cancelled, finish := make(chan struct{}), make(chan struct{}), make(chan struct{})
			defer close(finish)
			started, ch := onStart()
			stop, done := startMain(t, []string{"--testing", "--sqs-queue-url", "main-drain",
				"--set", "sqs_consumer.drain_timeout=200ms"},
				fxpubsub.AsHandlerFunc(orderMT, func(ctx context.Context, _ *orderCreated) error {
					close(handling)
					<-ctx.Done() // held past drain_timeout: only the cancellation ends the wait
					close(cancelled)
					if !tc.returns {
						<-finish
					}
					return nil
				}),
				fx.Populate(&producer),
				started,
			)
			select {
			case <-ch:
			case r := <-done:
				t.Fatalf("Main returned early: %+v", r)
			}
			if _, err := producer.Produce(context.Background(), orderMT, orderCreated{URI: "https://orders/1", OrderID: "1"}); err != nil {
				t.Fatal(err)
			}
			select {
			case <-handling:
			case <-time.After(20 * time.Second):
				t.Fatal("the handler never ran")
			}
			r := stop()
			select {
			case <-cancelled:
			default:
				t.Error("Main returned without cancelling the handler")
			}
			if r.code != tc.wantCode {
				t.Errorf("exit %d, want %d (stderr %q)", r.code, tc.wantCode, r.stderr)
			}
			if tc.wantError == "" {
				if r.stderr != "" {
					t.Errorf("stderr %q, want nothing", r.stderr)
				}
				return
			}
			expectOneLine(t, r.stderr, tc.wantError)
		})
	}
}
