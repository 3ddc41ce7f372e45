package fxpubsub

import "testing"

func TestARNs(t *testing.T) {
	arn := joinARN("sns", "eu-west-1", "123456789012", "orders")
	if arn != "arn:aws:sns:eu-west-1:123456789012:orders" {
		t.Errorf("joinARN = %q", arn)
	}
	if r, a, n, ok := splitARN(arn); !ok || r != "eu-west-1" || a != "123456789012" || n != "orders" {
		t.Errorf("splitARN(%q) = %q, %q, %q, %v", arn, r, a, n, ok)
	}
	if _, _, _, ok := splitARN("orders"); ok {
		t.Error("splitARN accepts a bare name")
	}
	for s, want := range map[string]bool{
		arn: true,
		"arn:aws:sqs:eu-west-1:123456789012:orders": false,
		"arn:aws:sns::123456789012:orders":          false,
		"orders":                                    false,
	} {
		if isSNSTopicARN(s) != want {
			t.Errorf("isSNSTopicARN(%q) = %v", s, !want)
		}
	}
	for name, want := range map[string]bool{
		"https://sqs.us-east-1.amazonaws.com/1/orders.fifo": true,
		"https://sqs.us-east-1.amazonaws.com/1/orders":      false,
		"https://sqs.us-east-1.amazonaws.com/1/fifo-orders": false,
		"arn:aws:sns:us-east-1:1:orders.fifo":               true,
	} {
		if isFIFO(name) != want {
			t.Errorf("isFIFO(%q) = %v", name, !want)
		}
	}
}
