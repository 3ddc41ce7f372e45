package fxpubsub_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/fxpubsub/pubsubmem"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// TestTelemetryBatchAndDeferred checks the producer's spans and sns_producer on the batch paths:
// one span and one measurement per message; a deferred unit of work that fails ends its spans
// unpublished and records nothing.
func TestTelemetryBatchAndDeferred(t *testing.T) {
	o := newOtelRig(t)
	tel, err := fxpubsub.NewTelemetry(fxpubsub.TelemetryOptions{MeterProvider: o.mp, TracerProvider: o.tp})
	if err != nil {
		t.Fatal(err)
	}
	mem := pubsubmem.New()
	defer mem.Close()
	ctx := context.Background()
	topic, err := mem.SNS().CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("orders")})
	if err != nil {
		t.Fatal(err)
	}
	topics, err := fxpubsub.NewTopicMap(map[string]any{"default": aws.ToString(topic.TopicArn)})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := fxpubsub.NewSchemaRegistry(fxpubsub.DefaultRegistryConfig(), fxpubsub.SchemaFor[orderCreated](orderMT))
	if err != nil {
		t.Fatal(err)
	}
	p := fxpubsub.NewProducer(mem.SNS(), reg, topics, fxpubsub.ProducerOptions{Telemetry: tel})

	msgs := []fxpubsub.Outgoing{
		{MediaType: orderMT, Content: orderCreated{URI: "https://orders/1", OrderID: "1"}},
		{MediaType: orderMT, Content: orderCreated{OrderID: "invalid"}}, // fails validation: never published
		{MediaType: orderMT, Content: orderCreated{URI: "https://orders/3", OrderID: "3"}},
	}
	if _, err := p.ProduceBatch(ctx, msgs); err == nil {
		t.Fatal("want the invalid message's error")
	}
	errUnit := errors.New("unit of work failed")
	err = p.Deferred(ctx, func(ctx context.Context, d *fxpubsub.Deferred) error {
		if err := d.Produce(ctx, orderMT, orderCreated{URI: "https://orders/4", OrderID: "4"}); err != nil {
			return err
		}
		return errUnit
	})
	if !errors.Is(err, errUnit) {
		t.Fatal(err)
	}

	var published, invalid, discarded int
	for _, s := range o.spans.Ended() {
		switch {
		case spanAttr(s, "pubsub.skipped") == "true":
			discarded++
		case s.Status().Description != "":
			invalid++
		case spanAttr(s, "messaging.message.id") != "":
			published++
		}
	}
	if published != 2 || invalid != 1 || discarded != 1 {
		t.Errorf("spans: %d published, %d invalid, %d discarded; want 2, 1, 1", published, invalid, discarded)
	}
	pts := histPoints(t, o.collect(t)["sns_producer"])
	k := attrs("source", "microcosm-pubsub", "publish_result", "SUCCESS", "media_type", orderMT)
	if len(pts) != 1 || pts[k].Count != 2 {
		t.Errorf("sns_producer = %v, want 2 at %s", keys(pts), k)
	}
}

// BenchmarkDaemonMemoryTelemetry is BenchmarkDaemonMemory with a Telemetry: "global" is what
// fxpubsub.Module uses when the app installs nothing (compare with BenchmarkDaemonMemory, which has
// none); "sdk" has metrics (manual reader) and traces (batch processor, discarding exporter).
func BenchmarkDaemonMemoryTelemetry(b *testing.B) {
	global, err := fxpubsub.NewTelemetry(fxpubsub.TelemetryOptions{})
	if err != nil {
		b.Fatal(err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(benchExporter{}))
	defer func() { _ = mp.Shutdown(context.Background()); _ = tp.Shutdown(context.Background()) }()
	sdk, err := fxpubsub.NewTelemetry(fxpubsub.TelemetryOptions{MeterProvider: mp, TracerProvider: tp})
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		tel  *fxpubsub.Telemetry
	}{{"global", global}, {"sdk", sdk}} {
		for _, conc := range []int{16, 64} {
			b.Run(fmt.Sprintf("telemetry=%s/concurrency=%d", tc.name, conc), func(b *testing.B) {
				benchDaemon(b, conc, tc.tel)
			})
		}
	}
}

type benchExporter struct{}

func (benchExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (benchExporter) Shutdown(context.Context) error                             { return nil }
