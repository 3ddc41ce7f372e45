package fxpubsub

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
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

// trickyStrings need every kind of escaping encoding/json does, or look as if they might.
var trickyStrings = []string{
	"", "plain", "x-request-id", "1795775410.021493",
	"<script>alert(1)</script>", "a&b", "a\"b\\c/d", "\b\f\n\r\t", "\x00\x01\x1f\x7f", " spaces ",
	"é ü 日本 🎉", "\u2028", "\u2029", "a\u2028b\u2029c", "\u2027\u202a", "\ufffd",
	"\xff", "\xfe\xff", "a\xc3", "\xe2\x80", "\xe2\x80\xa8\xe2", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\xaf",
	strings.Repeat("long ", 200) + "<",
}

// trickyOpaque holds values of every kind an Opaque carries, under tricky keys too.
func trickyOpaque() Opaque {
	o := Opaque{
		"raw-int": json.RawMessage(`123`), "raw-float": json.RawMessage(`-0.5e-3`), "raw-big": json.RawMessage(`1e400`),
		"raw-bool": json.RawMessage(`true`), "raw-null": json.RawMessage(`null`), "raw-nil": json.RawMessage(nil),
		"raw-string": json.RawMessage(`"text"`), "raw-html": json.RawMessage(`"<a href=\"x\">&</a>"`),
		"raw-space": json.RawMessage(" { \"a\" : [ 1 , 2.50 , {\"c\" :null} ] }\n"), "raw-space-in-string": json.RawMessage(`{"a":"b c"}`),
		"raw-sep": json.RawMessage(`"` + "\u2028\u2029" + `"`), "raw-escaped-sep": json.RawMessage(`"\u2028"`),
		"raw-invalid-utf8": json.RawMessage("\"\xff\""), "raw-nested": json.RawMessage(`{"z":{"y":[[],{}]},"a":"\u003c"}`),
		"int": 5, "float": 1.5, "bool": false, "nil": nil, "slice": []string{"<a>", "\u2028"}, "bytes": []byte("hi"),
		"map": map[string]any{"b": 1, "a": "<"}, "number": json.Number("12.50"), "nil-pointer": (*int)(nil),
		"struct": struct {
			A string `json:"a"`
			B int
		}{"&", 2},
		"nested-opaque": Opaque{"z": "<", "a": json.RawMessage(" 1 ")},
	}
	for i, s := range trickyStrings {
		o[fmt.Sprintf("s%02d", i)] = s
		o[s] = i
	}
	return o
}

// referenceEncode is Encode's assembly before it wrote the opaque object itself: encoding/json
// for the content, the media type and the opaque data as a map[string]any (nil as {}).
func referenceEncode(t *testing.T, mediaType string, content any, opaque Opaque) []byte {
	t.Helper()
	inner, err := json.Marshal(content)
	if err != nil {
		t.Fatal(err)
	}
	mt, _ := json.Marshal(mediaType)
	op := []byte("{}")
	if opaque != nil {
		if op, err = json.Marshal(asMaps(opaque)); err != nil {
			t.Fatal(err)
		}
	}
	out := append([]byte(`{"mediaType":`), mt...)
	if body := inner[1 : len(inner)-1]; len(body) > 0 {
		out = append(append(out, ','), body...)
	}
	out = append(append(out, `,"opaqueData":`...), op...)
	return append(out, '}')
}

// asMaps is o as a map[string]any, an Opaque inside it too, for encoding/json to encode without
// Opaque.MarshalJSON.
func asMaps(o Opaque) map[string]any {
	m := make(map[string]any, len(o))
	for k, v := range o {
		if inner, ok := v.(Opaque); ok {
			v = asMaps(inner) // a nil Opaque is {} too
		}
		m[k] = v
	}
	return m
}

// Encode writes the opaque object (and the media type) itself: its bytes must be encoding/json's,
// escaping, key order and compaction included.
func TestEncodeOpaqueBytesUnchanged(t *testing.T) {
	r := newTestRegistry(t, SchemaFor[orderCreated](orderMT), SchemaFor[map[string]any]("application/vnd.x.created.*"))
	content := &orderCreated{URI: "https://o/1", OrderID: "7", Amount: 2.5}
	opaques := map[string]Opaque{"nil": nil, "empty": {}, "one": {"x-request-id": "r1"}, "tricky": trickyOpaque()}
	for i, s := range trickyStrings {
		opaques[fmt.Sprintf("string %d", i)] = Opaque{"k": s, s: "v"}
	}
	for name, o := range opaques {
		t.Run(name, func(t *testing.T) {
			got, err := r.Encode(orderMT, content, nil, o)
			if err != nil {
				t.Fatal(err)
			}
			if want := referenceEncode(t, orderMT, content, o); !bytes.Equal(got, want) {
				t.Fatalf("Encode wrote\n%s\nencoding/json writes\n%s", got, want)
			}
			if got, err := o.appendJSON([]byte("prefix")); err != nil || !bytes.HasPrefix(got, []byte("prefix")) {
				t.Fatalf("appendJSON does not append: %q, %v", got, err)
			}
		})
	}
	t.Run("media types", func(t *testing.T) {
		for _, s := range []string{"application/vnd.x.created.a_b", "application/vnd.x.created.<&>"} {
			got, err := r.Encode(s, map[string]any{"uri": s}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if want := referenceEncode(t, s, map[string]any{"uri": s}, nil); !bytes.Equal(got, want) {
				t.Fatalf("Encode wrote\n%s\nencoding/json writes\n%s", got, want)
			}
		}
	})
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range trickyStrings {
		want, _ := json.Marshal(s)
		if got := appendJSONString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Errorf("appendJSONString(%q) = %s, encoding/json writes %s", s, got[1:], want)
		}
	}
	buf := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() { buf = appendJSONString(buf[:0], "x-request-id é 日本") }); n != 0 {
		t.Errorf("appendJSONString allocates %v times for a string with nothing to escape", n)
	}
}

// An opaque value that does not encode fails the encode with the key named; whatever else the
// opaque data holds does not change that.
func TestEncodeOpaqueErrors(t *testing.T) {
	r := newTestRegistry(t, SchemaFor[orderCreated](orderMT))
	content := &orderCreated{URI: "https://o/1", OrderID: "7"}
	for _, tt := range []struct {
		name  string
		value any
		want  string
	}{
		{"channel", make(chan int), `json: unsupported type: chan int`},
		{"NaN", math.NaN(), `json: unsupported value: NaN`},
		{"invalid raw", json.RawMessage(`{"a":`), `json: error calling MarshalJSON for type json.RawMessage: unexpected end of JSON input`},
		{"empty raw", json.RawMessage{}, `json: error calling MarshalJSON for type json.RawMessage: unexpected end of JSON input`},
		{"two values", json.RawMessage(`1 2`), `json: error calling MarshalJSON for type json.RawMessage: invalid character '2' after top-level value`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Encode(orderMT, content, nil, Opaque{"a": "ok", "bad<": tt.value, "z": json.RawMessage("1")})
			want := `encode "` + orderMT + `" opaque data: opaque "bad<": ` + tt.want
			if err == nil || err.Error() != want {
				t.Fatalf("error %v\nwant     %s", err, want)
			}
			if _, jerr := json.Marshal(map[string]any{"k": tt.value}); jerr == nil {
				t.Fatal("encoding/json encodes the value: the case tests nothing")
			}
		})
	}
}

// The wire bytes of a typical message, exactly.
func TestEncodeWireBytes(t *testing.T) {
	r := newTestRegistry(t, SchemaFor[orderCreated](orderMT))
	got, err := r.Encode(orderMT, orderCreated{URI: "https://orders.internal/api/v1/order/7d1c?a=1&b=2", OrderID: "7d1c", Amount: 3},
		nil, Opaque{"x-request-id": "4f3e<1>", "x-request-ttl": "30", "x-request-published": "1700000000.123456",
			"n": json.RawMessage("1e400"), "o": json.RawMessage(`{"a": [1, " "]}`), "handler": "Orders Handler é"})
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"mediaType":"application/vnd.globality.pubsub._.created.order",` +
		`"uri":"https://orders.internal/api/v1/order/7d1c?a=1\u0026b=2","order_id":"7d1c","amount":3,` +
		`"opaqueData":{"handler":"Orders\u2028Handler é","n":1e400,"o":{"a":[1,"\u2028"]},` +
		`"x-request-id":"4f3e\u003c1\u003e","x-request-published":"1700000000.123456","x-request-ttl":"30"}}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
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
