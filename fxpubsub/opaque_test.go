package fxpubsub

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
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

// Values keep their JSON types: strings as strings, everything else as its exact JSON text, and
// an encode of what was decoded writes each value back as it came (1e400 and 123.0 included).
func TestOpaqueValuesKeepJSONTypes(t *testing.T) {
	r := newTestRegistry(t, SchemaFor[orderCreated](orderMT))
	in := `{"s":"x","n":123,"f":123.0,"big":1e400,"neg":-0.5e-3,"t":true,"z":null,"o":{"a":[1,2.50,{"c":null}]},"arr":["a",1]}`
	body := `{"mediaType":"` + orderMT + `","uri":"https://o/1","order_id":"7","opaqueData":` + in + `}`
	d, err := r.Decode([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := d.Opaque["s"].(string); !ok || s != "x" {
		t.Fatalf("string value = %#v, want the Go string", d.Opaque["s"])
	}
	for k, want := range map[string]string{"n": "123", "f": "123.0", "big": "1e400", "neg": "-0.5e-3", "t": "true", "z": "null", "o": `{"a":[1,2.50,{"c":null}]}`, "arr": `["a",1]`} {
		if raw, ok := d.Opaque[k].(json.RawMessage); !ok || string(raw) != want {
			t.Errorf("opaque %q = %#v, want json.RawMessage %s", k, d.Opaque[k], want)
		}
		if got := d.Opaque.Get(k); got != want {
			t.Errorf("Get(%q) = %q, want %q", k, got, want)
		}
	}
	out, err := r.Encode(orderMT, d.Content, nil, d.Opaque)
	if err != nil {
		t.Fatal(err)
	}
	var wire struct {
		OpaqueData map[string]json.RawMessage `json:"opaqueData"`
	}
	if err := json.Unmarshal(out, &wire); err != nil {
		t.Fatal(err)
	}
	var want map[string]json.RawMessage
	_ = json.Unmarshal([]byte(in), &want)
	if !reflect.DeepEqual(wire.OpaqueData, want) {
		t.Fatalf("re-encoded opaqueData = %s, want %s", out, in)
	}
}

func TestOpaqueAccessors(t *testing.T) {
	o := Opaque{}
	o.Set("X-Request-Id", "r1")
	if err := o.SetValue("Count", 3); err != nil {
		t.Fatal(err)
	}
	if err := o.SetValue("raw", json.RawMessage(` {"a": 1} `)); err != nil {
		t.Fatal(err)
	}
	if err := o.SetValue("name", "n"); err != nil {
		t.Fatal(err)
	}
	if err := o.SetValue("bad", json.RawMessage(`{`)); err == nil || !strings.Contains(err.Error(), `opaque "bad": invalid JSON`) {
		t.Fatalf("invalid raw JSON: err = %v", err)
	}
	if err := o.SetValue("ch", make(chan int)); err == nil || !strings.Contains(err.Error(), `opaque "ch"`) {
		t.Fatalf("unencodable value: err = %v", err)
	}
	if _, ok := o["bad"]; ok {
		t.Fatal("a failed SetValue must store nothing")
	}
	want := Opaque{"x-request-id": "r1", "count": json.RawMessage("3"), "raw": json.RawMessage(`{"a": 1}`), "name": "n"}
	if !reflect.DeepEqual(o, want) {
		t.Fatalf("opaque = %#v, want %#v", o, want)
	}
	for key, wantJSON := range map[string]string{"X-REQUEST-ID": `"r1"`, "count": "3", "name": `"n"`} {
		if v, ok := o.Value(key); !ok || string(v) != wantJSON {
			t.Errorf("Value(%q) = %s, %v; want %s", key, v, ok, wantJSON)
		}
	}
	if _, ok := o.Value("absent"); ok || o.Get("absent") != "" {
		t.Error("an absent key must report absent")
	}
	// A received message keeps wire keys; Get still finds them in any spelling.
	wire := Opaque{"X-Request-Id": "w"}
	if wire.Get("x-request-id") != "w" || wire.Get("X-REQUEST-ID") != "w" {
		t.Errorf("Get on wire keys: %q %q", wire.Get("x-request-id"), wire.Get("X-REQUEST-ID"))
	}
	b, err := json.Marshal(struct{ O Opaque }{})
	if err != nil || string(b) != `{"O":{}}` {
		t.Fatalf("nil Opaque encodes as %s (%v), want {}", b, err)
	}
}

// MarshalJSON writes what encoding/json writes for the same map, inside other values too (where
// encoding/json compacts and HTML-escapes it again); nil is {}; a value that does not encode names
// its key.
func TestOpaqueMarshalJSON(t *testing.T) {
	for name, o := range map[string]Opaque{"nil": nil, "empty": {}, "tricky": trickyOpaque()} {
		t.Run(name, func(t *testing.T) {
			want, _ := json.Marshal(asMaps(o))
			got, err := o.MarshalJSON()
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("MarshalJSON = %s, %v\nencoding/json writes %s", got, err, want)
			}
			nested, err := json.Marshal(map[string]any{"o": o, "p": &o})
			if want := `{"o":` + string(want) + `,"p":` + string(want) + `}`; err != nil || string(nested) != want {
				t.Fatalf("nested: %s, %v\nwant %s", nested, err, want)
			}
		})
	}
	_, err := Opaque{"a": 1, "b": make(chan int)}.MarshalJSON()
	if want := `opaque "b": json: unsupported type: chan int`; err == nil || err.Error() != want {
		t.Fatalf("error %v, want %s", err, want)
	}
}

// Merging folds keys deterministically: the lower-case spelling wins over other spellings.
func TestOpaqueMergeFoldsDeterministically(t *testing.T) {
	for range 20 {
		o := Opaque{}
		o.Merge(Opaque{"X-A": "upper", "x-a": "lower", "X-a": "mixed", "B": "b"})
		if !reflect.DeepEqual(o, Opaque{"x-a": "lower", "b": "b"}) {
			t.Fatalf("merged = %v", o)
		}
	}
}

// The result line logs non-string opaque values as JSON, not as quoted text.
func TestResultLineLogsOpaqueJSON(t *testing.T) {
	var buf bytes.Buffer
	logger := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(&buf), zapcore.DebugLevel))
	hr, err := NewHandlerRegistry()
	if err != nil {
		t.Fatal(err)
	}
	d := NewDispatcher(hr, DispatcherOptions{Logger: logger})
	d.log(withOpaqueOwned(context.Background(), Opaque{"s": "x", "n": json.RawMessage("1e400"), "o": json.RawMessage(`{"a":[true]}`)}),
		&Message{MediaType: orderMT}, Result{Type: Ignored}, nil)
	var line struct {
		Opaque map[string]json.RawMessage `json:"opaque"`
	}
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("log line %s: %v", buf.Bytes(), err)
	}
	for k, want := range map[string]string{"s": `"x"`, "n": "1e400", "o": `{"a":[true]}`} {
		if string(line.Opaque[k]) != want {
			t.Errorf("logged opaque %q = %s, want %s (line %s)", k, line.Opaque[k], want, buf.Bytes())
		}
	}
}
