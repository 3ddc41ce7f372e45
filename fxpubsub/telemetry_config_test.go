package fxpubsub_test

import (
	"context"
	"testing"

	"github.com/microcosm-go/pubsub/fxconfig"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
)

// publishWithTelemetry runs an app on the in-memory backend with values and environ, in which the
// app records its own counter app.orders, publishes one message, and returns the metrics by scope
// and name.
func publishWithTelemetry(t *testing.T, values map[string]any, environ []string) map[string]map[string]metricdata.Metrics {
	t.Helper()
	o := newOtelRig(t)
	var producer *fxpubsub.Producer
	app := fxtest.New(t,
		fxconfig.WithInput(fxconfig.Input{Name: "otelcfg", Environ: environ, Values: values, Flags: map[string]any{"testing": true}}),
		fxpubsub.Module,
		o.options(),
		fx.NopLogger,
		fx.Populate(&producer),
	)
	app.RequireStart()
	defer app.RequireStop()
	counter, err := o.mp.Meter("app").Int64Counter("app.orders")
	if err != nil {
		t.Fatal(err)
	}
	counter.Add(context.Background(), 1, metric.WithAttributes(attribute.String("kind", "created")))
	if _, err := producer.Produce(context.Background(), orderMT, orderCreated{URI: "https://orders/1", OrderID: "1"}); err != nil {
		t.Fatal(err)
	}
	var rm metricdata.ResourceMetrics
	if err := o.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if out[sm.Scope.Name] == nil {
				out[sm.Scope.Name] = map[string]metricdata.Metrics{}
			}
			out[sm.Scope.Name][m.Name] = m
		}
	}
	return out
}

// TestTelemetryMetricsSwitch: telemetry.metrics false turns the library's metrics off (the
// original's pubsub_send_metrics.enabled) while the app's own instruments on the same
// MeterProvider keep recording.
func TestTelemetryMetricsSwitch(t *testing.T) {
	on := publishWithTelemetry(t, nil, []string{})
	if _, ok := on[fxpubsub.ScopeName]["sns_producer"]; !ok {
		t.Fatalf("metrics on: no sns_producer metric (scopes %v)", on)
	}
	off := publishWithTelemetry(t, map[string]any{"telemetry.metrics": "false"}, []string{})
	if lib := off[fxpubsub.ScopeName]; len(lib) != 0 {
		t.Errorf("metrics off: the library recorded %d metrics", len(lib))
	}
	sum, ok := off["app"]["app.orders"].Data.(metricdata.Sum[int64])
	if !ok || len(sum.DataPoints) != 1 || sum.DataPoints[0].Value != 1 {
		t.Errorf("metrics off: the app's own counter = %+v, want 1", off["app"]["app.orders"])
	}
}

// TestTelemetryConstantAttributes: every library metric carries service and environment, as the
// original's statsd constant tags: from section telemetry, else $METRICS_NAME and
// $MICROCOSM_ENVIRONMENT, else the app name and "undefined".
func TestTelemetryConstantAttributes(t *testing.T) {
	tests := []struct {
		name                 string
		values               map[string]any
		environ              []string
		wantService, wantEnv string
	}{
		{"defaults", nil, []string{}, "otelcfg", "undefined"},
		{"environment", nil, []string{"METRICS_NAME=orders-metrics", "MICROCOSM_ENVIRONMENT=prod"}, "orders-metrics", "prod"},
		{"config beats environment", map[string]any{"telemetry": map[string]any{"service": "orders", "environment": "staging"}},
			[]string{"METRICS_NAME=orders-metrics", "MICROCOSM_ENVIRONMENT=prod"}, "orders", "staging"},
		{"config from the environment", nil, []string{"OTELCFG__TELEMETRY__ENVIRONMENT=qa"}, "otelcfg", "qa"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := publishWithTelemetry(t, tt.values, tt.environ)
			h, ok := ms[fxpubsub.ScopeName]["sns_producer"].Data.(metricdata.Histogram[float64])
			if !ok || len(h.DataPoints) != 1 {
				t.Fatalf("sns_producer = %+v, want one point", ms[fxpubsub.ScopeName]["sns_producer"])
			}
			attrs := h.DataPoints[0].Attributes
			svc, _ := attrs.Value("service")
			env, _ := attrs.Value("environment")
			if svc.AsString() != tt.wantService || env.AsString() != tt.wantEnv {
				t.Errorf("attributes %s, want service=%s environment=%s", attrs.Encoded(attribute.DefaultEncoder()), tt.wantService, tt.wantEnv)
			}
			if src, _ := attrs.Value("source"); src.AsString() != "microcosm-pubsub" {
				t.Errorf("attributes %s lost source", attrs.Encoded(attribute.DefaultEncoder()))
			}
		})
	}
}
