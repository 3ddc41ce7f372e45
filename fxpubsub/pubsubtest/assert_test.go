package pubsubtest_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/microcosm-go/pubsub/fxpubsub/pubsubtest"
)

// recorded returns a recorder holding one message per body, published to topicARN.
func recorded(t *testing.T, bodies ...string) *pubsubtest.Recorder {
	t.Helper()
	rec := pubsubtest.NewRecorder()
	c := rec.Wrap(&stubSNS{})
	for _, b := range bodies {
		if err := publish(t, c, b); err != nil {
			t.Fatal(err)
		}
	}
	return rec
}

func TestMatchers(t *testing.T) {
	rec := recorded(t, `{"mediaType":"application/vnd.globality.pubsub._.created.order","uri":"https://orders/1",`+
		`"order_id":"1","items":2,"price":9.5,"tags":["a","b"],"meta":{"k":true},"none":null,`+
		`"opaqueData":{"x-request-id":"r1","n":123,"f":123.0,"s":"123","o":{"a":[1,true]}}}`)
	p := rec.Published()[0]
	type order struct {
		URI   string `json:"uri"`
		Items int    `json:"items"`
	}
	tests := []struct {
		give pubsubtest.Matcher
		want bool
		desc string
	}{
		{pubsubtest.HasMediaType(orderMT), true, "media type " + orderMT},
		{pubsubtest.HasMediaType(shipmentMT), false, ""},
		{pubsubtest.HasURI("https://orders/1"), true, "uri https://orders/1"},
		{pubsubtest.HasURI("https://orders/2"), false, ""},
		{pubsubtest.HasTopic(topicARN), true, "topic " + topicARN},
		{pubsubtest.HasTopic("arn:aws:sns:us-east-1:000000000000:other"), false, ""},
		{pubsubtest.HasOpaque("X-Request-ID", "r1"), true, "opaque x-request-id=r1"},
		{pubsubtest.HasOpaque("x-request-id", "r2"), false, ""},
		{pubsubtest.HasOpaque("x-request-user", ""), false, ""},
		{pubsubtest.HasOpaque("n", "123"), false, ""}, // a number is not the string "123"
		{pubsubtest.HasOpaque("s", "123"), true, ""},
		{pubsubtest.HasOpaqueValue("n", 123), true, "opaque n=123"},
		{pubsubtest.HasOpaqueValue("n", "123"), false, ""},
		{pubsubtest.HasOpaqueValue("s", "123"), true, `opaque s="123"`},
		{pubsubtest.HasOpaqueValue("f", 123), false, ""}, // 123.0 as written
		{pubsubtest.HasOpaqueValue("f", json.RawMessage("123.0")), true, ""},
		{pubsubtest.HasOpaqueValue("o", map[string]any{"a": []any{1, true}}), true, ""},
		{pubsubtest.HasOpaqueValue("missing", nil), false, ""},
		{pubsubtest.HasOpaqueValue("n", make(chan int)), false, ""},
		{pubsubtest.HasField("order_id", "1"), true, `order_id="1"`},
		{pubsubtest.HasField("items", 2), true, "items=2"},
		{pubsubtest.HasField("items", int64(2)), true, ""},
		{pubsubtest.HasField("items", "2"), false, ""},
		{pubsubtest.HasField("price", 9.5), true, ""},
		{pubsubtest.HasField("tags", []string{"a", "b"}), true, `tags=["a","b"]`},
		{pubsubtest.HasField("tags", []string{"b", "a"}), false, ""},
		{pubsubtest.HasField("meta", map[string]bool{"k": true}), true, ""},
		{pubsubtest.HasField("none", nil), true, ""},
		{pubsubtest.HasField("missing", nil), false, ""},
		{pubsubtest.HasField("items", make(chan int)), false, ""},
		{pubsubtest.HasContent(order{URI: "https://orders/1", Items: 2}), true, `content {"uri":"https://orders/1","items":2}`},
		{pubsubtest.HasContent(map[string]any{"items": 3}), false, ""},
		{pubsubtest.HasContent(map[string]any{"absent": 3}), false, ""},
		{pubsubtest.HasContent("not an object"), false, ""},
		{pubsubtest.All(pubsubtest.HasMediaType(orderMT), pubsubtest.HasURI("https://orders/1")), true, "media type " + orderMT + " and uri https://orders/1"},
		{pubsubtest.All(pubsubtest.HasMediaType(orderMT), pubsubtest.HasURI("https://orders/2")), false, ""},
		{pubsubtest.All(), true, "any message"},
		{pubsubtest.MatchFunc("two items", func(p pubsubtest.Published) bool { return p.Content["items"] == 2.0 }), true, "two items"},
	}
	for _, tt := range tests {
		t.Run(tt.give.String(), func(t *testing.T) {
			if got := tt.give.Matches(p); got != tt.want {
				t.Errorf("Matches = %v, want %v", got, tt.want)
			}
			if tt.desc != "" && tt.give.String() != tt.desc {
				t.Errorf("String() = %q, want %q", tt.give.String(), tt.desc)
			}
		})
	}
}

func TestAssertPublished(t *testing.T) {
	rec := recorded(t, `{"mediaType":"a","uri":"https://1"}`, `{"mediaType":"b","uri":"https://2"}`)

	fake := &fakeTB{}
	if !pubsubtest.AssertPublished(fake, rec, pubsubtest.HasMediaType("a"), pubsubtest.All(pubsubtest.HasMediaType("b"), pubsubtest.HasURI("https://2"))) {
		t.Error("returned false")
	}
	requireNoFailure(t, fake)

	// Wrong order.
	fake = &fakeTB{}
	if pubsubtest.AssertPublished(fake, rec, pubsubtest.HasMediaType("b"), pubsubtest.HasMediaType("a")) {
		t.Error("returned true")
	}
	requireFailure(t, fake,
		"message 1 does not match:\n  want: media type b\n  got:  a → "+topicARN+` {"uri":"https://1"}`,
		"message 2 does not match:\n  want: media type a\n  got:  b",
		"wanted (2):\n  1. media type b\n  2. media type a\npublished (2):\n  1. a → ",
	)

	// Too few matchers.
	fake = &fakeTB{}
	pubsubtest.AssertPublished(fake, rec, pubsubtest.HasMediaType("a"))
	requireFailure(t, fake, "want 1 message, got 2", `2. b → `+topicARN+` {"uri":"https://2"}`)

	// Too many.
	fake = &fakeTB{}
	pubsubtest.AssertPublished(fake, rec, pubsubtest.HasMediaType("a"), pubsubtest.HasMediaType("b"), pubsubtest.HasMediaType("c"))
	requireFailure(t, fake, "want 3 messages, got 2", "3. media type c")

	// No matchers means nothing published.
	fake = &fakeTB{}
	pubsubtest.AssertPublished(fake, rec)
	requireFailure(t, fake, "want 0 messages, got 2", "wanted (0): nothing")
	if !pubsubtest.AssertPublished(t, pubsubtest.NewRecorder()) {
		t.Error("nothing published, no matchers: want true")
	}

	// Errorf, never Fatalf: a test sees every failed assertion.
	if len(fake.fatals) != 0 || len(fake.errors) != 1 {
		t.Errorf("want one Errorf, got %+v", fake)
	}
}

func TestAssertPublishedInAnyOrder(t *testing.T) {
	rec := recorded(t, `{"mediaType":"a","uri":"https://1"}`, `{"mediaType":"a","uri":"https://2"}`, `{"mediaType":"b"}`)

	fake := &fakeTB{}
	// The first matcher could take either "a"; a pairing still exists and must be found.
	if !pubsubtest.AssertPublishedInAnyOrder(fake, rec, pubsubtest.HasMediaType("a"), pubsubtest.HasMediaType("b"), pubsubtest.HasURI("https://1")) {
		t.Error("returned false")
	}
	requireNoFailure(t, fake)

	fake = &fakeTB{}
	if pubsubtest.AssertPublishedInAnyOrder(fake, rec, pubsubtest.HasMediaType("b"), pubsubtest.HasMediaType("b"), pubsubtest.HasMediaType("a")) {
		t.Error("returned true")
	}
	requireFailure(t, fake, "no distinct published message for:\n  2. media type b", "published (3):")

	fake = &fakeTB{}
	pubsubtest.AssertPublishedInAnyOrder(fake, rec, pubsubtest.HasMediaType("a"))
	requireFailure(t, fake, "AssertPublishedInAnyOrder: want 1 message, got 3")
}

func TestAssertNothingPublished(t *testing.T) {
	fake := &fakeTB{}
	if !pubsubtest.AssertNothingPublished(fake, pubsubtest.NewRecorder()) {
		t.Error("returned false")
	}
	requireNoFailure(t, fake)

	fake = &fakeTB{}
	rec := recorded(t, `{"mediaType":"a","uri":"https://1","opaqueData":{"x-request-published":"1795775410.021493","x-request-id":"r"}}`)
	if pubsubtest.AssertNothingPublished(fake, rec) {
		t.Error("returned true")
	}
	requireFailure(t, fake, "1 message published:\n  1. a → "+topicARN+` {"uri":"https://1"} opaque{x-request-id=r}`)
	if strings.Contains(fake.report(), "x-request-published") {
		t.Errorf("report shows x-request-published:\n%s", fake.report())
	}
}
