package fxpubsub

import (
	"regexp"
	"strings"
)

// DefaultOrganization is the organisation segment of media types built by [MediaType] and friends.
const DefaultOrganization = "globality"

// Lifecycle words understood out of the box. Apps may use others through [Lifecycle].
const (
	LifecycleCreated = "created"
	LifecycleChanged = "changed"
	LifecycleDeleted = "deleted"
)

// BatchMessageMediaType is the media type of a deferred batch of messages (see the inventory §4.2).
const BatchMessageMediaType = "application/vnd.globality.pubsub._.created.batch_message"

// MediaTypeOption customises a media type built by [MediaType], [Created], [Changed], [Deleted].
type MediaTypeOption func(*mediaTypeOptions)

type mediaTypeOptions struct {
	organization string
	public       bool
}

// Organization replaces the default organisation ("globality").
func Organization(org string) MediaTypeOption {
	return func(o *mediaTypeOptions) { o.organization = org }
}

// Public drops the private "_" segment: application/vnd.<org>.pubsub.<lifecycle>.<name>.
func Public() MediaTypeOption {
	return func(o *mediaTypeOptions) { o.public = true }
}

// MediaType builds application/vnd.<org>.pubsub[._].<lifecycle>.<name>, where name is
// [NameFor](resource) and lifecycle defaults to "created". It is the original's make_media_type.
func MediaType(resource, lifecycle string, opts ...MediaTypeOption) string {
	o := mediaTypeOptions{organization: DefaultOrganization}
	for _, opt := range opts {
		opt(&o)
	}
	if lifecycle == "" {
		lifecycle = LifecycleCreated
	}
	segment := "pubsub._"
	if o.public {
		segment = "pubsub"
	}
	return "application/vnd." + o.organization + "." + segment + "." + lifecycle + "." + NameFor(resource)
}

// Created returns the media type for a created resource: Created("FooBar") is
// "application/vnd.globality.pubsub._.created.foo_bar".
func Created(resource string, opts ...MediaTypeOption) string {
	return MediaType(resource, LifecycleCreated, opts...)
}

// Changed returns the media type for a changed resource.
func Changed(resource string, opts ...MediaTypeOption) string {
	return MediaType(resource, LifecycleChanged, opts...)
}

// Deleted returns the media type for a deleted resource.
func Deleted(resource string, opts ...MediaTypeOption) string {
	return MediaType(resource, LifecycleDeleted, opts...)
}

// Lifecycle returns a helper like [Created] for a custom lifecycle word. Register the word with
// [Config] (pubsub_lifecycle_change.words) when messages of that lifecycle should get convention
// schemas and topic mappings.
func Lifecycle(word string) func(resource string, opts ...MediaTypeOption) string {
	return func(resource string, opts ...MediaTypeOption) string {
		return MediaType(resource, word, opts...)
	}
}

var (
	underscoreAcronym = regexp.MustCompile(`([A-Z]+)([A-Z][a-z])`)
	underscoreWord    = regexp.MustCompile(`([a-z\d])([A-Z])`)
)

// NameFor turns a resource name into its media-type form as the original's name_for (inflection's
// underscore): CamelCase becomes snake_case, "-" becomes "_", dots are kept ("FooBar.ThisThat" is
// "foo_bar.this_that").
func NameFor(resource string) string {
	s := underscoreAcronym.ReplaceAllString(resource, "${1}_${2}")
	s = underscoreWord.ReplaceAllString(s, "${1}_${2}")
	s = strings.ReplaceAll(s, "-", "_")
	return strings.ToLower(s)
}

// lifecycleSet is the set of lifecycle words; a media type "matches" if any of its dot-separated
// parts is one of them (the original's LifecycleChange.matches).
type lifecycleSet map[string]struct{}

func newLifecycleSet(extra []string) lifecycleSet {
	s := lifecycleSet{LifecycleCreated: {}, LifecycleChanged: {}, LifecycleDeleted: {}}
	for _, w := range extra {
		if w = strings.TrimSpace(strings.ToLower(w)); w != "" {
			s[w] = struct{}{}
		}
	}
	return s
}

// lifecycleOf returns the lifecycle word the media type carries, with the original's priority for
// convention schemas: deleted, then changed, then any other word.
func (s lifecycleSet) lifecycleOf(mediaType string) (string, bool) {
	parts := strings.Split(mediaType, ".")
	found := ""
	for _, p := range parts {
		if _, ok := s[p]; !ok {
			continue
		}
		switch {
		case p == LifecycleDeleted:
			return p, true
		case p == LifecycleChanged:
			found = p
		case found == "":
			found = p
		}
	}
	return found, found != ""
}
