package fxsentry_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/getsentry/sentry-go"
	"github.com/microcosm-go/pubsub/fxsentry"
)

const r = fxsentry.Redacted

func TestStrictBeforeSend(t *testing.T) {
	shared := map[string]any{"secret": "s", "order_id": "9"} // as a scope would share it
	crumb := &sentry.Breadcrumb{Message: "GET /orders", Data: map[string]any{"password": "p", "url": "https://a.test/x?token=t"}}
	e := &sentry.Event{
		Message: "kept",
		Tags:    map[string]string{"custom": "kept"},
		Contexts: map[string]sentry.Context{
			"extra": {
				"order_id": "42", "orderId": 7, "OrderID": "8", "id": "i", "email": "a@b.test", "count": 3, "zero": 0,
				"empty": "", "off": false, "on": true, "nil": nil,
				"uri": "not-a-url", "media-type": "application/x", "x-tenant": "acme",
				"link":     "https://user:pw@x.test/a/b?token=s#frag",
				"plain":    "http://x.test/a",
				"notalink": "httpx://x.test",
				"uuid":     "123e4567-e89b-12d3-a456-426614174000",
				"hexid":    "123e4567e89b12d3a456426614174000",
				"nested":   map[string]any{"user_id": "7", "secret": "s", "deeper": map[string]any{"token": "t"}},
				"list":     []any{"a", "", "https://x.test/"},
				"strs":     []string{"a", "b"},
				"struct":   struct{ A int }{1},
				"shared":   shared,
			},
			"trace":   {"trace_id": "abc", "span_id": "def", "op": "queue.process"},
			"runtime": {"name": "go", "go_maxprocs": 4},
		},
		Breadcrumbs: []*sentry.Breadcrumb{crumb, nil},
		Request: &sentry.Request{
			URL: "https://api.test/orders?card=4111", Method: "POST", Data: `{"card":"4111"}`,
			QueryString: "card=4111", Cookies: "session=abc",
			Headers: map[string]string{"Authorization": "Bearer x", "X-Request-Id": "req-1"},
			Env:     map[string]string{"REMOTE_ADDR": "10.0.0.1"},
		},
		User: sentry.User{ID: "u-1", Email: "a@b.test", IPAddress: "10.0.0.1", Username: "bob", Data: map[string]string{"tenant_id": "t", "plan": "gold"}},
		Exception: []sentry.Exception{{Type: "*errors.errorString", Value: "order 42 failed", Stacktrace: &sentry.Stacktrace{Frames: []sentry.Frame{
			{Function: "f", Vars: map[string]any{"card": "4111", "order_id": "42"}},
			{Function: "g"},
		}}}},
	}
	got := fxsentry.StrictBeforeSend("uri", "media-type", "x-tenant")(e, &sentry.EventHint{})

	extra := got.Contexts["extra"]
	want := map[string]any{
		"order_id": "42", "orderId": 7, "OrderID": "8", "id": "i", "email": r, "count": r, "zero": 0,
		"empty": "", "off": false, "on": r, "nil": nil,
		"uri": "not-a-url", "media-type": "application/x", "x-tenant": "acme",
		"link":     "https://x.test/a/b?" + r,
		"plain":    "http://x.test/a",
		"notalink": r,
		"uuid":     "123e4567-e89b-12d3-a456-426614174000",
		"hexid":    "123e4567e89b12d3a456426614174000",
		"nested":   map[string]any{"user_id": "7", "secret": r, "deeper": map[string]any{"token": r}},
		"list":     []any{r, "", "https://x.test/"},
		"strs":     []string{r, r},
		"struct":   r,
		"shared":   map[string]any{"secret": r, "order_id": "9"},
	}
	for k, w := range want {
		if !reflect.DeepEqual(extra[k], w) {
			t.Errorf("extra[%q] = %#v, want %#v", k, extra[k], w)
		}
	}
	if tr := got.Contexts["trace"]; tr["trace_id"] != "abc" || tr["span_id"] != "def" || tr["op"] != r {
		t.Errorf("trace context = %v", tr)
	}
	if rt := got.Contexts["runtime"]; rt["go_maxprocs"] != 4 {
		t.Errorf("sdk runtime context changed: %v", rt)
	}
	if len(got.Breadcrumbs) != 1 || got.Breadcrumbs[0].Message != "GET /orders" ||
		got.Breadcrumbs[0].Data["password"] != r || got.Breadcrumbs[0].Data["url"] != "https://a.test/x?"+r {
		t.Errorf("breadcrumbs = %+v", got.Breadcrumbs)
	}
	wantReq := sentry.Request{
		URL: "https://api.test/orders?" + r, Method: "POST", Data: r, QueryString: r, Cookies: r,
		Headers: map[string]string{"Authorization": r, "X-Request-Id": "req-1"},
		Env:     map[string]string{"REMOTE_ADDR": r},
	}
	if !reflect.DeepEqual(*got.Request, wantReq) {
		t.Errorf("request = %+v", *got.Request)
	}
	wantUser := sentry.User{ID: "u-1", Email: r, Username: r, Data: map[string]string{"tenant_id": "t", "plan": r}}
	if !reflect.DeepEqual(got.User, wantUser) {
		t.Errorf("user = %+v", got.User)
	}
	if f := got.Exception[0].Stacktrace.Frames; f[0].Vars["card"] != r || f[0].Vars["order_id"] != "42" || f[1].Function != "g" {
		t.Errorf("frames = %+v", f)
	}
	if got.Message != "kept" || got.Exception[0].Value != "order 42 failed" || got.Tags["custom"] != "kept" {
		t.Errorf("message, exception value and tags are kept: %+v", got)
	}
	// Nothing shared was modified.
	if shared["secret"] != "s" || crumb.Data["password"] != "p" || e.Request == got.Request && got.Request.Data != r {
		t.Errorf("shared data modified: %v %v", shared, crumb.Data)
	}
}

func TestStrictBeforeSendNeverPanics(t *testing.T) {
	bs := fxsentry.StrictBeforeSend()
	if bs(nil, nil) != nil {
		t.Fatal("nil event must stay nil")
	}
	events := []*sentry.Event{
		{},
		{Contexts: map[string]sentry.Context{"x": nil, "runtime": nil}, Breadcrumbs: []*sentry.Breadcrumb{nil, {}}},
		{Exception: []sentry.Exception{{}, {Stacktrace: &sentry.Stacktrace{}}}, Threads: []sentry.Thread{{}, {Stacktrace: &sentry.Stacktrace{Frames: []sentry.Frame{{}}}}}},
		{Request: &sentry.Request{}, User: sentry.User{Data: map[string]string{}}},
		{Contexts: map[string]sentry.Context{"x": {"ch": make(chan int), "fn": func() {}, "ptr": (*int)(nil), "arr": [2]int{1, 2}, "m": map[int]int{1: 1}}}},
	}
	for i, e := range events {
		if got := bs(e, nil); got == nil {
			t.Errorf("event %d dropped", i)
		}
	}
}

func FuzzStrictBeforeSend(f *testing.F) {
	for _, seed := range []string{`{}`, `{"a":{"b":[1,"x",null,{"c_id":"1"}]}}`, `{"url":"http://%zz"}`, `{"k":"https://[::1]:80/?q"}`} {
		f.Add(seed)
	}
	bs := fxsentry.StrictBeforeSend("k")
	f.Fuzz(func(t *testing.T, data string) {
		var extra map[string]any
		if json.Unmarshal([]byte(data), &extra) != nil {
			return
		}
		e := bs(&sentry.Event{Contexts: map[string]sentry.Context{"extra": extra}, Breadcrumbs: []*sentry.Breadcrumb{{Data: extra}}}, nil)
		if _, err := json.Marshal(e.Contexts); err != nil {
			t.Fatal(err)
		}
		_ = fmt.Sprint(e.Breadcrumbs[0].Data)
	})
}
