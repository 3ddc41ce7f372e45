package pubsubmem

import (
	"strconv"
	"strings"
	"unicode/utf8"

	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

const (
	maxAttributes    = 10
	maxBatchEntries  = 10
	defaultMaxSize   = 262144
	maxMaxSize       = 1048576
	maxVisibility    = 43200
	maxDelay         = 900
	maxWait          = 20
	maxBatchIDLength = 80
)

// validBody reports whether s contains only the characters SQS accepts:
// #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF.
func validBody(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return false
		}
		if (r >= 0xD800 && r <= 0xDFFF) || r == 0xFFFE || r == 0xFFFF {
			return false
		}
		i += n
	}
	return true
}

// validAttrName applies SQS/SNS message attribute naming rules.
func validAttrName(name string) bool {
	if name == "" || len(name) > 256 || name[0] == '.' || name[len(name)-1] == '.' || strings.Contains(name, "..") {
		return false
	}
	if len(name) >= 4 && strings.EqualFold(name[:4], "aws.") || len(name) >= 7 && strings.EqualFold(name[:7], "amazon.") {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// baseType returns "String", "Number" or "Binary" for a DataType (which may carry a custom suffix,
// "Number.float"), or "" if it is none of them.
func baseType(dt string) string {
	base, _, _ := strings.Cut(dt, ".")
	switch base {
	case "String", "Number", "Binary":
		return base
	}
	return ""
}

func validNumber(s string) bool {
	if s == "" {
		return false
	}
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// copySQSAttributes validates SQS message attributes and returns a copy sorted by name, and their size
// in bytes (names, data types and values, as SQS counts them toward the message size).
func copySQSAttributes(in map[string]sqstypes.MessageAttributeValue) (msgAttrs, int, error) {
	if len(in) == 0 {
		return nil, 0, nil
	}
	if len(in) > maxAttributes {
		return nil, 0, invalidValue("Number of message attributes [%d] exceeds the allowed maximum [%d].", len(in), maxAttributes)
	}
	out := make(msgAttrs, 0, len(in))
	size := 0
	for name, v := range in {
		if !validAttrName(name) {
			return nil, 0, invalidValue("Message attribute name '%s' is invalid.", name)
		}
		if v.DataType == nil || *v.DataType == "" {
			return nil, 0, invalidValue("The message attribute '%s' must contain a non-empty attribute type.", name)
		}
		dt := *v.DataType
		a := msgAttr{name: name, dataType: dt}
		switch baseType(dt) {
		case "String", "Number":
			if v.StringValue == nil {
				return nil, 0, invalidValue("The message attribute '%s' with type '%s' must use field 'String'.", name, dt)
			}
			if baseType(dt) == "Number" && !validNumber(*v.StringValue) {
				return nil, 0, invalidValue("Can't cast the value of message (user) attribute '%s' to a number.", name)
			}
			if !validBody(*v.StringValue) {
				return nil, 0, invalidValue("The message attribute '%s' contains invalid characters.", name)
			}
			a.str = *v.StringValue
			size += len(a.str)
		case "Binary":
			if v.BinaryValue == nil {
				return nil, 0, invalidValue("The message attribute '%s' with type 'Binary' must use field 'Binary'.", name)
			}
			a.bin, a.binary = append([]byte{}, v.BinaryValue...), true
			size += len(a.bin)
		default:
			return nil, 0, invalidValue("The type of message (user) attribute '%s' is invalid. You must use only the following supported type prefixes: Binary, Number, String.", name)
		}
		size += len(name) + len(dt)
		out = append(out, a)
	}
	out.sortByName()
	return out, size, nil
}

// validBatchID checks a batch entry Id: up to 80 characters from [A-Za-z0-9_-].
func validBatchID(id string) bool {
	if id == "" || len(id) > maxBatchIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// validName checks an SQS queue or SNS topic name: letters, digits, '-' and '_', optionally ending in
// ".fifo", at most max characters in all.
func validName(name string, max int) bool {
	base := strings.TrimSuffix(name, ".fifo")
	if base == "" || len(name) > max {
		return false
	}
	for i := 0; i < len(base); i++ {
		c := base[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
