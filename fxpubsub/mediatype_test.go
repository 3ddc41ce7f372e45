package fxpubsub

import "testing"

func TestMediaTypes(t *testing.T) {
	tests := []struct {
		give string
		want string
	}{
		{Created("foo"), "application/vnd.globality.pubsub._.created.foo"},
		{MediaType("foo", "", Public()), "application/vnd.globality.pubsub.created.foo"},
		{MediaType("foo", "", Organization("example")), "application/vnd.example.pubsub._.created.foo"},
		{Created("FooBar"), "application/vnd.globality.pubsub._.created.foo_bar"},
		{Created("FooBar.ThisThat"), "application/vnd.globality.pubsub._.created.foo_bar.this_that"},
		{Created("Foo.Bar"), "application/vnd.globality.pubsub._.created.foo.bar"},
		{Deleted("Foo.Bar"), "application/vnd.globality.pubsub._.deleted.foo.bar"},
		{Changed("Foo"), "application/vnd.globality.pubsub._.changed.foo"},
		{Created("BatchMessage"), BatchMessageMediaType},
		{Lifecycle("archived")("Order"), "application/vnd.globality.pubsub._.archived.order"},
		{Created("HTTPServer-Log"), "application/vnd.globality.pubsub._.created.http_server_log"},
	}
	for _, tt := range tests {
		if tt.give != tt.want {
			t.Errorf("got %q, want %q", tt.give, tt.want)
		}
	}
}

func TestLifecycleOf(t *testing.T) {
	s := newLifecycleSet([]string{"Archived"})
	tests := []struct {
		give string
		want string
		ok   bool
	}{
		{Created("foo"), "created", true},
		{Changed("foo"), "changed", true},
		{Deleted("foo"), "deleted", true},
		{"application/vnd.x.created.deleted", "deleted", true},
		{"application/vnd.x.created.changed", "changed", true},
		{Lifecycle("archived")("foo"), "archived", true},
		{"application/vnd.globality.pubsub.simple", "", false},
		{"application/vnd.createdfoo", "", false},
	}
	for _, tt := range tests {
		got, ok := s.lifecycleOf(tt.give)
		if got != tt.want || ok != tt.ok {
			t.Errorf("lifecycleOf(%q) = %q, %v; want %q, %v", tt.give, got, ok, tt.want, tt.ok)
		}
	}
}
