package fxpubsub

import (
	"fmt"
	"strings"
	"testing"

	"github.com/go-playground/validator/v10"
)

// urlRuleCases: the verdicts of the validator's stock url, http_url and uri rules, and whether
// plainHTTPURL decides the value without them.
var urlRuleCases = []struct {
	give              string
	url, httpURL, uri bool
	plain             bool
}{
	{"https://orders.internal/api/v1/order/7d1c", true, true, true, true},
	{"http://o/1", true, true, true, true},
	{"HTTPS://Example.COM:8443/a?b=c#d", true, true, true, true},
	{"hTtP://a", true, true, true, true},
	{"http://1.2.3.4/x", true, true, true, true},
	{"http://a:", true, true, true, true},
	{"http://a:99999999999999999999/", true, true, true, true},
	{"http://a..b/", true, true, true, true},
	{"http://-/", true, true, true, true},
	{"http://a?b", true, true, true, true},
	{"http://a?", true, true, true, true},
	{"https://a#frag", true, true, true, true},
	{`https://a/\path`, true, true, true, true},
	{"http://a/[x]", true, true, true, true},
	{"http://a/?q=<>\"{}|^`", true, true, true, true},
	// Left to the stock rules.
	{"http://a:80x", false, false, false, false},
	{"http://a:1:2/", false, false, false, false},
	{"http://", false, false, true, false},
	{"https://", false, false, true, false},
	{"http:/a", false, false, true, false},
	{"http//a", false, false, false, false},
	{"http://a b", false, false, false, false},
	{"http://a/b c", true, true, true, false},
	{"http://a/%41", true, true, true, false},
	{"http://a/%zz", false, false, false, false},
	{"http://a/b%", false, false, false, false},
	{"http://a?%zz", true, true, true, false},
	{"http://a#%zz", false, false, true, false},
	{"http://a_b/", true, true, true, false},
	{"http://é.com/", true, true, true, false},
	{"http://a/é", true, true, true, false},
	{"http://a\x00", false, false, false, false},
	{"http://a/\x7f", false, false, false, false},
	{"http://user:pass@host/x", true, true, true, false},
	{"http://[::1]:80/x", true, true, true, false},
	{"httpx://a", true, false, true, false},
	{"ftp://x/y", true, false, true, false},
	{"mailto:a@b", true, false, true, false},
	{"file:///tmp/x", true, false, true, false},
	{"file:///", false, false, true, false},
	{"/relative/path", false, false, true, false},
	{"#only", false, false, false, false},
	{"", false, false, false, false},
}

// The url rules give the stock verdicts, deciding plain http(s) URLs without net/url.
func TestURLRule(t *testing.T) {
	ours, stock := newContentValidator().v, validator.New()
	for _, tt := range urlRuleCases {
		if got := plainHTTPURL(tt.give); got != tt.plain {
			t.Errorf("plainHTTPURL(%q) = %v, want %v", tt.give, got, tt.plain)
		}
		for tag, want := range map[string]bool{"url": tt.url, "http_url": tt.httpURL, "uri": tt.uri} {
			if got := stock.Var(tt.give, tag) == nil; got != want {
				t.Errorf("stock %s rule on %q: %v, want %v (did the validator change?)", tag, tt.give, got, want)
			}
			if got := ours.Var(tt.give, tag) == nil; got != want {
				t.Errorf("our %s rule on %q: %v, want %v", tag, tt.give, got, want)
			}
		}
	}
}

// In a schema the rules behave as the stock ones: the same problems for the same content, on
// strings, named string types and pointers, behind omitempty and dive; a rule on a non-string
// field panics as the stock one does.
func TestURLRuleInSchema(t *testing.T) {
	type link string
	type content struct {
		URL     string   `json:"url" validate:"url"`
		HTTPURL string   `json:"http_url" validate:"omitempty,http_url"`
		URI     link     `json:"uri" validate:"uri"`
		Ptr     *string  `json:"ptr" validate:"omitempty,url"`
		List    []string `json:"list" validate:"dive,http_url"`
	}
	ours, stock := newContentValidator(), &contentValidator{v: validator.New()}
	stock.v.RegisterTagNameFunc(wireFieldName)
	ftp, plain := "ftp://x", "http://x/y"
	for _, c := range []content{
		{URL: plain, HTTPURL: plain, URI: link(plain), Ptr: &plain, List: []string{plain}},
		{URL: ftp, HTTPURL: ftp, URI: link(ftp), Ptr: &ftp, List: []string{plain, ftp}},
		{URL: "x", URI: "", Ptr: new(string), List: []string{"http://a b"}},
	} {
		got, want := fmt.Sprint(ours.check("mt", &c)), fmt.Sprint(stock.check("mt", &c))
		if got != want {
			t.Errorf("%+v:\nours  %s\nstock %s", c, got, want)
		}
	}
	type notString struct {
		N int `validate:"url"`
	}
	panicText := func(v *validator.Validate) (msg string) {
		defer func() { msg = fmt.Sprint(recover()) }()
		_ = v.Struct(&notString{N: 1})
		return ""
	}
	if got, want := panicText(ours.v), panicText(validator.New()); got != want || !strings.Contains(want, "Bad field type int") {
		t.Errorf("url rule on an int: ours panics with %q, stock with %q", got, want)
	}
}

// FuzzURLRule: for every string, our url, http_url and uri rules give the stock rules' verdicts,
// and every string plainHTTPURL decides is one all three stock rules accept.
func FuzzURLRule(f *testing.F) {
	for _, tt := range urlRuleCases {
		f.Add(tt.give)
	}
	ours, stock := newContentValidator().v, validator.New()
	f.Fuzz(func(t *testing.T, s string) {
		plain := plainHTTPURL(s)
		for _, tag := range urlRules {
			got, want := ours.Var(s, tag) == nil, stock.Var(s, tag) == nil
			if got != want {
				t.Fatalf("%s rule on %q: ours %v, stock %v", tag, s, got, want)
			}
			if plain && !want {
				t.Fatalf("plainHTTPURL accepts %q, the stock %s rule does not", s, tag)
			}
		}
	})
}

// BenchmarkURLRule validates a struct with one `required,url` field holding a plain URL, with the
// stock rule and with ours.
func BenchmarkURLRule(b *testing.B) {
	type message struct {
		URI string `json:"uri" validate:"required,url"`
	}
	m := &message{URI: "https://orders.internal/api/v1/order/7d1c"}
	for _, bb := range []struct {
		name string
		v    *validator.Validate
	}{{"stock", validator.New()}, {"ours", newContentValidator().v}} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := bb.v.Struct(m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
