package fxpubsub

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
)

// URIMessage is the convention schema for lifecycle media types that are neither changed nor
// deleted (created.*, and custom lifecycle words): the message is a reference to a resource.
type URIMessage struct {
	URI string `json:"uri" validate:"required"`
}

// ChangedURIMessage is the convention schema for changed.* media types. FieldName and NewValue let a
// consumer detect that it fetched a stale resource.
type ChangedURIMessage struct {
	URI       string `json:"uri" validate:"required"`
	FieldName string `json:"field_name,omitempty"`
	NewValue  string `json:"new_value,omitempty"`
}

// IdentityMessage is the convention schema for deleted.* media types: no URI remains, so it carries
// the id of the deleted resource.
type IdentityMessage struct {
	ID string `json:"id" validate:"required"`
}

// Schema binds a media type to the Go type its messages decode into. The type's `json` tags give
// the wire names and its `validate` tags (go-playground/validator) the rules, playing the role of a
// marshmallow schema. A media type ending in ".*" is a wildcard schema: it matches any media type
// whose last dot-separated segment differs (application/vnd.x.wild.* matches application/vnd.x.wild.foo,
// not application/vnd.x.wild.foo.bar).
type Schema struct {
	mediaType string
	typ       reflect.Type
}

// SchemaFor returns the schema binding mediaType to T. T is usually a struct; a map type accepts
// any JSON object without validation.
func SchemaFor[T any](mediaType string) Schema {
	return Schema{mediaType: mediaType, typ: reflect.TypeFor[T]()}
}

// MediaType returns the media type (possibly a wildcard) the schema is registered for.
func (s Schema) MediaType() string { return s.mediaType }

// Type returns the Go type messages decode into (as a pointer to it).
func (s Schema) Type() reflect.Type { return s.typ }

// DuplicateSchemaError reports two different types registered for one media type.
type DuplicateSchemaError struct {
	MediaType string
	Existing  reflect.Type
	Added     reflect.Type
}

func (e *DuplicateSchemaError) Error() string {
	return fmt.Sprintf("media type %q has two schemas: %v and %v", e.MediaType, e.Existing, e.Added)
}

// RegistryConfig is the section pubsub_message_schema_registry.
type RegistryConfig struct {
	// AutoRegister gives lifecycle media types without a registered schema their convention schema
	// (deleted → IdentityMessage, changed → ChangedURIMessage, other lifecycle words → URIMessage).
	// Default true.
	AutoRegister bool `koanf:"auto_register"`
	// LifecycleWords adds lifecycle words to created/changed/deleted (the original's
	// pubsub_lifecycle_change set). Default none.
	LifecycleWords []string `koanf:"lifecycle_words"`
}

// DefaultRegistryConfig returns the documented defaults.
func DefaultRegistryConfig() RegistryConfig { return RegistryConfig{AutoRegister: true} }

// SchemaRegistry finds the schema for a media type: an exact registration first, then a wildcard
// registration (last segment replaced by "*"), then, when auto-registration is on, the convention
// schema of its lifecycle word. It encodes and decodes messages (see [SchemaRegistry.Encode] and
// [SchemaRegistry.Decode]). It is safe for concurrent use.
type SchemaRegistry struct {
	exact      map[string]*Schema
	lifecycles lifecycleSet
	auto       bool
	validator  *contentValidator
	conv       sync.Map // media type → *Schema, convention schemas resolved so far
}

// NewSchemaRegistry builds a registry from schemas; registering the same type twice for a media
// type is allowed, two different types are a *DuplicateSchemaError.
func NewSchemaRegistry(cfg RegistryConfig, schemas ...Schema) (*SchemaRegistry, error) {
	r := &SchemaRegistry{
		exact:      make(map[string]*Schema, len(schemas)+1),
		lifecycles: newLifecycleSet(cfg.LifecycleWords),
		auto:       cfg.AutoRegister,
		validator:  newContentValidator(),
	}
	for _, s := range append(builtinSchemas(), schemas...) {
		if err := r.add(s); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func (r *SchemaRegistry) add(s Schema) error {
	if s.mediaType == "" || s.typ == nil {
		return fmt.Errorf("schema needs a media type and a type, got %q, %v", s.mediaType, s.typ)
	}
	if old, ok := r.exact[s.mediaType]; ok {
		if old.typ != s.typ {
			return &DuplicateSchemaError{MediaType: s.mediaType, Existing: old.typ, Added: s.typ}
		}
		return nil
	}
	r.exact[s.mediaType] = &s
	return nil
}

// Find returns the schema for mediaType, or an *UnknownMediaTypeError.
func (r *SchemaRegistry) Find(mediaType string) (*Schema, error) {
	if s, ok := r.exact[mediaType]; ok {
		return s, nil
	}
	if i := strings.LastIndexByte(mediaType, '.'); i >= 0 {
		if s, ok := r.exact[mediaType[:i+1]+"*"]; ok {
			return s, nil
		}
	}
	if r.auto {
		if s, ok := r.conv.Load(mediaType); ok {
			return s.(*Schema), nil
		}
		if word, ok := r.lifecycles.lifecycleOf(mediaType); ok {
			s := conventionSchema(mediaType, word)
			r.conv.Store(mediaType, s)
			return s, nil
		}
	}
	return nil, &UnknownMediaTypeError{MediaType: mediaType}
}

// MediaTypes lists the media types registered explicitly (wildcards included), unsorted.
func (r *SchemaRegistry) MediaTypes() []string {
	out := make([]string, 0, len(r.exact))
	for mt := range r.exact {
		out = append(out, mt)
	}
	return out
}

func conventionSchema(mediaType, lifecycle string) *Schema {
	switch lifecycle {
	case LifecycleDeleted:
		return &Schema{mediaType: mediaType, typ: reflect.TypeFor[IdentityMessage]()}
	case LifecycleChanged:
		return &Schema{mediaType: mediaType, typ: reflect.TypeFor[ChangedURIMessage]()}
	default:
		return &Schema{mediaType: mediaType, typ: reflect.TypeFor[URIMessage]()}
	}
}
