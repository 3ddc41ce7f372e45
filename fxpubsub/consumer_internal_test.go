package fxpubsub

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// A received message's Record keeps the large-payload size attributes and nothing else: the other
// attributes (which fauxqs sends unasked) are never read, so no map is built for them.
func TestSizeAttributes(t *testing.T) {
	str := func(v string) sqstypes.MessageAttributeValue {
		return sqstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	if got := sizeAttributes(map[string]sqstypes.MessageAttributeValue{MediaTypeAttribute: str("x")}); got != nil {
		t.Errorf("only other attributes: got %v, want nil", got)
	}
	if got := sizeAttributes(nil); got != nil {
		t.Errorf("none: got %v, want nil", got)
	}
	got := sizeAttributes(map[string]sqstypes.MessageAttributeValue{
		MediaTypeAttribute: str("x"), ExtendedPayloadSizeAttribute: str("300000"), LegacyPayloadSizeAttribute: str("299999"),
		"binary": {DataType: aws.String("Binary"), BinaryValue: []byte{1}},
	})
	if len(got) != 2 || got[ExtendedPayloadSizeAttribute] != "300000" || got[LegacyPayloadSizeAttribute] != "299999" {
		t.Errorf("got %v, want both size attributes only", got)
	}
}
