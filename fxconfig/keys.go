package fxconfig

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"go.uber.org/fx"
	"go.uber.org/zap"
)

// KeyWarning is a configuration key that a source sets and nothing reads: a typo, or a key only
// the original Python library had (Replacement says what replaces it). See [Settings.KeyWarnings].
type KeyWarning struct {
	// Key is the dotted key ("sqs_consumer.sqs_queue_ur").
	Key string
	// Source is where it was set: "file <path>", "environment variable <NAME>", "values" or
	// "flags".
	Source string
	// Nearest is the known key nearest to Key ("sqs_consumer.sqs_queue_url"), for an unknown key;
	// NearestSource is how Source would spell it (the environment variable), when that differs.
	Nearest, NearestSource string
	// Replacement says what replaces a key only the original had (see [Settings.Retire]).
	Replacement string
}

func (w KeyWarning) String() string {
	if w.Replacement != "" {
		return fmt.Sprintf("config key %s (%s) is the original's and has no effect here: %s", w.Key, w.Source, w.Replacement)
	}
	msg := fmt.Sprintf("unknown config key %s (%s) is ignored", w.Key, w.Source)
	switch {
	case w.Nearest == "":
		return msg + "; nothing reads configuration"
	case w.NearestSource != "":
		return fmt.Sprintf("%s; nearest known key: %s (%s)", msg, w.Nearest, w.NearestSource)
	}
	return fmt.Sprintf("%s; nearest known key: %s", msg, w.Nearest)
}

// KeysError is the start-up error of strict configuration (strict_config, --strict-config): the
// keys that would otherwise only be warned about.
type KeysError struct {
	Warnings []KeyWarning
}

func (e *KeysError) Error() string {
	parts := make([]string, len(e.Warnings))
	for i, w := range e.Warnings {
		parts[i] = w.String()
	}
	return fmt.Sprintf("strict config: %d key(s) nothing reads: %s", len(e.Warnings), strings.Join(parts, "; "))
}

// keyBook records the keys each source sets and the keys components read, to find keys that
// nothing reads. Paths are joined with delim, so dots inside keys stay part of one key.
type keyBook struct {
	envPrefix string
	sources   []keySource // in load order

	mu      sync.Mutex
	known   map[string]bool   // paths read: fields of unmarshalled structs, sections
	open    map[string]bool   // paths below which every key is read: maps, Get
	retired map[string]string // path → what replaces it
}

type keySource struct {
	label string
	keys  []setKey
}

// setKey is a key a source sets: its path and, for the environment, the variable.
type setKey struct {
	path []string
	env  string
}

func newKeyBook(envPrefix string) *keyBook {
	return &keyBook{envPrefix: envPrefix, known: map[string]bool{}, open: map[string]bool{}, retired: map[string]string{}}
}

// add records the leaf keys of tree as set by the source labelled label.
func (b *keyBook) add(label string, tree map[string]any) {
	src := keySource{label: label}
	var walk func(m map[string]any, prefix []string)
	walk = func(m map[string]any, prefix []string) {
		names := make([]string, 0, len(m))
		for k := range m {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			p := append(slices.Clone(prefix), k)
			if sub, ok := m[k].(map[string]any); ok && len(sub) > 0 {
				walk(sub, p)
				continue
			}
			src.keys = append(src.keys, setKey{path: p})
		}
	}
	walk(tree, nil)
	b.sources = append(b.sources, src)
}

// addEnv records the environment's keys, each with its variable.
func (b *keyBook) addEnv(keys []setKey) {
	b.sources = append(b.sources, keySource{label: "environment", keys: keys})
}

// read records that section's struct fields (dotted keys) were read; below the open ones, any
// key is theirs.
func (b *keyBook) read(section string, fields, open []string) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if section != "" {
		b.known[keyPath(section)] = true
	}
	for _, k := range fields {
		b.known[keyPath(k)] = true
	}
	for _, k := range open {
		b.open[keyPath(k)] = true
	}
}

func (b *keyBook) readAll(key string) {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.open[keyPath(key)] = true
	b.mu.Unlock()
}

// Retire declares key (dotted; a section retires every key below it) as one only the original
// Python library read, with what replaces it here. A source that sets it gets one warning with
// that advice, instead of an "unknown key" warning. Loaders call it for the keys of their sections
// that the original had.
func (s *Settings) Retire(key, replacement string) {
	if s.keys == nil {
		return
	}
	s.keys.mu.Lock()
	s.keys.retired[keyPath(key)] = replacement
	s.keys.mu.Unlock()
}

// KeyWarnings returns the keys that files, values, the environment and flags set but nothing has
// read, in load order: a key is read when a component unmarshals its section with
// [Settings.Unmarshal] (every field of the struct counts, set or not, and any key below a map
// field) or gets it, or a parent, with [Settings.Get]. Call it once the app's components are
// built; [Module] logs them when the app starts, or fails start-up with a [*KeysError] when the
// metadata asks for strict configuration.
func (s *Settings) KeyWarnings() []KeyWarning {
	b := s.keys
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []KeyWarning
	for _, src := range b.sources {
		for _, k := range src.keys {
			p := strings.Join(k.path, delim)
			if b.isRead(p) {
				continue
			}
			w := KeyWarning{Key: dotted(p), Source: src.label}
			if k.env != "" {
				w.Source = "environment variable " + k.env
			}
			if adv, ok := b.retiredFor(p); ok {
				w.Replacement = adv
			} else if near := b.nearest(p); near != "" {
				w.Nearest = dotted(near)
				if k.env != "" {
					w.NearestSource = b.envPrefix + strings.ToUpper(strings.ReplaceAll(near, delim, "__"))
				}
			}
			out = append(out, w)
		}
	}
	return out
}

// CheckKeys returns a [*KeysError] listing [Settings.KeyWarnings] when the metadata asks for
// strict configuration and there are any; else nil.
func (s *Settings) CheckKeys() error {
	if !s.meta.StrictConfig {
		return nil
	}
	if ws := s.KeyWarnings(); len(ws) > 0 {
		return &KeysError{Warnings: ws}
	}
	return nil
}

func (b *keyBook) isRead(p string) bool {
	if b.known[p] {
		return true
	}
	for q := p; ; {
		if b.open[q] {
			return true
		}
		i := strings.LastIndex(q, delim)
		if i < 0 {
			return false
		}
		q = q[:i]
	}
}

// retiredFor returns the advice for p or its nearest retired parent.
func (b *keyBook) retiredFor(p string) (string, bool) {
	for q := p; ; {
		if adv, ok := b.retired[q]; ok {
			return adv, true
		}
		i := strings.LastIndex(q, delim)
		if i < 0 {
			return "", false
		}
		q = q[:i]
	}
}

// nearest returns the read key nearest to p by edit distance ("" when nothing was read).
func (b *keyBook) nearest(p string) string {
	best, bestD := "", -1
	for _, set := range []map[string]bool{b.known, b.open} {
		for c := range set {
			d := editDistance(p, c)
			if bestD < 0 || d < bestD || d == bestD && c < best {
				best, bestD = c, d
			}
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, by bytes.
func editDistance(a, b string) int {
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func dotted(p string) string { return strings.ReplaceAll(p, delim, ".") }

// checkKeysFx logs [Settings.KeyWarnings] when the app starts (every component is built and has
// read its configuration by then), or fails the start with a [*KeysError] under strict
// configuration.
func checkKeysFx(lc fx.Lifecycle, s *Settings, log *zap.Logger) {
	lc.Append(fx.StartHook(func(context.Context) error {
		if err := s.CheckKeys(); err != nil {
			return err
		}
		for _, w := range s.KeyWarnings() {
			log.Warn(w.String(), zap.String("key", w.Key), zap.String("source", w.Source))
		}
		return nil
	}))
}
