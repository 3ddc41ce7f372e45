package fxconfig

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/go-playground/validator/v10"
)

// FieldError reports one configuration value that does not convert to its
// field's type or fails validation. Find it with errors.As; [Settings.Unmarshal]
// joins several with errors.Join.
type FieldError struct {
	// Key is the full dotted config key, e.g. "sqs_consumer.limit".
	Key string
	// Value is the offending value as found in config (or the field's value
	// when no source set it).
	Value any
	// Reason is the readable message, e.g. `cannot convert "ten" to int`.
	Reason string
}

// Error returns "key: reason".
func (e *FieldError) Error() string {
	if e.Key == "" {
		return e.Reason
	}
	return e.Key + ": " + e.Reason
}

var validate = validator.New(validator.WithRequiredStructEnabled())

// validate checks dst against its validate tags and turns each failure into
// a FieldError, skipping keys that already failed to convert.
func (d *decoder) validate(dst any) {
	err := validate.Struct(dst)
	if err == nil {
		return
	}
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		d.errs = append(d.errs, fmt.Errorf("validate: %w", err))
		return
	}
	for _, fe := range verrs {
		_, goPath, _ := strings.Cut(fe.StructNamespace(), ".")
		key, sf := d.lookup(goPath)
		if d.failed[key] {
			continue
		}
		value := fe.Value()
		if raw, ok := d.raw[key]; ok {
			value = raw
		}
		d.errs = append(d.errs, &FieldError{Key: key, Value: value, Reason: reason(fe, sf, value)})
	}
}

// lookup maps a validator Go path ("Consumer.Limit", "Tags[0]") to a config
// key. The field is returned only for an exact match.
func (d *decoder) lookup(goPath string) (string, reflect.StructField) {
	if key, ok := d.keys[goPath]; ok {
		return key, d.fields[goPath]
	}
	for i := len(goPath) - 1; i > 0; i-- {
		if goPath[i] != '.' && goPath[i] != '[' {
			continue
		}
		if key, ok := d.keys[goPath[:i]]; ok {
			return key + restKey(goPath[i:]), reflect.StructField{}
		}
	}
	return restKey("." + goPath)[1:], reflect.StructField{}
}

// restKey turns ".Name[k].Other" into ".name.k.other".
func restKey(rest string) string {
	var b strings.Builder
	for rest != "" {
		switch rest[0] {
		case '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				end = len(rest)
			}
			b.WriteString("." + rest[1:end])
			rest = rest[min(end+1, len(rest)):]
		case '.':
			end := strings.IndexAny(rest[1:], ".[")
			if end < 0 {
				end = len(rest) - 1
			}
			b.WriteString("." + snakeCase(rest[1:end+1]))
			rest = rest[end+1:]
		default:
			rest = "." + rest
		}
	}
	return b.String()
}

// reason maps a validator failure to a readable message.
func reason(fe validator.FieldError, sf reflect.StructField, value any) string {
	got := ", got " + describe(value)
	p := fe.Param()
	unit, more, less := "", "greater than", "less than"
	switch fe.Kind() {
	case reflect.String:
		unit, more, less = " characters long", "longer than", "shorter than"
	case reflect.Slice, reflect.Array, reflect.Map:
		unit, more, less = " items", "more than", "fewer than"
	}
	switch fe.Tag() {
	case "required":
		return "is required"
	case "min", "max", "gte", "lte":
		if lo, hi := bounds(sf.Tag.Get("validate")); lo != "" && hi != "" {
			return fmt.Sprintf("must be between %s and %s%s%s", lo, hi, unit, got)
		}
		if fe.Tag() == "min" || fe.Tag() == "gte" {
			return fmt.Sprintf("must be at least %s%s%s", p, unit, got)
		}
		return fmt.Sprintf("must be at most %s%s%s", p, unit, got)
	case "gt":
		return fmt.Sprintf("must be %s %s%s", more, p, got)
	case "lt":
		return fmt.Sprintf("must be %s %s%s", less, p, got)
	case "oneof":
		return fmt.Sprintf("must be one of [%s]%s", p, got)
	case "url":
		return "must be a URL" + got
	case "http_url":
		return "must be an http or https URL" + got
	case "hostname_port":
		return "must be host:port" + got
	default:
		return fmt.Sprintf("fails %q%s", fe.Tag(), got)
	}
}

// bounds returns the lower (min/gte) and upper (max/lte) parameters of a
// validate tag, ignoring everything after dive.
func bounds(tag string) (lo, hi string) {
	for part := range strings.SplitSeq(tag, ",") {
		name, param, _ := strings.Cut(part, "=")
		switch name {
		case "dive":
			return lo, hi
		case "min", "gte":
			lo = param
		case "max", "lte":
			hi = param
		}
	}
	return lo, hi
}
