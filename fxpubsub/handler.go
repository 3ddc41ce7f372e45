package fxpubsub

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"unicode"
)

// Handler handles the decoded content of one media type. Return nil for SUCCEEDED, or one of the
// outcome errors (*Nack, *SkipMessage, *IgnoreMessage, *TTLExpired); any other error, or a panic,
// is FAILED. The context carries the message's opaque data ([OpaqueFrom]), the message itself
// ([MessageFrom]) and a logger with the opaque fields ([LoggerFrom]); messages produced with it
// inherit the request id and the hop TTL.
type Handler[T any] interface {
	Handle(ctx context.Context, content *T) error
}

// HandlerFunc adapts a function to [Handler].
type HandlerFunc[T any] func(ctx context.Context, content *T) error

// Handle calls f.
func (f HandlerFunc[T]) Handle(ctx context.Context, content *T) error { return f(ctx, content) }

// MediaTyped is implemented by message types that know their media type (the original's
// MEDIA_TYPE), so [AsHandler] and [AsSchemaOf] need no media type argument.
type MediaTyped interface {
	PubSubMediaType() string
}

// Registration binds a media type to a handler; [AsHandler] and [AsHandlerFunc] produce them into
// the handler group, and [NewHandlerRegistry] collects them.
type Registration struct {
	MediaType string
	Name      string       // the handler's name, for logs and opaque data
	Content   reflect.Type // the decoded content type
	call      func(ctx context.Context, content any) error
}

// NewRegistration returns the registration of h for mediaType ("" = T's [MediaTyped] media type).
func NewRegistration[T any](mediaType string, h Handler[T]) (Registration, error) {
	mt, err := mediaTypeOf[T](mediaType)
	if err != nil {
		return Registration{}, err
	}
	if h == nil {
		return Registration{}, fmt.Errorf("handler for %q is nil", mt)
	}
	return Registration{
		MediaType: mt,
		Name:      handlerName(h),
		Content:   reflect.TypeFor[T](),
		call: func(ctx context.Context, content any) error {
			c, ok := content.(*T)
			if !ok {
				return fmt.Errorf("handler %s wants *%v, got %T", handlerName(h), reflect.TypeFor[T](), content)
			}
			return h.Handle(ctx, c)
		},
	}, nil
}

func mediaTypeOf[T any](mediaType string) (string, error) {
	if mediaType != "" {
		return mediaType, nil
	}
	var zero T
	if mt, ok := any(&zero).(MediaTyped); ok && mt.PubSubMediaType() != "" {
		return mt.PubSubMediaType(), nil
	}
	return "", fmt.Errorf("no media type for %v: pass one, or implement PubSubMediaType() on it", reflect.TypeFor[T]())
}

// Named is implemented by handlers (and handler middleware) that name themselves, for logs and the
// opaque "handler" key.
type Named interface {
	HandlerName() string
}

// HandlerName names a handler as registrations, logs, Sentry tags and the opaque "handler" key
// do: by its HandlerName (see [Named]), else by the original's rule, the titleized name of its
// type ([Titleize]: a CreatedHandler, or *createdHandler, is "Created Handler"). A function (or a
// HandlerFunc) is named by its function's name ("handleOrder" is "Handle Order"), a method value by
// its receiver's type, and an anonymous function "Function", as the original names functions.
func HandlerName(h any) string { return handlerName(h) }

func handlerName(h any) string {
	if n, ok := h.(Named); ok {
		return n.HandlerName()
	}
	v := reflect.ValueOf(h)
	if v.Kind() == reflect.Func && !v.IsNil() {
		if f := runtime.FuncForPC(v.Pointer()); f != nil {
			return Titleize(funcBaseName(f.Name()))
		}
	}
	t := reflect.TypeOf(h)
	if t == nil {
		return "<nil>"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	name, _, _ := strings.Cut(t.Name(), "[") // a generic type's arguments are not its name
	return Titleize(name)
}

// funcBaseName is the name a function goes by, from its runtime name: "handleOrder" for
// "example.com/orders.handleOrder", "OrderHandler" for the method values
// "example.com/orders.(*OrderHandler).Handle-fm" and "orders.OrderHandler.Handle-fm", "Function"
// for a closure ("orders.main.func1", "orders.glob..func1").
func funcBaseName(full string) string {
	name := full[strings.LastIndexByte(full, '/')+1:]
	if i := strings.IndexByte(name, '('); i >= 0 {
		if j := strings.IndexByte(name[i:], ')'); j > 0 {
			recv, _, _ := strings.Cut(strings.TrimPrefix(name[i+1:i+j], "*"), "[")
			return recv
		}
	}
	name, _, _ = strings.Cut(name, "[") // a generic function's type arguments
	name = strings.TrimSuffix(name, "-fm")
	parts := strings.Split(name, ".")[1:] // after the package
	for _, p := range parts {
		if digits, ok := strings.CutPrefix(p, "func"); p == "" || strings.Trim(p, "0123456789") == "" ||
			ok && digits != "" && strings.Trim(digits, "0123456789") == "" {
			return "Function" // a closure: its name is generated
		}
	}
	if len(parts) == 2 { // a method value of a value receiver: pkg.T.Method
		return parts[0]
	}
	return parts[len(parts)-1]
}

// Titleize turns an identifier into words as the original names handlers (Python inflection's
// titleize): words split at case changes, an acronym kept as one word, a trailing "_id" dropped,
// each word capitalised and the rest lower-cased. "CreatedHandler" and "createdHandler" give
// "Created Handler", "URIHandler" gives "Uri Handler", "order_id_handler" gives
// "Order Id Handler".
func Titleize(s string) string {
	// underscore: FOOBar -> FOO_Bar, fooBar and foo1Bar -> foo_Bar, foo1_Bar; "-" -> "_"; lower.
	r := []rune(s)
	var b strings.Builder
	for i, c := range r {
		if i > 0 && isUpper(c) {
			prev := r[i-1]
			nextLower := i+1 < len(r) && isLower(r[i+1])
			if isLower(prev) || isDigit(prev) || (isUpper(prev) && nextLower) {
				b.WriteByte('_')
			}
		}
		if c == '-' {
			c = '_'
		}
		b.WriteRune(c)
	}
	words := strings.ToLower(b.String())
	// humanize: drop a trailing "_id", underscores become spaces.
	words = strings.ReplaceAll(strings.TrimSuffix(words, "_id"), "_", " ")
	// title: a letter after a non-letter is upper case, after a letter lower case.
	out := []rune(words)
	for i, c := range out {
		if i == 0 || !isLetter(out[i-1]) {
			out[i] = unicode.ToUpper(c)
		} else {
			out[i] = unicode.ToLower(c)
		}
	}
	return string(out)
}

func isUpper(c rune) bool  { return unicode.IsUpper(c) }
func isLower(c rune) bool  { return unicode.IsLower(c) }
func isDigit(c rune) bool  { return unicode.IsDigit(c) }
func isLetter(c rune) bool { return unicode.IsLetter(c) }

// DuplicateHandlerError reports two handlers for one media type.
type DuplicateHandlerError struct {
	MediaType string
	First     string
	Second    string
}

func (e *DuplicateHandlerError) Error() string {
	return fmt.Sprintf("two handlers for media type %q: %s and %s", e.MediaType, e.First, e.Second)
}

// HandlerRegistry maps media types to handlers (exact match only: wildcard schemas decode, but do
// not route). It is the original's sqs_message_handler_registry.
type HandlerRegistry struct {
	byType map[string]Registration
}

// NewHandlerRegistry collects registrations; duplicates are a *DuplicateHandlerError (all of them,
// joined, in media type order).
func NewHandlerRegistry(regs ...Registration) (*HandlerRegistry, error) {
	r := &HandlerRegistry{byType: make(map[string]Registration, len(regs))}
	var dups []*DuplicateHandlerError
	for _, reg := range regs {
		if old, ok := r.byType[reg.MediaType]; ok {
			first, second := old.Name, reg.Name
			if second < first {
				first, second = second, first
			}
			dups = append(dups, &DuplicateHandlerError{MediaType: reg.MediaType, First: first, Second: second})
			continue
		}
		r.byType[reg.MediaType] = reg
	}
	if len(dups) == 0 {
		return r, nil
	}
	sort.Slice(dups, func(i, j int) bool { return dups[i].MediaType < dups[j].MediaType })
	errs := make([]error, len(dups))
	for i, d := range dups {
		errs[i] = d
	}
	return nil, errors.Join(errs...)
}

// Find returns the registration for mediaType.
func (r *HandlerRegistry) Find(mediaType string) (Registration, bool) {
	reg, ok := r.byType[mediaType]
	return reg, ok
}

// MediaTypes lists the handled media types, sorted.
func (r *HandlerRegistry) MediaTypes() []string {
	out := make([]string, 0, len(r.byType))
	for mt := range r.byType {
		out = append(out, mt)
	}
	sort.Strings(out)
	return out
}
