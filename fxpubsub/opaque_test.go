package fxpubsub

import (
	"context"
	"testing"
)

func TestOpaqueContext(t *testing.T) {
	ctx := WithOpaque(context.Background(), NewOpaque(map[string]string{"X-Request-Id": "r1", "a": "1"}))
	ctx2 := WithOpaqueValue(ctx, "A", "2")
	if got := OpaqueFrom(ctx2).Get("x-request-ID"); got != "r1" {
		t.Errorf("inherited value = %q", got)
	}
	if got := OpaqueFrom(ctx2).Get("a"); got != "2" {
		t.Errorf("overridden value = %q", got)
	}
	if got := OpaqueFrom(ctx).Get("a"); got != "1" {
		t.Errorf("parent context changed: %q", got)
	}
	if OpaqueFrom(context.Background()) != nil {
		t.Error("empty context must have no opaque data")
	}
}
