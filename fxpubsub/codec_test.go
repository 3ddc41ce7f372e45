package fxpubsub

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

type orderCreated struct {
	URI     string  `json:"uri" validate:"required,url"`
	OrderID string  `json:"order_id" validate:"required"`
	Amount  float64 `json:"amount" validate:"gte=0"`
}

const orderMT = "application/vnd.globality.pubsub._.created.order"

func newTestRegistry(t *testing.T, schemas ...Schema) *SchemaRegistry {
	t.Helper()
	r, err := NewSchemaRegistry(DefaultRegistryConfig(), schemas...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func jsonEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got invalid JSON %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("got %s\nwant %s", got, want)
	}
}

func TestEncodeWireFormat(t *testing.T) {
	r := newTestRegistry(t, SchemaFor[orderCreated](orderMT))
	opaque := Opaque{"x-request-id": "r1", "x-request-published": "1795775410.021493"}
	want := `{"mediaType":"` + orderMT + `","uri":"https://o/1","order_id":"7","amount":2.5,"opaqueData":{"x-request-id":"r1","x-request-published":"1795775410.021493"}}`

	for name, content := range map[string]any{
		"struct":  orderCreated{URI: "https://o/1", OrderID: "7", Amount: 2.5},
		"pointer": &orderCreated{URI: "https://o/1", OrderID: "7", Amount: 2.5},
		"map":     map[string]any{"uri": "https://o/1", "order_id": "7", "amount": 2.5, "unknown": "dropped"},
		"other struct": struct {
			URI     string `json:"uri"`
			OrderID string `json:"order_id"`
			Amount  float64
		}{"https://o/1", "7", 2.5},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := r.Encode(orderMT, content, nil, opaque)
			if err != nil {
				t.Fatal(err)
			}
			jsonEqual(t, got, want)
		})
	}
	t.Run("map plus fields", func(t *testing.T) {
		got, err := r.Encode(orderMT, map[string]any{"uri": "https://o/1", "order_id": "1"}, map[string]any{"order_id": "7", "amount": 2.5}, opaque)
		if err != nil {
			t.Fatal(err)
		}
		jsonEqual(t, got, want)
	})
	t.Run("nil opaque is an empty object", func(t *testing.T) {
		got, err := r.Encode(Created("foo"), nil, map[string]any{"uri": "u"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		jsonEqual(t, got, `{"mediaType":"`+Created("foo")+`","uri":"u","opaqueData":{}}`)
	})
}

func TestEncodeConventionSchemas(t *testing.T) {
	r := newTestRegistry(t)
	tests := []struct {
		mt      string
		content map[string]any
		want    string
		wantErr string
	}{
		{Created("foo"), map[string]any{"uri": "u"}, `{"uri":"u"}`, ""},
		{Created("foo"), map[string]any{}, "", `invalid "application/vnd.globality.pubsub._.created.foo" message: uri: is required`},
		{Created("foo"), map[string]any{"uri": nil}, "", "uri: is required"},
		{Deleted("foo"), map[string]any{"id": "1", "uri": "dropped"}, `{"id":"1"}`, ""},
		{Deleted("foo"), map[string]any{"uri": "u"}, "", "id: is required"},
		{Changed("foo"), map[string]any{"uri": "u", "field_name": "f", "new_value": "v"}, `{"uri":"u","field_name":"f","new_value":"v"}`, ""},
		{Changed("foo"), map[string]any{"uri": "u"}, `{"uri":"u"}`, ""},
		{Created("foo"), map[string]any{"uri": 5}, "", `uri: cannot use JSON number as string`},
	}
	for _, tt := range tests {
		got, err := r.Encode(tt.mt, tt.content, nil, nil)
		if tt.wantErr != "" {
			var ve *ValidationError
			if !errors.As(err, &ve) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Encode(%s, %v) error = %v, want ValidationError containing %q", tt.mt, tt.content, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		_ = json.Unmarshal(got, &m)
		delete(m, "mediaType")
		delete(m, "opaqueData")
		b, _ := json.Marshal(m)
		jsonEqual(t, b, tt.want)
	}
}

func TestEncodeUnknownMediaType(t *testing.T) {
	r := newTestRegistry(t)
	_, err := r.Encode("application/vnd.globality.pubsub.simple", map[string]any{}, nil, nil)
	var ue *UnknownMediaTypeError
	if !errors.As(err, &ue) || ue.MediaType != "application/vnd.globality.pubsub.simple" {
		t.Fatalf("got %v, want UnknownMediaTypeError", err)
	}
	off, _ := NewSchemaRegistry(RegistryConfig{AutoRegister: false})
	if _, err := off.Encode(Created("foo"), map[string]any{"uri": "u"}, nil, nil); !errors.As(err, &ue) {
		t.Fatalf("auto_register off: got %v, want UnknownMediaTypeError", err)
	}
}

func TestWildcardSchema(t *testing.T) {
	type wild struct {
		Data string `json:"data" validate:"required"`
	}
	r := newTestRegistry(t, SchemaFor[wild]("application/vnd.x.wild.*"))
	if s, err := r.Find("application/vnd.x.wild.foo_12"); err != nil || s.Type() != reflect.TypeFor[wild]() {
		t.Fatalf("wildcard not found: %v %v", s, err)
	}
	if _, err := r.Find("application/vnd.x.wild.foo.bar"); err == nil {
		t.Fatal("wildcard must match the last segment only")
	}
}

func TestDuplicateSchema(t *testing.T) {
	_, err := NewSchemaRegistry(DefaultRegistryConfig(), SchemaFor[orderCreated](orderMT), SchemaFor[orderCreated](orderMT))
	if err != nil {
		t.Fatalf("same type twice must be allowed: %v", err)
	}
	_, err = NewSchemaRegistry(DefaultRegistryConfig(), SchemaFor[orderCreated](orderMT), SchemaFor[URIMessage](orderMT))
	var de *DuplicateSchemaError
	if !errors.As(err, &de) || de.MediaType != orderMT {
		t.Fatalf("got %v, want DuplicateSchemaError", err)
	}
}

func TestDecode(t *testing.T) {
	r := newTestRegistry(t, SchemaFor[orderCreated](orderMT))
	body := `{"mediaType":"` + orderMT + `","uri":"https://o/1","order_id":"7","amount":1,"extra":{"x":1},"opaqueData":{"X-Request-Id":"r","x-request-ttl":"30","n":5,"nil":null}}`
	d, err := r.Decode([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	got, ok := d.Content.(*orderCreated)
	if !ok || *got != (orderCreated{URI: "https://o/1", OrderID: "7", Amount: 1}) {
		t.Fatalf("content = %#v", d.Content)
	}
	// Keys as on the wire (case-sensitive, as the original's message.opaque_data); strings as
	// strings; numbers and null as their JSON text.
	want := Opaque{"X-Request-Id": "r", "x-request-ttl": "30", "n": json.RawMessage("5"), "nil": json.RawMessage("null")}
	if !reflect.DeepEqual(d.Opaque, want) {
		t.Fatalf("opaque = %v, want %v", d.Opaque, want)
	}
}

func TestDecodeErrors(t *testing.T) {
	r := newTestRegistry(t, SchemaFor[orderCreated](orderMT))
	tests := []struct {
		name      string
		body      string
		wantMT    string
		wantField string
		wantMsg   string
	}{
		{"malformed", `{"mediaType":`, "", "", "decode message: malformed JSON: unexpected end of JSON input"},
		{"not an object", `[1,2]`, "", "", "decode message: message is a JSON array, not an object"},
		{"no media type", `{"uri":"u"}`, "", "mediaType", `decode message: field "mediaType": missing mediaType`},
		{"media type not a string", `{"mediaType":5}`, "", "mediaType", `decode message: field "mediaType": cannot use JSON number as string`},
		{"opaque not an object", `{"mediaType":"` + orderMT + `","opaqueData":"x"}`, "", "opaqueData", `field "opaqueData"`},
		{"unknown media type", `{"mediaType":"application/vnd.nope"}`, "application/vnd.nope", "", `decode message "application/vnd.nope": unknown media type "application/vnd.nope"`},
		{"wrong field type", `{"mediaType":"` + orderMT + `","uri":"https://o","order_id":7}`, orderMT, "order_id", `field "order_id": cannot use JSON number as string`},
		{"invalid", `{"mediaType":"` + orderMT + `","uri":"not a url","order_id":"7"}`, orderMT, "uri", `not a valid URL: "not a url"`},
		{"missing required", `{"mediaType":"` + Created("foo") + `"}`, Created("foo"), "uri", "uri: is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Decode([]byte(tt.body))
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("got %v, want DecodeError", err)
			}
			if de.MediaType != tt.wantMT || de.Field != tt.wantField || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("got %q (mt %q field %q), want mt %q field %q containing %q", err, de.MediaType, de.Field, tt.wantMT, tt.wantField, tt.wantMsg)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	r := newTestRegistry(t, SchemaFor[orderCreated](orderMT))
	in := orderCreated{URI: "https://o/1", OrderID: "7", Amount: 3}
	body, err := r.Encode(orderMT, in, nil, Opaque{"x-request-id": "abc"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := r.Decode(body)
	if err != nil {
		t.Fatal(err)
	}
	if *d.Content.(*orderCreated) != in || d.Opaque.Get("X-Request-ID") != "abc" {
		t.Fatalf("round trip: %+v %v", d.Content, d.Opaque)
	}
}

func BenchmarkEncode(b *testing.B) {
	r, _ := NewSchemaRegistry(DefaultRegistryConfig(), SchemaFor[orderCreated](orderMT))
	in := orderCreated{URI: "https://orders.internal/api/v1/order/7d1c", OrderID: "7d1c", Amount: 3}
	op := Opaque{"x-request-id": "4f3e", "x-request-ttl": "30", "x-request-published": "1700000000.123456"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Encode(orderMT, in, nil, op); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	r, _ := NewSchemaRegistry(DefaultRegistryConfig(), SchemaFor[orderCreated](orderMT))
	body, _ := r.Encode(orderMT, orderCreated{URI: "https://orders.internal/api/v1/order/7d1c", OrderID: "7d1c", Amount: 3}, nil,
		Opaque{"x-request-id": "4f3e", "x-request-ttl": "30", "x-request-published": "1700000000.123456"})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Decode(body); err != nil {
			b.Fatal(err)
		}
	}
}
