package fxpubsub

import (
	"slices"
	"testing"

	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// A receive asks only for the system attributes the library reads: ApproximateReceiveCount
// always, MessageGroupId on FIFO queues, SentTimestamp when the options ask for it.
func TestReceiveAttributes(t *testing.T) {
	const (
		count = sqstypes.MessageSystemAttributeNameApproximateReceiveCount
		group = sqstypes.MessageSystemAttributeNameMessageGroupId
		sent  = sqstypes.MessageSystemAttributeNameSentTimestamp
	)
	for _, tt := range []struct {
		url  string
		sent bool
		want []sqstypes.MessageSystemAttributeName
	}{
		{url: "http://q/1/orders", want: []sqstypes.MessageSystemAttributeName{count}},
		{url: "http://q/1/orders.fifo", want: []sqstypes.MessageSystemAttributeName{count, group}},
		{url: "http://q/1/orders", sent: true, want: []sqstypes.MessageSystemAttributeName{count, sent}},
		{url: "http://q/1/orders.fifo", sent: true, want: []sqstypes.MessageSystemAttributeName{count, group, sent}},
	} {
		c := &Consumer{opts: ConsumerOptions{SentTimestamp: tt.sent}}
		if got := c.receiveAttributes(tt.url); !slices.Equal(got, tt.want) {
			t.Errorf("%s (SentTimestamp %v): asks for %v, want %v", tt.url, tt.sent, got, tt.want)
		}
	}
}
