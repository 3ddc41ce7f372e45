package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/microcosm-go/pubsub/internal/awstest"
)

// cliTarget is an emulator as the command sees it: clients in the account the command uses
// (moto's default one), and the flags that point the command at it.
type cliTarget struct {
	name   string
	sns    *sns.Client
	sqs    *sqs.Client
	common []string
}

// cliTargets returns fauxqs and moto.
func cliTargets(t *testing.T) []cliTarget {
	t.Helper()
	emulator(t) // the environment: dummy credentials, no AWS_ENDPOINT_URL or profile
	var out []cliTarget
	for _, tg := range []awstest.Target{awstest.Fauxqs(t), awstest.Moto(t)} {
		out = append(out, cliTarget{name: tg.Name, sns: awstest.NewSNSClient(tg.Endpoint, ""), sqs: awstest.NewSQSClient(tg.Endpoint, ""),
			common: []string{"--endpoint-url", tg.Endpoint, "--region", awstest.Region}})
	}
	return out
}

func (c cliTarget) createQueue(t *testing.T, name string, attrs map[string]string) (url, arn string) {
	t.Helper()
	ctx := context.Background()
	out, err := c.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	url = aws.ToString(out.QueueUrl)
	t.Cleanup(func() {
		_, _ = c.sqs.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: aws.String(url)})
	})
	return url, c.attrs(t, url)["QueueArn"]
}

func (c cliTarget) attrs(t *testing.T, url string) map[string]string {
	t.Helper()
	out, err := c.sqs.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Attributes
}

func (c cliTarget) topicExists(t *testing.T, name string) bool {
	t.Helper()
	arn, err := findTopic(context.Background(), c.sns, name)
	if err != nil {
		t.Fatal(err)
	}
	return arn != ""
}

// TestProvisionNeverClobbers is the scenario of issue 14: an existing queue with VisibilityTimeout
// 300, a RedrivePolicy to its own DLQ after 20 receives, and an access policy granting another
// topic. provision leaves all of it alone and exits 1 listing the differences; --dry-run changes
// nothing; --update merges the access policy and keeps the rest.
func TestProvisionNeverClobbers(t *testing.T) {
	for _, c := range cliTargets(t) {
		t.Run(c.name, func(t *testing.T) {
			topic, queue := awstest.UniqueName("clobber"), awstest.UniqueName("clobber-q")
			_, oldDLQARN := c.createQueue(t, queue+"-old-dlq", nil)
			otherGrant := `{"Version":"2012-10-17","Statement":[{"Sid":"other-topic","Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},` +
				`"Action":"sqs:SendMessage","Resource":"*","Condition":{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:123456789012:other"}}}]}`
			redrive := `{"deadLetterTargetArn":"` + oldDLQARN + `","maxReceiveCount":"20"}`
			url, _ := c.createQueue(t, queue, map[string]string{"VisibilityTimeout": "300", "RedrivePolicy": redrive})
			if _, err := c.sqs.SetQueueAttributes(context.Background(), &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url), Attributes: map[string]string{"Policy": otherGrant}}); err != nil {
				t.Fatal(err)
			}
			before := c.attrs(t, url)
			unchanged := func(when string) {
				t.Helper()
				after := c.attrs(t, url)
				for _, k := range []string{"VisibilityTimeout", "RedrivePolicy", "Policy"} {
					if after[k] != before[k] {
						t.Fatalf("%s: %s changed from %s to %s", when, k, before[k], after[k])
					}
				}
				if c.topicExists(t, topic) {
					t.Fatalf("%s: the topic was created", when)
				}
				if u, _, _ := lookupQueue(context.Background(), c.sqs, queue+"-dlq"); u != "" {
					t.Fatalf("%s: a new dead-letter queue was created", when)
				}
			}
			args := with(c.common, "provision", "--topic", topic, "--queue", queue)

			r := pubsub(t, args...)
			if r.code != exitFailure || !strings.Contains(r.stderr, "differs  queue "+queue+" Policy") || !strings.Contains(r.stderr, "pass --update") {
				t.Fatalf("provision on an existing queue: exit %d\n%s", r.code, r.stderr)
			}
			unchanged("without --update")

			// Asking for other settings lists them as differences too.
			r = pubsub(t, append(args, "--visibility-timeout", "30", "--max-receive-count", "5")...)
			for _, want := range []string{"VisibilityTimeout:\n    - 300\n    + 30", "RedrivePolicy:", "after 20 receives", "after 5 receives"} {
				if r.code != exitFailure || !strings.Contains(r.stderr, want) {
					t.Fatalf("exit %d, want %q in\n%s", r.code, want, r.stderr)
				}
			}
			unchanged("with other settings")

			r = pubsub(t, append(args, "--dry-run", "--update")...)
			if r.code != exitOK || !strings.Contains(r.stdout, "create   topic "+topic) || !strings.Contains(r.stdout, "update   queue "+queue+" Policy") {
				t.Fatalf("--dry-run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			unchanged("--dry-run")

			r = must(t, append(args, "--update", "--json")...)
			var p provisioned
			if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
				t.Fatal(err, r.stdout)
			}
			t.Cleanup(func() {
				_, _ = c.sns.DeleteTopic(context.Background(), &sns.DeleteTopicInput{TopicArn: aws.String(p.TopicARN)})
			})
			after := c.attrs(t, url)
			if after["VisibilityTimeout"] != "300" || parseRedrivePolicy(after["RedrivePolicy"]) != (redrivePolicy{oldDLQARN, "20"}) || p.DLQARN != oldDLQARN {
				t.Fatalf("--update changed what it was not asked to: %v, dlq %s", after, p.DLQARN)
			}
			if !grantsTopic(after["Policy"], "arn:aws:sns:us-east-1:123456789012:other") || !grantsTopic(after["Policy"], p.TopicARN) ||
				len(policyStatements(after["Policy"])) != 2 {
				t.Fatalf("merged policy %s", after["Policy"])
			}
			if !strings.Contains(r.stderr, "+ statement topic-"+topic) {
				t.Fatalf("--update did not print the policy diff:\n%s", r.stderr)
			}

			// Now everything is there: provision changes nothing and succeeds.
			r = must(t, args...)
			if !strings.Contains(r.stderr, "nothing to change") {
				t.Fatalf("second run:\n%s", r.stderr)
			}
		})
	}
}

func TestMergePolicy(t *testing.T) {
	other := `{"Version":"2008-10-17","Id":"x","Statement":{"Sid":"keep","Effect":"Allow","Action":"sqs:*"}}`
	ours := topicStatement("t", "arn:q", "arn:aws:sns:us-east-1:1:t")
	merged, err := mergePolicy(other, ours)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(merged), &doc); err != nil || doc["Version"] != "2008-10-17" || doc["Id"] != "x" {
		t.Fatalf("top-level keys not kept: %s", merged)
	}
	if st := policyStatements(merged); len(st) != 2 || !strings.Contains(string(st[0]), `"keep"`) || !grantsTopic(merged, "arn:aws:sns:us-east-1:1:t") {
		t.Fatalf("merged %s", merged)
	}
	// Merging again replaces our statement rather than adding a second one.
	again, _ := mergePolicy(merged, ours)
	if n := len(policyStatements(again)); n != 2 {
		t.Fatalf("%d statements after merging twice", n)
	}
	if _, err := mergePolicy("not json", ours); err == nil {
		t.Fatal("a broken policy was overwritten")
	}
}
