package fxconfig

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/knadh/koanf/maps"
	"github.com/knadh/koanf/parsers/json"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"
)

// delim separates key path elements inside koanf. It is a control character
// so that dots inside keys (media types such as "application/vnd.x.y") stay
// part of one key. Public keys use "." and are translated by keyPath.
const delim = "\x1f"

// Metadata describes the running application. It comes from the top-level
// keys name, debug and testing after all sources are merged.
type Metadata struct {
	// Name is the application name ([Input.Name] unless a source sets "name").
	Name string
	// Debug asks for human-readable logs (--debug).
	Debug bool
	// Testing asks for in-memory backends instead of AWS (--testing).
	Testing bool
	// StrictConfig turns the warnings about keys that nothing reads into a start-up error
	// (key strict_config, --strict-config; see [Settings.KeyWarnings]).
	StrictConfig bool
}

// Settings is the merged configuration tree. It is safe for concurrent use.
type Settings struct {
	ko   *koanf.Koanf
	meta Metadata
	keys *keyBook
}

// Load merges the sources described by in, later wins: config files, then
// in.Values, then environment variables, then flags. Typed defaults are the
// caller's: they are the pre-filled fields handed to [Settings.Unmarshal].
func Load(in Input) (*Settings, error) {
	if strings.TrimSpace(in.Name) == "" {
		return nil, errors.New("load config: name is required")
	}
	in.Files = slices.Clone(in.Files)
	in.Flags = cloneMap(in.Flags)
	if err := parseArgs(&in); err != nil {
		return nil, err
	}
	environ := in.Environ
	if environ == nil {
		environ = os.Environ()
	}
	prefix := envPrefix(in.Name)

	files := in.Files
	if len(files) == 0 {
		if path := lookupEnv(environ, prefix+"SETTINGS"); path != "" {
			files = []string{path}
		}
	}

	ko := koanf.New(delim)
	if err := loadMap(ko, map[string]any{"name": in.Name}); err != nil {
		return nil, err
	}
	keys := newKeyBook(prefix)
	for _, path := range files {
		fk := koanf.New(delim)
		if err := loadFile(fk, path); err != nil {
			return nil, err
		}
		keys.add("file "+path, fk.Raw())
		if err := ko.Merge(fk); err != nil {
			return nil, fmt.Errorf("merge config file %q: %w", path, err)
		}
	}
	values, flags := expand(in.Values), expand(in.Flags)
	env, envKeys := envTree(environ, prefix)
	keys.add("values", values)
	keys.addEnv(envKeys)
	keys.add("flags", flags)
	for _, tree := range []map[string]any{values, env, flags} {
		if err := loadMap(ko, tree); err != nil {
			return nil, err
		}
	}

	s := &Settings{ko: ko, keys: keys}
	meta := struct {
		Name         string `koanf:"name"`
		Debug        bool   `koanf:"debug"`
		Testing      bool   `koanf:"testing"`
		StrictConfig bool   `koanf:"strict_config"`
	}{Name: in.Name}
	if err := s.Unmarshal("", &meta); err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	s.meta = Metadata(meta)
	return s, nil
}

// Metadata returns the application metadata.
func (s *Settings) Metadata() Metadata { return s.meta }

// Get returns the raw value at the dotted key, nested maps as
// map[string]any, or nil if absent. "" returns the whole tree. The result is
// a copy. The key and every key below it count as read (see
// [Settings.KeyWarnings]).
func (s *Settings) Get(key string) any {
	if key == "" {
		return s.ko.Raw()
	}
	s.keys.readAll(key)
	return s.ko.Get(keyPath(key))
}

// Exists reports whether the dotted key is set by any source.
func (s *Settings) Exists(key string) bool {
	if key == "" {
		return true
	}
	return s.ko.Exists(keyPath(key))
}

func keyPath(key string) string { return strings.ReplaceAll(key, ".", delim) }

func loadMap(ko *koanf.Koanf, tree map[string]any) error {
	if err := ko.Load(confmap.Provider(tree, ""), nil); err != nil {
		return fmt.Errorf("merge config: %w", err)
	}
	return nil
}

func loadFile(ko *koanf.Koanf, path string) error {
	var parser koanf.Parser
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		parser = json.Parser()
	case ".yaml", ".yml":
		parser = yaml.Parser()
	default:
		return fmt.Errorf("load config file %q: unsupported extension (want .json, .yaml or .yml)", path)
	}
	if err := ko.Load(file.Provider(path), parser); err != nil {
		return fmt.Errorf("load config file %q: %w", path, err)
	}
	return nil
}

// envPrefix is NAME__ with NAME upper-cased and "-" turned into "_".
func envPrefix(name string) string {
	return strings.ToUpper(strings.ReplaceAll(name, "-", "_")) + "__"
}

func lookupEnv(environ []string, key string) string {
	var value string
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			value = v
		}
	}
	return value
}

// envTree turns PREFIX__A__B=v into {"a": {"b": "v"}}. Each "__" part is one
// path element, lower-cased; values stay strings. PREFIX__SETTINGS and
// variables with empty parts are skipped. Variables are applied sorted by
// path, then by name (so of PREFIX__A and PREFIX__a, the latter wins), and the
// result does not depend on the order of environ. keys lists each variable
// applied, in that order.
func envTree(environ []string, prefix string) (tree map[string]any, keys []setKey) {
	type pair struct {
		name  string
		parts []string
		value string
	}
	var pairs []pair
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, prefix) {
			continue
		}
		rest := k[len(prefix):]
		if rest == "SETTINGS" {
			continue
		}
		parts := strings.Split(strings.ToLower(rest), "__")
		if slices.Contains(parts, "") {
			continue
		}
		pairs = append(pairs, pair{k, parts, v})
	}
	sort.SliceStable(pairs, func(i, j int) bool {
		pi, pj := strings.Join(pairs[i].parts, delim), strings.Join(pairs[j].parts, delim)
		if pi != pj {
			return pi < pj
		}
		return pairs[i].name < pairs[j].name
	})
	tree = make(map[string]any)
	for _, p := range pairs {
		setPath(tree, p.parts, p.value)
		keys = append(keys, setKey{path: p.parts, env: p.name})
	}
	return tree, keys
}

// expand turns a map whose top-level keys may be dotted paths into a nested
// tree, normalising nested maps to map[string]any. Keys are applied sorted,
// so {"a": {...}, "a.b": v} sets b inside a.
func expand(m map[string]any) map[string]any {
	tree := make(map[string]any)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		setPath(tree, strings.Split(k, "."), normalize(m[k]))
	}
	return tree
}

// setPath sets tree[p0][p1]... = v, replacing non-map intermediates and
// merging v into an existing map when both are maps.
func setPath(tree map[string]any, path []string, v any) {
	for _, p := range path[:len(path)-1] {
		next, ok := tree[p].(map[string]any)
		if !ok {
			next = make(map[string]any)
			tree[p] = next
		}
		tree = next
	}
	last := path[len(path)-1]
	if src, ok := v.(map[string]any); ok {
		if dst, ok := tree[last].(map[string]any); ok {
			maps.Merge(src, dst)
			return
		}
	}
	tree[last] = v
}

// normalize converts maps of any string-like key to map[string]any,
// recursively, so they merge key by key.
func normalize(v any) any {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || rv.Kind() != reflect.Map {
		return v
	}
	out := make(map[string]any, rv.Len())
	iter := rv.MapRange()
	for iter.Next() {
		out[fmt.Sprint(iter.Key().Interface())] = normalize(iter.Value().Interface())
	}
	return out
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
