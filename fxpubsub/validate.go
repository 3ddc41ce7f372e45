package fxpubsub

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/go-playground/validator/v10"
)

// contentValidator checks message content against `validate` tags and reports problems by wire
// (json) field name.
type contentValidator struct {
	v *validator.Validate
}

func newContentValidator() *contentValidator {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			return ""
		case "":
			return f.Name
		}
		return name
	})
	return &contentValidator{v: v}
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
