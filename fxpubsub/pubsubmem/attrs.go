package pubsubmem

import (
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// msgAttr is one stored SQS message attribute. Stored attributes are never mutated; received
// messages point into them.
type msgAttr struct {
	name, dataType, str string
	bin                 []byte
	binary              bool
}

// msgAttrs is a message's attributes, sorted by name.
type msgAttrs []msgAttr

// sortByName sorts a few attributes (insertion sort; at most 10).
func (a msgAttrs) sortByName() {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j].name < a[j-1].name; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// toSDK builds the SDK's map of the attributes keep accepts (all if keep is nil); nil if none.
func (a msgAttrs) toSDK(keep func(string) bool) (map[string]sqstypes.MessageAttributeValue, int) {
	var out map[string]sqstypes.MessageAttributeValue
	for i := range a {
		x := &a[i]
		if keep != nil && !keep(x.name) {
			continue
		}
		if out == nil {
			out = make(map[string]sqstypes.MessageAttributeValue, len(a))
		}
		v := sqstypes.MessageAttributeValue{DataType: &x.dataType}
		if x.binary {
			v.BinaryValue = x.bin
		} else {
			v.StringValue = &x.str
		}
		out[x.name] = v
	}
	return out, len(out)
}
