package fxpubsub

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// Fuzz targets for everything that reads untrusted input: SQS bodies (envelope detection, the
// one-pass head scanner, schema decoding and validation), media types and topic maps. The seed
// corpus (the f.Add calls and testdata/fuzz/<Target>) runs with every `go test`; scripts/fuzz.sh
// fuzzes each target for a while in CI.

type fuzzNested struct {
	Lines []struct {
		SKU string `json:"sku" validate:"required"`
		Qty int    `json:"qty" validate:"gte=1,lte=1000"`
	} `json:"lines" validate:"dive"`
	Tags map[string]string `json:"tags"`
}

const (
	fuzzNestedMT = "application/vnd.globality.pubsub._.created.fuzz_nested"
	fuzzWildMT   = "application/vnd.globality.pubsub._.changed.wild.*"
)

func fuzzRegistry(t testing.TB) *SchemaRegistry {
	t.Helper()
	r, err := NewSchemaRegistry(RegistryConfig{AutoRegister: true, LifecycleWords: []string{"archived"}},
		SchemaFor[orderCreated](orderMT), SchemaFor[fuzzNested](fuzzNestedMT), SchemaFor[map[string]any](fuzzWildMT))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// bodySeeds are message bodies that exercise the head scanner's and decoder's edges.
var bodySeeds = []string{
	`{"mediaType":"` + orderMT + `","uri":"https://o/1","order_id":"7","amount":2.5,"opaqueData":{"X-Request-Id":"r1","n":1,"o":{"a":[1,2]},"z":null}}`,
	`{"mediaType":"` + orderMT + `","uri":"https://o/1","order_id":"7","opaqueData":{"a":"1","A":"2"}}`,
	`{"mediaType":"` + orderMT + `","uri":"https://o/1","order_id":"7","opaqueData":{"a":"1"},"opaqueData":{"b":"2"}}`,
	`{"MediaType":"` + orderMT + `","uri":"https://o/1","order_id":"7"}`,
	`{"mediaType":"x","URI":"https://o/1"}`,
	`{"mediaType":"x","urı":"dotless i folds to I in encoding/json"}`,
	`{"mediaType":"x","OPAQUEDATA":{"k":"v"}}`,
	"{\"mediaType\":\"x\",\"opaqueData\":{\"o\":{\"a\":\"<&>\u2028\"},\"s\":\"<\\u2029\\u003e\",\"w\": [ 1 , \"a b\" ] ,\"h\":[\"<&>\"],\"u\":[\"\u2028\"],\"k\xff\":\"\xfe\"}}",
	`{"mediaType":"x","opaqueDat\u0061":{"k":"v"}}`,
	`{"media\u0054ype":"y","mediaType":"x"}`,
	`{"mediaType":"x","mediaType":null}`,
	`{"mediaType":null,"mediaType":"x"}`,
	`{"mediaType":"x","uri":"a","uri":5}`,
	`{"mediaType":"\ud800","uri":"\u00e9"}`,
	"{\"mediaType\":\"\xff\xfe\",\"uri\":\"u\"}",
	`{"mediaType":"x","a":tru}`,
	`{"mediaType":"x","a":1.2.3}`,
	`{"mediaType":"x",}`,
	`{"mediaType":"x"} trailing`,
	`{"mediaType":"x"}` + "\n",
	`[{"mediaType":"x"}]`,
	`"just a string"`,
	`null`,
	``,
	`{}`,
	`{"mediaType":""}`,
	`{"mediaType":"` + fuzzNestedMT + `","lines":[{"sku":"a","qty":1},{"sku":"","qty":0}],"tags":{"k":"v"}}`,
	`{"mediaType":"` + fuzzNestedMT + `","lines":[{"sku":"a","qty":1e999}]}`,
	`{"mediaType":"` + fuzzNestedMT + `","lines":{"sku":"a"}}`,
	`{"mediaType":"application/vnd.globality.pubsub._.changed.wild.thing","anything":[1,{"x":null}]}`,
	`{"mediaType":"application/vnd.globality.pubsub._.deleted.order","id":"1"}`,
	`{"mediaType":"application/vnd.globality.pubsub._.archived.order","uri":"u"}`,
	`{"mediaType":"application/vnd.globality.pubsub._.created.order","uri":"https://o/1","order_id":"7","amount":-1}`,
	`{"mediaType":"x","deep":` + strings.Repeat("[", 2000) + strings.Repeat("]", 2000) + `}`,
	`{"mediaType":"x","deep":` + strings.Repeat(`{"a":`, 1200) + `1` + strings.Repeat("}", 1200) + `}`,
	`{"mediaType":"x","n":` + strings.Repeat("9", 5000) + `}`,
	`{"mediaType":"` + orderMT + `","uri":"https://o/1","order_id":"7","amount":1e400}`,
}

// FuzzScanHead is a differential fuzz target: the one-pass head scanner must give encoding/json's
// answer (same media type, uri and opaque data) or decline (the caller then asks encoding/json),
// never a different answer. Where it accepts a body that is not valid JSON, the decode that follows
// must refuse it.
func FuzzScanHead(f *testing.F) {
	for _, s := range bodySeeds {
		f.Add([]byte(s))
	}
	reg := fuzzRegistry(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		h, ok := scanHeadIn(body, reg) // with the registry: registered media types are interned
		if !ok {
			return // declined: encoding/json decides
		}
		if !json.Valid(body) {
			if _, err := reg.Decode(body); err == nil {
				t.Fatalf("scanHead accepted invalid JSON and Decode did too: %q", body)
			}
			return
		}
		ref, err := decodeHead(body)
		if err != nil {
			t.Fatalf("scanHead accepted %q, encoding/json refuses it: %v", body, err)
		}
		if h.mediaType != ref.mediaType || h.hasMediaType != ref.hasMediaType || h.uri != ref.uri || !sameOpaque(h.opaque, ref.opaque) {
			t.Fatalf("scanHead and encoding/json disagree on %q:\nscan %+v\njson %+v", body, h, ref)
		}
	})
}

// FuzzDecode checks SchemaRegistry.Decode: no panics, typed errors, never a success on invalid
// JSON, content of the schema's type, and the same answer every time (at-least-once delivery
// decodes a message again on redelivery). What it decodes as opaque data encodes again to
// encoding/json's bytes, and so does the body as a JSON string (the encoder's own writers).
func FuzzDecode(f *testing.F) {
	for _, s := range bodySeeds {
		f.Add([]byte(s))
	}
	reg := fuzzRegistry(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		checkJSONWriters(t, body)
		d, err := reg.Decode(body)
		if d.Opaque != nil {
			checkOpaqueReencodes(t, body, d.Opaque)
		}
		for range 8 { // map iteration order differs run to run: a dependence on it shows
			d2, err2 := reg.Decode(body)
			if fmt.Sprint(err) != fmt.Sprint(err2) || !reflect.DeepEqual(d, d2) {
				t.Fatalf("Decode(%q) is not deterministic:\n%+v %v\n%+v %v", body, d, err, d2, err2)
			}
		}
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("Decode(%q): %T %v, want *DecodeError", body, err, err)
			}
			var ue *UnknownMediaTypeError
			if errors.As(err, &ue) && (d.MediaType == "" || !json.Valid(body)) {
				t.Fatalf("unknown media type reported for an unreadable body %q", body)
			}
			if d.Content != nil {
				t.Fatalf("Decode(%q) failed but returned content %v", body, d.Content)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("Decode accepted invalid JSON %q", body)
		}
		schema, ferr := reg.Find(d.MediaType)
		if ferr != nil || d.MediaType == "" || d.Content == nil || reflect.TypeOf(d.Content) != reflect.PointerTo(schema.typ) || d.Opaque == nil {
			t.Fatalf("Decode(%q) = %+v", body, d)
		}
		for k, v := range d.Opaque {
			if _, ok := v.(string); !ok && !json.Valid(v.(json.RawMessage)) {
				t.Fatalf("Decode(%q): opaque %q holds %#v, want a string or valid JSON text", body, k, v)
			}
		}
	})
}

// checkJSONWriters: appendJSONString writes any string, the body as one included, as
// encoding/json does.
func checkJSONWriters(t *testing.T, body []byte) {
	t.Helper()
	want, _ := json.Marshal(string(body))
	if got := appendJSONString(nil, string(body)); !bytes.Equal(got, want) {
		t.Fatalf("appendJSONString(%q) = %s, encoding/json writes %s", body, got, want)
	}
}

// checkOpaqueReencodes: decoded opaque data encodes to encoding/json's bytes for the same map.
func checkOpaqueReencodes(t *testing.T, body []byte, o Opaque) {
	t.Helper()
	want, err := json.Marshal(map[string]any(o))
	if err != nil {
		t.Fatalf("decoded opaque of %q does not encode with encoding/json: %v", body, err)
	}
	got, err := o.appendJSON(nil)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("opaque decoded from %q encodes to\n%s (%v)\nencoding/json writes\n%s", body, got, err, want)
	}
}

// sameOpaque compares decoded opaque data; nil and empty are the same.
func sameOpaque(a, b Opaque) bool {
	return len(a) == 0 && len(b) == 0 || reflect.DeepEqual(a, b)
}

// snsSeeds are SQS bodies for envelope detection.
var snsSeeds = []string{
	`{"Type":"Notification","MessageId":"m","TopicArn":"arn:aws:sns:us-east-1:1:t","Message":"{\"mediaType\":\"` + orderMT + `\",\"uri\":\"https://o/1\",\"order_id\":\"7\"}","Timestamp":"2026-11-27T10:21:55.838Z","SignatureVersion":"1","Signature":"EXAMPLE","SigningCertURL":"https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0.pem"}`,
	`{"Type":"Notific\u0061tion","MessageId":"m","TopicArn":"arn:t","Message":"{}"}`,
	`{"type":"Notification","messageid":"m","topicarn":"arn:t","message":"{}"}`,
	`{"Type":"Notification","MessageId":"m","TopicArn":"arn:t","Message":"{}","mediaType":"x"}`,
	`{"Type":"Notification","MessageId":"m","TopicArn":"arn:t","Message":"{}","TopicArn":"arn:other"}`,
	`{"Type":"Notification","MessageId":"m","TopicArn":"arn:t","Message":{"a":1}}`,
	`{"Type":"Notification","MessageId":"m","TopicArn":"arn:t","Message":null}`,
	`{"Type":"Notification","MessageId":"m","TopicArn":"arn:t","Message":"x","Subject":7}`,
	`{"Type":"SubscriptionConfirmation","MessageId":"m","TopicArn":"arn:t","Message":"{}","SubscribeURL":"https://x"}`,
	`{"mediaType":"` + orderMT + `","uri":"https://o/1","order_id":"7","Type":"Notification"}`,
	`"Notification"`,
}

// FuzzUnwrapSNS is a differential fuzz target for envelope detection: the byte prefilter must
// never say "not a notification" for a body encoding/json reads as one.
func FuzzUnwrapSNS(f *testing.F) {
	for _, s := range snsSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		msg, info := unwrapSNS(body)
		// Reference: always decode.
		var n snsNotification
		isEnv := json.Unmarshal(body, &n) == nil && n.Type == "Notification" && n.TopicARN != "" && n.MessageID != "" && n.Message != nil && n.MediaType == nil
		if isEnv != (info.topicARN != "") {
			t.Fatalf("envelope detection disagrees with encoding/json on %q: unwrap says %v", body, !isEnv)
		}
		if isEnv && (string(msg) != *n.Message || info.topicARN != n.TopicARN || info.messageID != n.MessageID) {
			t.Fatalf("unwrapped %q / %+v, encoding/json reads %+v", msg, info, n)
		}
		if !isEnv && !bytes.Equal(msg, body) {
			t.Fatalf("a body that is not an envelope must pass through unchanged")
		}
	})
}

// FuzzDecodeBody runs every envelope strategy, and the codec envelope with the allow-list and
// require-envelope checks, over one body: no panics, typed errors, and a refused body is never
// decoded.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range append(append([]string{}, snsSeeds...), bodySeeds...) {
		f.Add([]byte(s))
	}
	reg := fuzzRegistry(f)
	guard := newEnvelopeGuard(EnvelopeChecks{AllowedTopicARNs: []string{"arn:aws:sns:us-east-1:1:t"}, RequireEnvelope: true})
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, env := range []Envelope{EnvelopeCodec, EnvelopeRaw, EnvelopeNaive} {
			d, info, err := decodeBody(env, reg, body)
			var de *DecodeError
			if err != nil && !errors.As(err, &de) {
				t.Fatalf("%s: %T %v, want *DecodeError", env, err, err)
			}
			if err == nil && (d.Content == nil || d.MediaType == "") {
				t.Fatalf("%s: success without content: %+v", env, d)
			}
			if env != EnvelopeCodec && info != (snsInfo{}) {
				t.Fatalf("%s read an SNS envelope", env)
			}
		}
		d, info, err := decodeChecked(t.Context(), EnvelopeCodec, reg, guard, body)
		var ee *EnvelopeError
		if errors.As(err, &ee) {
			if d.Content != nil || d.MediaType != "" || len(d.Opaque) != 0 || info != (snsInfo{}) {
				t.Fatalf("refused body decoded: %+v %+v", d, info)
			}
			return
		}
		if info.topicARN != "arn:aws:sns:us-east-1:1:t" {
			t.Fatalf("accepted %q with topic %q", body, info.topicARN)
		}
	})
}

// FuzzMediaTypes checks media-type building and parsing: NameFor, lifecycle detection, schema
// lookup (exact, wildcard, convention) and topic lookup.
func FuzzMediaTypes(f *testing.F) {
	for _, s := range [][2]string{
		{"FooBar", "created"}, {"FooBar.ThisThat", "changed"}, {"HTTPServer-Log", "deleted"}, {"deleted", "created"},
		{"ÀÉÎ", "archived"}, {"a..b", ""}, {"\xff", "created"}, {"KelvinK", "ſ"}, {"wild.*", "changed"}, {"", ""},
	} {
		f.Add(s[0], s[1])
	}
	reg := fuzzRegistry(f)
	f.Fuzz(func(t *testing.T, resource, lifecycle string) {
		name := NameFor(resource)
		if NameFor(name) != name {
			t.Fatalf("NameFor is not idempotent: %q → %q → %q", resource, name, NameFor(name))
		}
		if strings.ContainsAny(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ-") {
			t.Fatalf("NameFor(%q) = %q keeps upper case or '-'", resource, name)
		}
		if utf8.ValidString(resource) && !utf8.ValidString(name) {
			t.Fatalf("NameFor(%q) = %q is not UTF-8", resource, name)
		}
		mt := MediaType(resource, lifecycle)
		want := lifecycle
		if want == "" {
			want = LifecycleCreated
		}
		if !strings.HasSuffix(mt, "."+want+"."+name) {
			t.Fatalf("MediaType(%q, %q) = %q", resource, lifecycle, mt)
		}
		s, err := reg.Find(mt)
		word, isLifecycle := reg.lifecycles.lifecycleOf(mt)
		var ue *UnknownMediaTypeError
		switch {
		case err == nil && s == nil:
			t.Fatalf("Find(%q) = nil, nil", mt)
		case err != nil && !errors.As(err, &ue):
			t.Fatalf("Find(%q): %v", mt, err)
		case err != nil && isLifecycle:
			t.Fatalf("Find(%q) refused a %s media type", mt, word)
		}
		if err == nil && reg.exact[mt] == nil && !strings.HasSuffix(s.mediaType, ".*") {
			parts := strings.Split(mt, ".")
			has := func(w string) bool { return slices.Contains(parts, w) }
			wantType := reflect.TypeFor[URIMessage]()
			if has(LifecycleDeleted) {
				wantType = reflect.TypeFor[IdentityMessage]()
			} else if has(LifecycleChanged) {
				wantType = reflect.TypeFor[ChangedURIMessage]()
			}
			if s.typ != wantType {
				t.Fatalf("Find(%q) convention schema %v, want %v", mt, s.typ, wantType)
			}
		}
		// A wildcard registration matches one more segment, and only one.
		if seg := NameFor(resource); seg != "" && !strings.Contains(seg, ".") && reg.exact[strings.TrimSuffix(fuzzWildMT, "*")+seg] == nil {
			if s, err := reg.Find(strings.TrimSuffix(fuzzWildMT, "*") + seg); err != nil || s.mediaType != fuzzWildMT {
				t.Fatalf("wildcard lookup of %q: %v %v", seg, s, err)
			}
		}
		// Topic lookup: an exact mapping wins, the batch type never falls back to the default.
		topics, err := NewTopicMap(map[string]any{"default": "arn:aws:sns:us-east-1:1:default", "mappings": map[string]any{mt: "arn:aws:sns:us-east-1:1:exact"}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := topics.Lookup(mt)
		// Dots in mapping keys nest (koanf semantics), and flatten joins them back with ".".
		if err != nil || (got != "arn:aws:sns:us-east-1:1:exact") {
			t.Fatalf("Lookup(%q) = %q, %v", mt, got, err)
		}
		if _, err := topics.Lookup(BatchMessageMediaType); err == nil {
			t.Fatal("the batch media type fell back to the default topic")
		}
	})
}

// FuzzTopicMap builds topic maps from fuzzed sns_topic_arns sections (as JSON): no panics, errors
// or a map whose lookups answer with a configured ARN or *TopicNotDefinedError.
func FuzzTopicMap(f *testing.F) {
	for _, s := range []string{
		`{"default":"arn:aws:sns:us-east-1:1:d","mappings":{"application/vnd.x.created.a":"arn:aws:sns:us-east-1:1:a"}}`,
		`{"created":{"Foo":"arn:1","foo":{"bar":"arn:2"}},"deleted":{"x":null}}`,
		`{"default":5}`, `{"mappings":[1]}`, `{"created":"x"}`, `{"DEFAULT":"arn:d","Mappings":{}}`, `{"mappings":{"a":{"b":{"c":7}}}}`,
	} {
		f.Add([]byte(s), "application/vnd.globality.pubsub._.created.foo")
	}
	f.Fuzz(func(t *testing.T, section []byte, mediaType string) {
		var m map[string]any
		if json.Unmarshal(section, &m) != nil {
			return
		}
		topics, err := NewTopicMap(m)
		if err != nil {
			return
		}
		arns := topics.TopicARNs()
		for _, mt := range []string{mediaType, BatchMessageMediaType} {
			arn, err := topics.Lookup(mt)
			var tn *TopicNotDefinedError
			if err != nil && !errors.As(err, &tn) {
				t.Fatalf("Lookup(%q): %v", mt, err)
			}
			if err == nil {
				found := false
				for _, a := range arns {
					found = found || a == arn
				}
				if !found || arn == "" {
					t.Fatalf("Lookup(%q) = %q, not one of %q", mt, arn, arns)
				}
			}
		}
	})
}

// TestHostileBodiesAllocateBoundedly decodes hostile bodies of about 1 MiB (SQS allows 1 MiB) with
// every envelope strategy and checks that none panics and none allocates more than a fixed
// multiple of its size: deep nesting (encoding/json stops at depth 10000, the head scanner at
// maxHeadDepth), huge numbers and exponents, long escaped strings, many keys.
func TestHostileBodiesAllocateBoundedly(t *testing.T) {
	const size = 1 << 20
	mt := `{"mediaType":"` + orderMT + `","uri":"https://o/1","order_id":"7","x":`
	rep := func(s string, n int) string { return strings.Repeat(s, n) }
	bodies := map[string]string{
		"deep arrays":          mt + rep("[", size/2) + rep("]", size/2) + `}`,
		"deep objects":         mt + rep(`{"a":`, size/5) + "1" + rep("}", size/5) + `}`,
		"deep unclosed":        mt + rep("[", size),
		"deep opaque":          `{"mediaType":"x","opaqueData":{"k":` + rep("[", size/2) + rep("]", size/2) + `}}`,
		"deep in envelope":     `{"Type":"Notification","MessageId":"m","TopicArn":"arn:t","Message":"x","Extra":` + rep("[", size/2) + rep("]", size/2) + `}`,
		"huge number":          mt + rep("9", size) + `}`,
		"huge exponent":        `{"mediaType":"` + orderMT + `","uri":"https://o/1","order_id":"7","amount":1e999999999999}`,
		"escaped string":       mt + `"` + rep(`\u00e9`, size/6) + `"}`,
		"many opaque keys":     `{"mediaType":"x","opaqueData":{` + strings.TrimSuffix(rep(`"k":"v",`, size/8), ",") + `}}`,
		"many top-level keys":  `{"mediaType":"x"` + rep(`,"k":1`, size/6) + `}`,
		"wide array":           mt + `[` + strings.TrimSuffix(rep(`0,`, size/2), ",") + `]}`,
		"envelope, big inner":  `{"Type":"Notification","MessageId":"m","TopicArn":"arn:t","Message":"` + rep(`[`, size/2) + `"}`,
		"claims huge sig":      `{"Type":"Notification","MessageId":"m","TopicArn":"arn:t","Message":"{}","SignatureVersion":"2","Signature":"` + rep("A", size) + `"}`,
		"invalid utf-8 string": mt + `"` + rep("\xff", size) + `"}`,
	}
	reg := fuzzRegistry(t)
	guard := newEnvelopeGuard(EnvelopeChecks{Verifier: NewSNSVerifier(SNSVerifierOptions{checkURL: func(*url.URL) error { return ErrSigningCertURL }})})
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			b := []byte(body)
			for _, env := range []Envelope{EnvelopeCodec, EnvelopeRaw, EnvelopeNaive} {
				g := guard
				if env != EnvelopeCodec {
					g = nil
				}
				alloc := allocatedBytes(func() { _, _, _ = decodeChecked(t.Context(), env, reg, g, b) })
				// The worst case is raw decoding of a wide array of one-digit numbers, which
				// legitimately builds a []any of them (about 45 bytes of heap per 2-byte value,
				// counting slice growth); everything else stays far below.
				t.Logf("%s: %.1f bytes allocated per body byte", env, float64(alloc)/float64(len(b)))
				if limit := uint64(64 * len(b)); alloc > limit {
					t.Errorf("%s: %d bytes allocated for a %d-byte body (limit %d)", env, alloc, len(b), limit)
				}
			}
		})
	}
}

// allocatedBytes is the heap allocated while fn runs (the test runs alone: not parallel).
func allocatedBytes(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestScanHeadAllocations pins the head scanner's allocations: none for bodies it declines
// (however deep), and a fixed handful for a typical message whatever its content size.
func TestScanHeadAllocations(t *testing.T) {
	deep := []byte(`{"mediaType":"x","a":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`)
	if n := testing.AllocsPerRun(20, func() {
		if _, ok := scanHead(deep); ok {
			t.Fatal("scanHead walked past maxHeadDepth")
		}
	}); n != 0 {
		t.Errorf("scanHead allocates %v times declining a deep body", n)
	}
	for _, pad := range []int{10, 100000} {
		body := []byte(`{"mediaType":"` + orderMT + `","uri":"https://o/1","order_id":"7","pad":"` + strings.Repeat("p", pad) +
			`","opaqueData":{"x-request-id":"r1","x-request-ttl":"31"}}`)
		n := testing.AllocsPerRun(50, func() {
			if _, ok := scanHead(body); !ok {
				t.Fatal("declined a plain message")
			}
		})
		if n > 10 { // the strings it returns and the opaque map: independent of the body's size
			t.Errorf("scanHead allocates %v times for a plain message with %d bytes of padding, want ≤ 10", n, pad)
		}
	}
}

// FuzzParsePayloadPointer: the pointer parser never panics; what it accepts names a non-empty
// bucket and key, and our own pointer body for them parses back to the same pointer.
func FuzzParsePayloadPointer(f *testing.F) {
	for _, s := range []string{
		`["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"k"}]`,
		`["software.amazon.payloadoffloading.PayloadS3Pointer", {"s3BucketName": "b", "s3Key": "k"}]`,
		`["com.amazon.sqs.javamessaging.MessageS3Pointer",{"s3Key":"k","s3BucketName":"b"}]`,
		`["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b\u0000","s3Key":"\ud800"}]`,
		`["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":null,"s3Key":"k"}]`,
		`[`, `[]`, `{}`, `["x",{}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := ParsePayloadPointer(body)
		if err != nil {
			var pe *PayloadError
			if !errors.As(err, &pe) || pe.Op != PayloadMalformed {
				t.Fatalf("error %v is not a malformed-pointer *PayloadError", err)
			}
			return
		}
		if p.Bucket == "" || p.Key == "" {
			t.Fatalf("accepted %q with an empty bucket or key: %+v", body, p)
		}
		if !looksLikePointer(body) {
			t.Fatalf("accepted %q but looksLikePointer says no: the consumer would not resolve it", body)
		}
		again, err := ParsePayloadPointer([]byte(p.Body()))
		if err != nil || again != p {
			t.Fatalf("our body for %+v parses to %+v, %v", p, again, err)
		}
	})
}
