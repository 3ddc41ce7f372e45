package fxconfig

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Unmarshal fills dst, a non-nil pointer to a struct, from the section at
// the dotted key section ("" is the root). The current field values of dst
// are the defaults: a field keeps its value unless the section sets its key.
//
// A field's key is its koanf tag, else the snake_case of its name; a tag of
// "-" skips the field, and an untagged embedded struct is squashed into its
// parent. Nested structs recurse. Strings convert to the field type (see the
// package doc); lists replace the default; maps merge key by key over it;
// a null value keeps the default (or sets a pointer to nil). Unknown keys are
// ignored. After filling, dst is checked against its validate tags.
//
// Every problem is reported as a [*FieldError] naming the full dotted key;
// several are joined with errors.Join.
func (s *Settings) Unmarshal(section string, dst any) error {
	rv := reflect.ValueOf(dst)
	if !rv.IsValid() || rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("unmarshal %q: dst must be a non-nil pointer to a struct, got %T", section, dst)
	}
	var (
		tree    map[string]any
		present bool
	)
	if section == "" {
		tree, present = s.ko.Raw(), true
	} else if raw := s.ko.Get(keyPath(section)); raw != nil {
		m, ok := raw.(map[string]any)
		if !ok {
			return &FieldError{Key: section, Value: raw, Reason: "expected a map, got " + describe(raw)}
		}
		tree, present = m, true
	}
	d := &decoder{
		fields: make(map[string]reflect.StructField),
		keys:   make(map[string]string),
		raw:    make(map[string]any),
		failed: make(map[string]bool),
	}
	d.decodeStruct(rv.Elem(), tree, present, section, "")
	d.validate(dst)
	s.keys.read(section, d.seen, d.open)
	return errors.Join(d.errs...)
}

var (
	durationType        = reflect.TypeFor[time.Duration]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// decoder fills one struct and remembers, per Go field path (as the
// validator names it, without the root type), the config key and field, so
// validation errors can name config keys.
type decoder struct {
	errs   []error
	fields map[string]reflect.StructField // Go path -> field
	keys   map[string]string              // Go path -> config key
	raw    map[string]any                 // config key -> value from config
	failed map[string]bool                // config keys with a conversion error
	seen   []string                       // config keys of every field
	open   []string                       // config keys of map and interface fields: any key below is theirs
}

func (d *decoder) fail(key string, value any, format string, args ...any) {
	d.errs = append(d.errs, &FieldError{Key: key, Value: value, Reason: fmt.Sprintf(format, args...)})
	d.failed[key] = true
}

func (d *decoder) decodeStruct(v reflect.Value, tree map[string]any, present bool, keyPrefix, goPrefix string) {
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		tag, _, _ := strings.Cut(sf.Tag.Get("koanf"), ",")
		if tag == "-" {
			continue
		}
		goPath := joinPath(goPrefix, sf.Name)
		if sf.Anonymous && tag == "" && sf.Type.Kind() == reflect.Struct {
			d.decodeStruct(v.Field(i), tree, present, keyPrefix, goPath)
			continue
		}
		if !sf.IsExported() {
			continue
		}
		if tag == "" {
			tag = snakeCase(sf.Name)
		}
		key := joinPath(keyPrefix, tag)
		d.fields[goPath] = sf
		d.keys[goPath] = key
		d.seen = append(d.seen, key)
		ft := sf.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Map || ft.Kind() == reflect.Interface {
			d.open = append(d.open, key)
		}
		raw, ok := tree[tag]
		d.decodeValue(v.Field(i), raw, ok && present, key, goPath)
	}
}

// decodeValue sets v from raw when ok (raw was present in config). It walks
// nested structs even when absent, to learn their keys.
func (d *decoder) decodeValue(v reflect.Value, raw any, ok bool, key, goPath string) {
	if ok {
		d.raw[key] = raw
	}
	t := v.Type()
	switch {
	case ok && raw != nil && isText(t):
		s, isScalar := scalarString(raw)
		if !isScalar {
			d.fail(key, raw, "expected %s, got %s", t, describe(raw))
			return
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			d.fail(key, raw, "cannot convert %q to %s: %v", s, t, err)
		}
		return
	case t.Kind() == reflect.Struct && !isText(t):
		if !ok || raw == nil {
			d.decodeStruct(v, nil, false, key, goPath)
			return
		}
		m, isMap := asMap(raw)
		if !isMap {
			d.fail(key, raw, "expected a map, got %s", describe(raw))
			d.decodeStruct(v, nil, false, key, goPath)
			return
		}
		d.decodeStruct(v, m, true, key, goPath)
		return
	case t.Kind() == reflect.Pointer:
		if !ok {
			if !v.IsNil() {
				d.decodeValue(v.Elem(), nil, false, key, goPath)
			}
			return
		}
		if raw == nil {
			v.SetZero()
			return
		}
		nv := reflect.New(t.Elem())
		if !v.IsNil() {
			nv.Elem().Set(v.Elem())
		}
		n := len(d.errs)
		d.decodeValue(nv.Elem(), raw, true, key, goPath)
		if len(d.errs) == n {
			v.Set(nv)
		}
		return
	}
	if !ok || raw == nil {
		return
	}
	d.set(v, raw, key, goPath)
}

func (d *decoder) set(v reflect.Value, raw any, key, goPath string) {
	t := v.Type()
	if t == durationType {
		dur, err := toDuration(raw)
		if err != nil {
			d.fail(key, raw, "%s", err)
			return
		}
		v.SetInt(int64(dur))
		return
	}
	rv := reflect.ValueOf(raw)
	switch t.Kind() {
	case reflect.String:
		s, ok := scalarString(raw)
		if !ok {
			d.fail(key, raw, "expected string, got %s", describe(raw))
			return
		}
		v.SetString(s)
	case reflect.Bool:
		b, err := toBool(raw)
		if err != nil {
			d.fail(key, raw, "%s", err)
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := toInt(raw)
		if err != nil || v.OverflowInt(i) {
			d.fail(key, raw, "%s", convertError(raw, t.Kind().String()))
			return
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		i, err := toInt(raw)
		if err != nil || i < 0 || v.OverflowUint(uint64(i)) {
			d.fail(key, raw, "%s", convertError(raw, t.Kind().String()))
			return
		}
		v.SetUint(uint64(i))
	case reflect.Float32, reflect.Float64:
		f, err := toFloat(raw)
		if err != nil || v.OverflowFloat(f) {
			d.fail(key, raw, "%s", convertError(raw, t.Kind().String()))
			return
		}
		v.SetFloat(f)
	case reflect.Slice:
		d.setSlice(v, raw, rv, key, goPath)
	case reflect.Map:
		d.setMap(v, raw, key, goPath)
	case reflect.Interface:
		if t.NumMethod() != 0 || !rv.Type().AssignableTo(t) {
			d.fail(key, raw, "unsupported field type %s", t)
			return
		}
		v.Set(rv)
	default:
		d.fail(key, raw, "unsupported field type %s", t)
	}
}

// setSlice accepts a list, or a string split on commas (blank items dropped).
// The result replaces the default.
func (d *decoder) setSlice(v reflect.Value, raw any, rv reflect.Value, key, goPath string) {
	var items []any
	switch {
	case rv.Kind() == reflect.String:
		for item := range strings.SplitSeq(rv.String(), ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
	case rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array:
		for i := range rv.Len() {
			items = append(items, rv.Index(i).Interface())
		}
	case rv.Kind() == reflect.Map:
		d.fail(key, raw, "expected a list, got %s", describe(raw))
		return
	default:
		items = []any{raw}
	}
	out := reflect.MakeSlice(v.Type(), len(items), len(items))
	n := len(d.errs)
	for i, item := range items {
		idx := strconv.Itoa(i)
		d.decodeValue(out.Index(i), item, true, key+"."+idx, goPath+"["+idx+"]")
	}
	if len(d.errs) == n {
		v.Set(out)
	}
}

// setMap merges the config map key by key over the default map.
func (d *decoder) setMap(v reflect.Value, raw any, key, goPath string) {
	t := v.Type()
	if t.Key().Kind() != reflect.String {
		d.fail(key, raw, "unsupported field type %s", t)
		return
	}
	m, ok := asMap(raw)
	if !ok {
		d.fail(key, raw, "expected a map, got %s", describe(raw))
		return
	}
	out := reflect.MakeMapWithSize(t, v.Len()+len(m))
	iter := v.MapRange()
	for iter.Next() {
		out.SetMapIndex(iter.Key(), iter.Value())
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	n := len(d.errs)
	for _, k := range names {
		mk := reflect.ValueOf(k).Convert(t.Key())
		elem := reflect.New(t.Elem()).Elem()
		if old := v.MapIndex(mk); old.IsValid() {
			elem.Set(old)
		}
		d.decodeValue(elem, m[k], true, key+"."+k, goPath+"["+k+"]")
		out.SetMapIndex(mk, elem)
	}
	if len(d.errs) == n {
		v.Set(out)
	}
}

func isText(t reflect.Type) bool {
	return t != durationType && t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(textUnmarshalerType)
}

// asMap returns raw as map[string]any if it is a map with string-like keys.
func asMap(raw any) (map[string]any, bool) {
	if m, ok := raw.(map[string]any); ok {
		return m, true
	}
	if n, ok := normalize(raw).(map[string]any); ok {
		return n, true
	}
	return nil, false
}

// Validate checks v (a struct, or a pointer to one) against its validate tags, as
// [Settings.Unmarshal] does after filling, and reports each failure as a [*FieldError] whose key
// starts with section ("sqs_consumer.limit"); several are joined with errors.Join. Use it for
// configuration built or changed in code.
func Validate(section string, v any) error {
	rv := reflect.ValueOf(v)
	if rv.IsValid() && rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	if !rv.IsValid() || rv.Kind() != reflect.Struct {
		return fmt.Errorf("validate %q: want a struct or a pointer to one, got %T", section, v)
	}
	cp := reflect.New(rv.Type()) // an addressable copy: walking the fields never changes them
	cp.Elem().Set(rv)
	d := &decoder{
		fields: make(map[string]reflect.StructField),
		keys:   make(map[string]string),
		raw:    make(map[string]any),
		failed: make(map[string]bool),
	}
	d.decodeStruct(cp.Elem(), nil, false, section, "")
	d.validate(cp.Interface())
	return errors.Join(d.errs...)
}
