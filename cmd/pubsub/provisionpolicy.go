package main

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// policySid is the Sid of the statement provision adds for a topic.
func policySid(topic string) string { return "topic-" + topic }

// topicStatement lets the SNS topic send to the queue.
func topicStatement(topic, queueARN, topicARN string) json.RawMessage {
	b, _ := json.Marshal(map[string]any{
		"Sid": policySid(topic), "Effect": "Allow", "Principal": map[string]string{"Service": "sns.amazonaws.com"},
		"Action": "sqs:SendMessage", "Resource": queueARN,
		"Condition": map[string]any{"ArnEquals": map[string]string{"aws:SourceArn": topicARN}},
	})
	return b
}

// policyStatements returns the statements of an access policy (its Statement is a list or a single
// object); nil for "" or a policy that is not JSON.
func policyStatements(policy string) []json.RawMessage {
	var doc struct {
		Statement json.RawMessage `json:"Statement"`
	}
	if policy == "" || json.Unmarshal([]byte(policy), &doc) != nil {
		return nil
	}
	st := bytes.TrimSpace(doc.Statement)
	if len(st) > 0 && st[0] == '{' {
		return []json.RawMessage{st}
	}
	var list []json.RawMessage
	_ = json.Unmarshal(st, &list)
	return list
}

// statement is what provision reads of a policy statement.
type statement struct {
	Sid       string                    `json:"Sid"`
	Effect    string                    `json:"Effect"`
	Condition map[string]map[string]any `json:"Condition"`
	Action    any                       `json:"Action"`
}

// grantsTopic reports whether the policy has an Allow statement conditioned on the topic's ARN as
// aws:SourceArn (as provision writes it, or as the console does).
func grantsTopic(policy, topicARN string) bool {
	for _, raw := range policyStatements(policy) {
		var st statement
		if json.Unmarshal(raw, &st) != nil || st.Effect != "Allow" {
			continue
		}
		for _, cond := range st.Condition {
			for k, v := range cond {
				if k != "aws:SourceArn" && k != "aws:sourcearn" {
					continue
				}
				switch v := v.(type) {
				case string:
					if v == topicARN {
						return true
					}
				case []any:
					for _, x := range v {
						if x == topicARN {
							return true
						}
					}
				}
			}
		}
	}
	return false
}

// mergePolicy adds stmt to the access policy: a statement with the same Sid is replaced, every
// other statement and every other top-level key is kept as it was.
func mergePolicy(policy string, stmt json.RawMessage) (string, error) {
	doc := map[string]json.RawMessage{}
	if policy != "" {
		if err := json.Unmarshal([]byte(policy), &doc); err != nil {
			return "", fmt.Errorf("the existing access policy is not a JSON object: %w", err)
		}
	}
	var sid struct {
		Sid string `json:"Sid"`
	}
	_ = json.Unmarshal(stmt, &sid)
	var kept []json.RawMessage
	for _, raw := range policyStatements(policy) {
		var other struct {
			Sid string `json:"Sid"`
		}
		if json.Unmarshal(raw, &other) == nil && other.Sid != "" && other.Sid == sid.Sid {
			continue
		}
		kept = append(kept, raw)
	}
	statements, err := json.Marshal(append(kept, stmt))
	if err != nil {
		return "", err
	}
	doc["Statement"] = statements
	if _, ok := doc["Version"]; !ok {
		doc["Version"] = json.RawMessage(`"2012-10-17"`)
	}
	out, err := json.Marshal(doc)
	return string(out), err
}
