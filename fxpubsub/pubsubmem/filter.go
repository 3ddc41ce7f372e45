package pubsubmem

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// filterPolicy is a parsed SNS subscription filter policy. Supported: exact strings, numbers, booleans
// and null; "prefix", "suffix", "equals-ignore-case", "anything-but" (value, list, or {"prefix"}),
// "numeric" ranges and "exists"; String.Array attributes; nested keys with FilterPolicyScope
// MessageBody. Not supported: "$or", "cidr", "wildcard".
type filterPolicy struct {
	body bool           // scope MessageBody (else MessageAttributes)
	root map[string]any // key -> []any conditions, or (body scope) nested map
}

func decodeJSON(s string) (any, error) {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, errors.New("trailing data")
	}
	return v, nil
}

func parseFilterPolicy(s string, body bool) (*filterPolicy, error) {
	v, err := decodeJSON(s)
	if err != nil {
		return nil, fmt.Errorf("failed to parse JSON: %v", err)
	}
	root, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("filter policy must be a JSON object")
	}
	if err := checkPolicyObject(root, body, 1); err != nil {
		return nil, err
	}
	return &filterPolicy{body: body, root: root}, nil
}

func checkPolicyObject(obj map[string]any, body bool, depth int) error {
	if len(obj) == 0 {
		return errors.New("empty filter policy object")
	}
	for key, v := range obj {
		if key == "$or" {
			return errors.New(`"$or" is not supported by the in-memory backend`)
		}
		switch v := v.(type) {
		case []any:
			if len(v) == 0 {
				return fmt.Errorf("empty arrays are not allowed (key %q)", key)
			}
			for _, c := range v {
				if err := checkCondition(c); err != nil {
					return fmt.Errorf("key %q: %v", key, err)
				}
			}
		case map[string]any:
			if !body {
				return fmt.Errorf("key %q: nested objects need FilterPolicyScope MessageBody", key)
			}
			if err := checkPolicyObject(v, body, depth+1); err != nil {
				return err
			}
		default:
			return fmt.Errorf("key %q: match value must be an array", key)
		}
	}
	return nil
}

func checkCondition(c any) error {
	obj, ok := c.(map[string]any)
	if !ok {
		return nil // string, number, bool, null
	}
	if len(obj) != 1 {
		return errors.New("an operator object must have exactly one key")
	}
	for op, arg := range obj {
		switch op {
		case "prefix", "suffix", "equals-ignore-case":
			if _, ok := arg.(string); !ok {
				return fmt.Errorf("%s needs a string", op)
			}
		case "exists":
			if _, ok := arg.(bool); !ok {
				return errors.New("exists needs true or false")
			}
		case "anything-but":
			switch a := arg.(type) {
			case string, json.Number:
			case []any:
				for _, x := range a {
					switch x.(type) {
					case string, json.Number:
					default:
						return errors.New("anything-but list must hold strings or numbers")
					}
				}
			case map[string]any:
				p, ok := a["prefix"].(string)
				if len(a) != 1 || !ok || p == "" {
					return errors.New(`anything-but object must be {"prefix": "..."}`)
				}
			default:
				return errors.New("invalid anything-but value")
			}
		case "numeric":
			a, ok := arg.([]any)
			if !ok || len(a) == 0 || len(a)%2 != 0 || len(a) > 4 {
				return errors.New("numeric needs [op, number] or [op, number, op, number]")
			}
			for i := 0; i < len(a); i += 2 {
				o, _ := a[i].(string)
				if _, ok := a[i+1].(json.Number); !ok || (o != "=" && o != "<" && o != "<=" && o != ">" && o != ">=") {
					return errors.New("numeric needs [op, number] or [op, number, op, number]")
				}
			}
		default:
			return fmt.Errorf("unsupported operator %q", op)
		}
	}
	return nil
}

// matchAttributes applies a MessageAttributes-scope policy.
func (f *filterPolicy) matchAttributes(attrs map[string]snstypes.MessageAttributeValue) bool {
	for key, conds := range f.root {
		a, present := attrs[key]
		var vals []any
		if present {
			dt := ""
			if a.DataType != nil {
				dt = *a.DataType
			}
			s := ""
			if a.StringValue != nil {
				s = *a.StringValue
			}
			switch {
			case dt == "String.Array":
				if arr, err := decodeJSON(s); err == nil {
					if list, ok := arr.([]any); ok {
						vals = list
						break
					}
				}
				vals = []any{s}
			case baseType(dt) == "String":
				vals = []any{s}
			case baseType(dt) == "Number":
				vals = []any{json.Number(s)}
			default: // Binary attributes are ignored by filter policies
				present = false
			}
		}
		if !matchConditions(conds.([]any), vals, present) {
			return false
		}
	}
	return true
}

// matchBody applies a MessageBody-scope policy to a message; a message that is not a JSON object
// never matches.
func (f *filterPolicy) matchBody(message string) bool {
	v, err := decodeJSON(message)
	if err != nil {
		return false
	}
	obj, ok := v.(map[string]any)
	return ok && matchObject(f.root, obj)
}

func matchObject(policy, obj map[string]any) bool {
	for key, p := range policy {
		v, present := obj[key]
		switch p := p.(type) {
		case map[string]any:
			nested, ok := v.(map[string]any)
			if !ok || !matchObject(p, nested) {
				return false
			}
		case []any:
			vals, isList := v.([]any)
			if !isList {
				vals = []any{v}
			}
			if !matchConditions(p, vals, present) {
				return false
			}
		}
	}
	return true
}

// matchConditions: any condition matching any value.
func matchConditions(conds []any, vals []any, present bool) bool {
	for _, c := range conds {
		if obj, ok := c.(map[string]any); ok {
			if e, ok := obj["exists"].(bool); ok {
				if e == present {
					return true
				}
				continue
			}
		}
		if !present {
			continue
		}
		for _, v := range vals {
			if matchOne(c, v) {
				return true
			}
		}
	}
	return false
}

func number(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}

func matchOne(c, v any) bool {
	switch c := c.(type) {
	case string:
		s, ok := v.(string)
		return ok && s == c
	case json.Number:
		a, ok1 := number(c)
		b, ok2 := number(v)
		return ok1 && ok2 && a == b
	case bool:
		b, ok := v.(bool)
		return ok && b == c
	case nil:
		return v == nil
	case map[string]any:
		for op, arg := range c {
			s, isString := v.(string)
			switch op {
			case "prefix":
				return isString && strings.HasPrefix(s, arg.(string))
			case "suffix":
				return isString && strings.HasSuffix(s, arg.(string))
			case "equals-ignore-case":
				return isString && strings.EqualFold(s, arg.(string))
			case "anything-but":
				switch a := arg.(type) {
				case []any:
					for _, x := range a {
						if matchOne(x, v) {
							return false
						}
					}
					return true
				case map[string]any:
					return isString && !strings.HasPrefix(s, a["prefix"].(string))
				default:
					return !matchOne(a, v)
				}
			case "numeric":
				x, ok := number(v)
				if !ok {
					return false
				}
				a := arg.([]any)
				for i := 0; i < len(a); i += 2 {
					y, _ := number(a[i+1])
					var pass bool
					switch a[i].(string) {
					case "=":
						pass = x == y
					case "<":
						pass = x < y
					case "<=":
						pass = x <= y
					case ">":
						pass = x > y
					case ">=":
						pass = x >= y
					}
					if !pass {
						return false
					}
				}
				return true
			}
		}
	}
	return false
}
