package fxconfig

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// scalarString formats strings, bools and numbers; maps and lists are not
// scalars.
func scalarString(raw any) (string, bool) {
	switch reflect.ValueOf(raw).Kind() {
	case reflect.String, reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return fmt.Sprint(raw), true
	default:
		return "", false
	}
}

// describe names a value in messages: "a map", "a list", or the quoted value.
func describe(raw any) string {
	switch reflect.ValueOf(raw).Kind() {
	case reflect.Map:
		return "a map"
	case reflect.Slice, reflect.Array:
		return "a list"
	default:
		return fmt.Sprintf("%q", fmt.Sprint(raw))
	}
}

func convertError(raw any, to string) error {
	if _, ok := scalarString(raw); !ok {
		return fmt.Errorf("expected %s, got %s", to, describe(raw))
	}
	return fmt.Errorf("cannot convert %s to %s", describe(raw), to)
}

func toBool(raw any) (bool, error) {
	rv := reflect.ValueOf(raw)
	switch rv.Kind() {
	case reflect.Bool:
		return rv.Bool(), nil
	case reflect.String:
		switch strings.ToLower(strings.TrimSpace(rv.String())) {
		case "true", "yes", "on", "1", "y", "t":
			return true, nil
		case "false", "no", "off", "0", "", "n", "f":
			return false, nil
		}
	default:
		if i, err := toInt(raw); err == nil && (i == 0 || i == 1) {
			return i == 1, nil
		}
	}
	return false, convertError(raw, "bool")
}

func toInt(raw any) (int64, error) {
	rv := reflect.ValueOf(raw)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if u := rv.Uint(); u <= math.MaxInt64 {
			return int64(u), nil
		}
	case reflect.Float32, reflect.Float64:
		if f := rv.Float(); f == math.Trunc(f) && f >= math.MinInt64 && f < math.MaxInt64 {
			return int64(f), nil
		}
	case reflect.String:
		return strconv.ParseInt(strings.TrimSpace(rv.String()), 10, 64)
	}
	return 0, errors.New("not an integer")
}

func toFloat(raw any) (float64, error) {
	rv := reflect.ValueOf(raw)
	switch rv.Kind() {
	case reflect.Float32, reflect.Float64:
		return rv.Float(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return float64(rv.Uint()), nil
	case reflect.String:
		return strconv.ParseFloat(strings.TrimSpace(rv.String()), 64)
	}
	return 0, errors.New("not a number")
}

// toDuration accepts a time.Duration, a Go duration string ("30s", "1m30s")
// or a number of seconds (10, 0.5, "10", "0.5").
func toDuration(raw any) (time.Duration, error) {
	if d, ok := raw.(time.Duration); ok {
		return d, nil
	}
	if s, ok := raw.(string); ok {
		if d, err := time.ParseDuration(strings.TrimSpace(s)); err == nil {
			return d, nil
		}
	}
	f, err := toFloat(raw)
	if err != nil || math.IsNaN(f) || math.Abs(f*float64(time.Second)) > math.MaxInt64 {
		return 0, convertError(raw, "duration")
	}
	return time.Duration(f * float64(time.Second)), nil
}

func joinPath(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// snakeCase turns a Go field name into a config key: WaitSeconds ->
// wait_seconds, SQSQueueURL -> sqs_queue_url.
func snakeCase(name string) string {
	rs := []rune(name)
	var b strings.Builder
	for i, r := range rs {
		if unicode.IsUpper(r) {
			if i > 0 && (!unicode.IsUpper(rs[i-1]) || i+1 < len(rs) && unicode.IsLower(rs[i+1])) && rs[i-1] != '_' {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
