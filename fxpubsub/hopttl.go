package fxpubsub

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// DefaultInitialTTL is the hop TTL a message without one starts from (sqs_message_context.initial_ttl).
const DefaultInitialTTL = 32

// InvalidTTLError reports an x-request-ttl value that is not an integer. The dispatcher makes such
// a message FAILED (so backoff takes it to the dead-letter queue) instead of letting it start
// again at the initial TTL; [OverrideOpaqueData] returns it from Produce.
type InvalidTTLError struct {
	Key   string          // the opaque key, x-request-ttl
	Value json.RawMessage // the value's exact JSON text, e.g. "seven", "", null, 1.5, true
}

func (e *InvalidTTLError) Error() string {
	return fmt.Sprintf("invalid hop ttl: opaque %q is %s, want an integer or a string holding one", e.Key, e.Value)
}

// parseTTL reads a hop TTL as the original's int() does for what JSON can carry: a string holding
// a decimal integer (surrounding white space allowed) or an integral number (7, 7.0, 7e0).
// Fractions, booleans, null and everything else are errors; the original would truncate 1.5 and
// true to 1, which silently resets nothing but hides a broken sender.
func parseTTL(v any) (int, error) {
	bad := func() (int, error) {
		raw, err := opaqueJSON(v)
		if err != nil {
			raw = json.RawMessage(strconv.Quote(fmt.Sprint(v)))
		}
		return 0, &InvalidTTLError{Key: OpaqueTTL, Value: raw}
	}
	switch x := v.(type) {
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		if err != nil {
			return bad()
		}
		return n, nil
	case json.RawMessage:
		s := string(x)
		if s == "" || !(s[0] == '-' || s[0] >= '0' && s[0] <= '9') {
			return bad() // null, true, false, objects, arrays
		}
		if n, err := strconv.Atoi(s); err == nil {
			return n, nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f != math.Trunc(f) || math.Abs(f) > math.MaxInt32 {
			return bad()
		}
		return int(f), nil
	case int:
		return x, nil
	}
	return bad()
}

// clampOverride applies override to opaque (whose keys are lower case and whose ambient entries
// are already merged), except that its x-request-ttl may only lower the hop TTL: it is capped at
// the ambient TTL, or at [DefaultInitialTTL] when there is none. An override TTL that does not
// parse is an *InvalidTTLError; one that cannot be compared with an unparsable ambient TTL is
// dropped (the ambient value stays).
func clampOverride(opaque, override Opaque) error {
	for _, k := range foldOrder(override) {
		lk := lowerKey(k)
		if lk != OpaqueTTL {
			opaque[lk] = override[k]
			continue
		}
		want, err := parseTTL(override[k])
		if err != nil {
			return err
		}
		limit := DefaultInitialTTL
		if amb, ok := opaque[OpaqueTTL]; ok {
			if limit, err = parseTTL(amb); err != nil {
				continue
			}
		}
		opaque[OpaqueTTL] = strconv.Itoa(min(want, limit))
	}
	return nil
}
