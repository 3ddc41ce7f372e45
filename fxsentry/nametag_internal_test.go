package fxsentry

import (
	"reflect"
	"testing"
)

// BeforeSendResult and ReporterParams spell the sentry_before_send tag literally (struct tags
// must be literals); they must match beforeSendTag, or the reporter would not get the component.
func TestBeforeSendTagMatches(t *testing.T) {
	for _, c := range []struct {
		params any
		field  string
	}{
		{BeforeSendResult{}, "BeforeSend"},
		{ReporterParams{}, "BeforeSend"},
	} {
		f, _ := reflect.TypeOf(c.params).FieldByName(c.field)
		if string(f.Tag) != beforeSendTag {
			t.Errorf("%T.%s is tagged %q, want %q", c.params, c.field, f.Tag, beforeSendTag)
		}
	}
}
