package fxpubsub

import (
	"fmt"
	"strings"
)

// The names of AWS resources: ARNs, and the ".fifo" suffix of FIFO topics and queues.

// splitARN splits arn:aws:<service>:<region>:<account>:<name>.
func splitARN(arn string) (region, account, name string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return "", "", "", false
	}
	return parts[3], parts[4], parts[5], true
}

// joinARN builds arn:aws:<service>:<region>:<account>:<name>.
func joinARN(service, region, account, name string) string {
	return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, region, account, name)
}

// isSNSTopicARN accepts arn:<partition>:sns:<region>:<account>:<topic> with no part empty.
func isSNSTopicARN(s string) bool {
	parts := strings.Split(strings.TrimSpace(s), ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sns" {
		return false
	}
	for _, p := range parts {
		if p == "" {
			return false
		}
	}
	return true
}

// isFIFO reports whether a topic ARN or a queue URL names a FIFO topic or queue (SNS and SQS
// require FIFO names to end in ".fifo").
func isFIFO(name string) bool { return strings.HasSuffix(name, ".fifo") }
