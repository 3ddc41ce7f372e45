package fxpubsub

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/go-playground/validator/v10"
)

// contentValidator checks message content against `validate` tags and reports problems by wire
// (json) field name.
type contentValidator struct {
	v *validator.Validate
}

func newContentValidator() *contentValidator {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(wireFieldName)
	for _, tag := range urlRules {
		// The stock rules parse every value with net/url (about a microsecond and an allocation a
		// message); these give the same verdicts, deciding the common plain http(s) URL by a byte scan.
		_ = v.RegisterValidation(tag, func(fl validator.FieldLevel) bool { return urlRule(tag, fl.Field()) })
	}
	return &contentValidator{v: v}
}

// wireFieldName is a struct field's name on the wire (its json name).
func wireFieldName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	switch name {
	case "-":
		return ""
	case "":
		return f.Name
	}
	return name
}

// urlRules are the validator tags whose stock check urlRule speeds up.
var urlRules = []string{"url", "http_url", "uri"}

// urlRule is the verdict of the validator rule tag ("url", "http_url" or "uri") on field: true
// for a plain http(s) URL, which all three accept; otherwise the stock rule's verdict.
func urlRule(tag string, field reflect.Value) bool {
	if field.Kind() == reflect.String && plainHTTPURL(field.String()) {
		return true
	}
	return stockValidator().Var(field.Interface(), tag) == nil
}

// stockValidator has the validator's own rules, for the values urlRule does not decide itself.
var stockValidator = sync.OnceValue(func() *validator.Validate { return validator.New() })

// plainHTTPURL reports whether s is an http or https URL of the plain shape messages carry:
// "http://" or "https://" (any case), a host of ASCII letters, digits, dots and hyphens, an optional
// port (":" and digits), then nothing, or a path, query or fragment (starting "/", "?" or "#") of
// printable ASCII other than space and "%". net/url parses each such string without error, with
// that scheme and a non-empty host, so the url, http_url and uri rules all accept it (FuzzURLRule
// compares). Everything else is left to the stock rules: userinfo, IP literals, escapes,
// non-ASCII, other schemes.
func plainHTTPURL(s string) bool {
	var rest string
	switch {
	case hasPrefixFoldASCII(s, "http://"):
		rest = s[len("http://"):]
	case hasPrefixFoldASCII(s, "https://"):
		rest = s[len("https://"):]
	default:
		return false
	}
	i := 0
	for i < len(rest) && isHostByte(rest[i]) {
		i++
	}
	if i == 0 {
		return false
	}
	if i < len(rest) && rest[i] == ':' {
		i++
		for i < len(rest) && '0' <= rest[i] && rest[i] <= '9' {
			i++
		}
	}
	if i == len(rest) {
		return true
	}
	if c := rest[i]; c != '/' && c != '?' && c != '#' {
		return false
	}
	for ; i < len(rest); i++ {
		if c := rest[i]; c <= ' ' || c >= 0x7f || c == '%' {
			return false
		}
	}
	return true
}

// hasPrefixFoldASCII reports whether s starts with prefix (lower-case ASCII), ignoring the case of
// letters only.
func hasPrefixFoldASCII(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if c, p := s[i], prefix[i]; c != p && !('a' <= p && p <= 'z' && c == p-('a'-'A')) {
			return false
		}
	}
	return true
}

func isHostByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-'
}

// check validates ptr (a pointer to the schema type); non-struct types always pass.
func (c *contentValidator) check(mediaType string, ptr any) error {
	rv := reflect.ValueOf(ptr)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return nil
	}
	err := c.v.Struct(ptr)
	if err == nil {
		return nil
	}
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		return &ValidationError{MediaType: mediaType, Problems: []FieldProblem{{Reason: err.Error()}}}
	}
	problems := make([]FieldProblem, len(verrs))
	for i, fe := range verrs {
		problems[i] = FieldProblem{Field: wireNamespace(fe.Namespace()), Reason: describeTag(fe)}
	}
	return &ValidationError{MediaType: mediaType, Problems: problems}
}

// wireNamespace drops the struct type name validator puts first ("URIMessage.uri" → "uri").
func wireNamespace(ns string) string {
	if _, rest, ok := strings.Cut(ns, "."); ok {
		return rest
	}
	return ns
}

func describeTag(fe validator.FieldError) string {
	p := fe.Param()
	switch fe.Tag() {
	case "required", "required_if", "required_unless", "required_with", "required_without":
		return "is required"
	case "min", "gte":
		if isLengthKind(fe.Kind()) {
			return fmt.Sprintf("must have at least %s elements or characters", p)
		}
		return fmt.Sprintf("must be at least %s, got %v", p, fe.Value())
	case "max", "lte":
		if isLengthKind(fe.Kind()) {
			return fmt.Sprintf("must have at most %s elements or characters", p)
		}
		return fmt.Sprintf("must be at most %s, got %v", p, fe.Value())
	case "len":
		return fmt.Sprintf("must have length %s", p)
	case "oneof":
		return fmt.Sprintf("must be one of [%s], got %q", p, fmt.Sprint(fe.Value()))
	case "uuid", "uuid4", "uuid_rfc4122", "uuid4_rfc4122":
		return "not a valid UUID"
	case "url", "http_url", "uri":
		return fmt.Sprintf("not a valid URL: %q", fmt.Sprint(fe.Value()))
	case "email":
		return "not a valid email address"
	}
	if p != "" {
		return fmt.Sprintf("fails %q (%s)", fe.Tag(), p)
	}
	return fmt.Sprintf("fails %q", fe.Tag())
}

func isLengthKind(k reflect.Kind) bool {
	switch k {
	case reflect.String, reflect.Slice, reflect.Map, reflect.Array:
		return true
	}
	return false
}
