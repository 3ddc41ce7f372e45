package fxpubsub

import (
	"reflect"
	"testing"
)

// The As* helpers put values into groups named by constants; the Params structs that collect them
// must spell the same tags, or the groups would be silently empty.
func TestGroupTagsMatchHelpers(t *testing.T) {
	for _, c := range []struct {
		params any
		field  string
		tag    string
	}{
		{RegistryParams{}, "Schemas", schemaGroup},
		{DispatcherParams{}, "Registrations", handlerGroup},
		{DispatcherParams{}, "Hooks", resultHookGroup},
	} {
		f, ok := reflect.TypeOf(c.params).FieldByName(c.field)
		if !ok {
			t.Fatalf("%T has no field %s", c.params, c.field)
		}
		if string(f.Tag) != c.tag {
			t.Errorf("%T.%s is tagged %s, the helpers use %s", c.params, c.field, f.Tag, c.tag)
		}
	}
}
