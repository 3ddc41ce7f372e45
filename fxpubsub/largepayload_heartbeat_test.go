package fxpubsub_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/internal/awstest"
)

// gatedS3 is the target's S3 whose GetObject calls wait for the gate to open: a slow fetch.
type gatedS3 struct {
	fxpubsub.S3Client
	started chan struct{} // a GetObject began (buffered)
	gate    chan struct{} // closed: fetches go on
}

func (g *gatedS3) GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	select {
	case g.started <- struct{}{}:
	default:
	}
	select {
	case <-g.gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return g.S3Client.GetObject(ctx, in, optFns...)
}

// A large payload is fetched while its message is in flight, so the daemon's visibility heartbeat
// covers a fetch that outlasts the visibility timeout: the message is extended, not received a
// second time, and handled once. (The fetch once happened in the receiver, before the message was
// in flight: a slow 20 MiB fetch let the message reappear and be handled twice.)
func TestLargePayloadFetchUnderHeartbeat(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg awstest.Target) {
		const visibility = time.Second
		r := newLargeRig(t, tg, true, fxpubsub.PayloadStoreOptions{})
		gated := &gatedS3{S3Client: tg.S3, started: make(chan struct{}, 1), gate: make(chan struct{})}
		store, err := fxpubsub.NewPayloadStore(gated, fxpubsub.PayloadStoreOptions{Bucket: r.bucket})
		if err != nil {
			t.Fatal(err)
		}
		reg, err := fxpubsub.NewSchemaRegistry(fxpubsub.DefaultRegistryConfig(), fxpubsub.SchemaFor[blobCreated](blobMT))
		if err != nil {
			t.Fatal(err)
		}
		cons, err := fxpubsub.NewConsumer(tg.SQS, reg, r.pipe.QueueURL, fxpubsub.ConsumerOptions{
			Wait: time.Second, VisibilityTimeout: visibility, LargePayloads: store,
		})
		if err != nil {
			t.Fatal(err)
		}
		r.consumer = cons
		data := payload(300<<10, tg.Name)
		var (
			mu       sync.Mutex
			handled  int
			receives []int
		)
		h := mustReg(t, blobMT, func(ctx context.Context, b *blobCreated) error {
			mu.Lock()
			defer mu.Unlock()
			handled++
			receives = append(receives, fxpubsub.MessageFrom(ctx).ReceiveCount)
			if b.Data != data {
				t.Errorf("payload differs: %d bytes, want %d", len(b.Data), len(data))
			}
			return nil
		})
		if _, err := r.producer.Produce(context.Background(), blobMT, blobCreated{URI: "https://blobs/1", Data: data}); err != nil {
			t.Fatal(err)
		}
		d := newDaemon(t, r.rig, []fxpubsub.Registration{h}, fxpubsub.DaemonOptions{VisibilityTimeout: visibility, Receivers: 2, Concurrency: 4})
		if err := d.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		select {
		case <-gated.started:
		case <-time.After(30 * time.Second):
			t.Fatal("the payload fetch never started")
		}
		if n := d.Stats().InFlight; n != 1 {
			t.Errorf("in flight while its payload is fetched: %d messages, want 1", n)
		}
		// Three extensions: the fetch has outlasted the 1 s visibility timeout by half of it at least.
		waitFor(t, 30*time.Second, "the heartbeat to extend the message during its fetch", func() bool { return d.Stats().Extensions >= 3 })
		if n := d.Stats().Received; n != 1 {
			t.Errorf("received %d times during a fetch longer than the visibility timeout, want once", n)
		}
		close(gated.gate)
		waitFor(t, 30*time.Second, "the large message to be handled", func() bool { mu.Lock(); defer mu.Unlock(); return handled > 0 })
		stopDaemon(t, d)
		r.expectEmpty(t)
		mu.Lock()
		defer mu.Unlock()
		if handled != 1 || receives[0] != 1 {
			t.Fatalf("handled %d times (receive counts %v), want once on the first receive", handled, receives)
		}
	})
}
