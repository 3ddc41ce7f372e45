package fxconfig

import (
	"testing"
	"time"
)

func TestSnakeCase(t *testing.T) {
	tests := map[string]string{
		"Level":         "level",
		"WaitSeconds":   "wait_seconds",
		"SQSQueueURL":   "sqs_queue_url",
		"HTTPPort":      "http_port",
		"ID":            "id",
		"Level2":        "level2",
		"already_snake": "already_snake",
		"Snake_Case":    "snake_case",
	}
	for give, want := range tests {
		if got := snakeCase(give); got != want {
			t.Errorf("snakeCase(%q) = %q, want %q", give, got, want)
		}
	}
}

func TestConvertScalars(t *testing.T) {
	tests := []struct {
		name string
		fn   func(any) (any, error)
		give any
		want any
		err  string
	}{
		{name: "bool t", fn: wrap(toBool), give: "T", want: true},
		{name: "bool n", fn: wrap(toBool), give: " n ", want: false},
		{name: "bool int 1", fn: wrap(toBool), give: 1, want: true},
		{name: "bool int 2", fn: wrap(toBool), give: 2, err: `cannot convert "2" to bool`},
		{name: "bool map", fn: wrap(toBool), give: map[string]any{}, err: "expected bool, got a map"},
		{name: "int uint", fn: wrap(toInt), give: uint8(3), want: int64(3)},
		{name: "float string", fn: wrap(toFloat), give: " 2.5", want: 2.5},
		{name: "duration negative seconds", fn: wrap(toDuration), give: "-1", want: -time.Second},
		{name: "duration float", fn: wrap(toDuration), give: 1.5, want: 1500 * time.Millisecond},
		{name: "duration huge", fn: wrap(toDuration), give: 1e20, err: `cannot convert "1e+20" to duration`},
		{name: "duration bool", fn: wrap(toDuration), give: true, err: `cannot convert "true" to duration`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.fn(tt.give)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Errorf("got error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %v, %v, want %v", got, err, tt.want)
			}
		})
	}
}

func wrap[T any](f func(any) (T, error)) func(any) (any, error) {
	return func(v any) (any, error) { return f(v) }
}
