package pubsubmem

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// queueConfig is a queue's settable attributes, parsed.
type queueConfig struct {
	visibility   int32 // seconds
	delay        int32
	wait         int32
	retention    int32
	maxSize      int32
	contentDedup bool
	redrive      *redrivePolicy
	stored       map[string]string // attributes kept verbatim (Policy, KMS, ...)
}

// redrivePolicy is a parsed RedrivePolicy attribute.
type redrivePolicy struct {
	raw             string
	deadLetterARN   string
	maxReceiveCount int32
}

func defaultQueueConfig() queueConfig {
	return queueConfig{visibility: 30, retention: 345600, maxSize: defaultMaxSize}
}

// storedAttributes are accepted and returned unchanged; they have no effect here.
var storedAttributes = map[string]bool{
	"Policy": true, "KmsMasterKeyId": true, "KmsDataKeyReusePeriodSeconds": true, "SqsManagedSseEnabled": true,
	"DeduplicationScope": true, "FifoThroughputLimit": true, "RedriveAllowPolicy": true,
}

func intAttr(name, v string, lo, hi int64) (int32, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
	if err != nil || n < lo || n > hi {
		return 0, &sqstypes.InvalidAttributeValue{Message: aws.String("Invalid value for the parameter " + name + ".")}
	}
	return int32(n), nil
}

func boolAttr(name, v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, &sqstypes.InvalidAttributeValue{Message: aws.String("Invalid value for the parameter " + name + ".")}
}

func parseRedrive(v string) (*redrivePolicy, error) {
	if v == "" {
		return nil, nil
	}
	bad := &sqstypes.InvalidAttributeValue{Message: aws.String("Value " + v + " for parameter RedrivePolicy is invalid. Reason: Redrive policy is not a valid JSON map with deadLetterTargetArn and maxReceiveCount.")}
	var raw struct {
		DeadLetterTargetArn string          `json:"deadLetterTargetArn"`
		MaxReceiveCount     json.RawMessage `json:"maxReceiveCount"`
	}
	if err := json.Unmarshal([]byte(v), &raw); err != nil || raw.DeadLetterTargetArn == "" || len(raw.MaxReceiveCount) == 0 {
		return nil, bad
	}
	s := strings.Trim(string(raw.MaxReceiveCount), `"`)
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil || n < 1 || n > 1000 {
		return nil, bad
	}
	if !strings.HasPrefix(raw.DeadLetterTargetArn, "arn:aws:sqs:") {
		return nil, bad
	}
	return &redrivePolicy{raw: v, deadLetterARN: raw.DeadLetterTargetArn, maxReceiveCount: int32(n)}, nil
}

// apply validates attrs and applies them to c. fifo is the queue's type; creating reports whether this
// is CreateQueue (FifoQueue may only be given then).
func (c *queueConfig) apply(attrs map[string]string, fifo, creating bool) error {
	for name, v := range attrs {
		var err error
		switch name {
		case "VisibilityTimeout":
			c.visibility, err = intAttr(name, v, 0, maxVisibility)
		case "DelaySeconds":
			c.delay, err = intAttr(name, v, 0, maxDelay)
		case "ReceiveMessageWaitTimeSeconds":
			c.wait, err = intAttr(name, v, 0, maxWait)
		case "MessageRetentionPeriod":
			c.retention, err = intAttr(name, v, 60, 1209600)
		case "MaximumMessageSize":
			c.maxSize, err = intAttr(name, v, 1024, maxMaxSize)
		case "RedrivePolicy":
			c.redrive, err = parseRedrive(v)
		case "ContentBasedDeduplication":
			if !fifo {
				return &sqstypes.InvalidAttributeName{Message: aws.String("Unknown Attribute ContentBasedDeduplication.")}
			}
			c.contentDedup, err = boolAttr(name, v)
		case "FifoQueue":
			if !creating {
				return &sqstypes.InvalidAttributeName{Message: aws.String("Unknown Attribute FifoQueue.")}
			}
			var f bool
			if f, err = boolAttr(name, v); err == nil && f != fifo {
				err = &sqstypes.InvalidAttributeValue{Message: aws.String("The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.")}
			}
		default:
			if !storedAttributes[name] {
				return &sqstypes.InvalidAttributeName{Message: aws.String("Unknown Attribute " + name + ".")}
			}
			if c.stored == nil {
				c.stored = map[string]string{}
			}
			if v == "" {
				delete(c.stored, name)
			} else {
				c.stored[name] = v
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// clone returns a copy that shares no map with c.
func (c *queueConfig) clone() queueConfig {
	n := *c
	n.stored = nil
	if len(c.stored) > 0 {
		n.stored = make(map[string]string, len(c.stored))
		for k, v := range c.stored {
			n.stored[k] = v
		}
	}
	return n
}

// get renders attribute name as GetQueueAttributes returns it; ok is false if it has no value.
func (c *queueConfig) get(name string, fifo bool) (string, bool) {
	itoa := func(n int32) string { return strconv.FormatInt(int64(n), 10) }
	switch name {
	case "VisibilityTimeout":
		return itoa(c.visibility), true
	case "DelaySeconds":
		return itoa(c.delay), true
	case "ReceiveMessageWaitTimeSeconds":
		return itoa(c.wait), true
	case "MessageRetentionPeriod":
		return itoa(c.retention), true
	case "MaximumMessageSize":
		return itoa(c.maxSize), true
	case "RedrivePolicy":
		if c.redrive == nil {
			return "", false
		}
		return `{"deadLetterTargetArn":"` + c.redrive.deadLetterARN + `","maxReceiveCount":` + itoa(c.redrive.maxReceiveCount) + `}`, true
	case "FifoQueue":
		return "true", fifo
	case "ContentBasedDeduplication":
		return strconv.FormatBool(c.contentDedup), fifo
	case "SqsManagedSseEnabled":
		if v, ok := c.stored[name]; ok {
			return v, true
		}
		return "false", true
	}
	v, ok := c.stored[name]
	return v, ok
}

// sameAs reports whether applying attrs to c would change nothing (CreateQueue idempotency).
func (c *queueConfig) sameAs(attrs map[string]string, fifo bool) bool {
	probe := c.clone()
	if err := probe.apply(attrs, fifo, true); err != nil {
		return false
	}
	for name := range attrs {
		a, aok := c.get(name, fifo)
		p, pok := probe.get(name, fifo)
		if a != p || aok != pok {
			return false
		}
	}
	return true
}

// queueAttributeNames lists what GetQueueAttributes(All) returns, in order.
var queueAttributeNames = []string{
	"QueueArn", "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
	"ApproximateNumberOfMessagesDelayed", "CreatedTimestamp", "LastModifiedTimestamp",
	"VisibilityTimeout", "MaximumMessageSize", "MessageRetentionPeriod", "DelaySeconds",
	"ReceiveMessageWaitTimeSeconds", "RedrivePolicy", "FifoQueue", "ContentBasedDeduplication",
	"SqsManagedSseEnabled", "Policy", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds",
	"DeduplicationScope", "FifoThroughputLimit", "RedriveAllowPolicy",
}
