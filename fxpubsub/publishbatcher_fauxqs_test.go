package fxpubsub_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/internal/awstest"
)

// countingSNS passes every call to the real client and counts Publish and PublishBatch calls.
type countingSNS struct {
	fxpubsub.SNSClient
	publish, batches, entries atomic.Int64
}

func (c *countingSNS) Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error) {
	c.publish.Add(1)
	return c.SNSClient.Publish(ctx, in, optFns...)
}

func (c *countingSNS) PublishBatch(ctx context.Context, in *sns.PublishBatchInput, optFns ...func(*sns.Options)) (*sns.PublishBatchOutput, error) {
	c.batches.Add(1)
	c.entries.Add(int64(len(in.PublishBatchRequestEntries)))
	return c.SNSClient.PublishBatch(ctx, in, optFns...)
}

var batchedFollowUpMT = fxpubsub.Created("BatchedFollowUp")

// TestHandlerFollowUpsShareBatches: a daemon with 64 workers whose handler produces one follow-up
// per message (through the producer a service would inject) gets natural batching: the follow-ups
// share PublishBatch requests on fauxqs, every one arrives once, and each Produce got its own id.
func TestHandlerFollowUpsShareBatches(t *testing.T) {
	tg := awstest.Fauxqs(t)
	tg.Require(t)
	const n = 2000
	in := tg.Pipeline(t, awstest.PipelineOptions{Prefix: "nb-in", Raw: true})
	out := tg.Pipeline(t, awstest.PipelineOptions{Prefix: "nb-out", Raw: true})
	reg, err := fxpubsub.NewSchemaRegistry(fxpubsub.DefaultRegistryConfig(),
		fxpubsub.SchemaFor[orderCreated](orderMT), fxpubsub.SchemaFor[orderCreated](batchedFollowUpMT))
	if err != nil {
		t.Fatal(err)
	}
	topics, err := fxpubsub.NewTopicMap(map[string]any{"mappings": map[string]any{orderMT: in.TopicARN, batchedFollowUpMT: out.TopicARN}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	loader := fxpubsub.NewProducer(tg.SNS, reg, topics, fxpubsub.ProducerOptions{})
	batch := make([]fxpubsub.Outgoing, n)
	for i := range batch {
		id := strconv.Itoa(i)
		batch[i] = fxpubsub.Outgoing{MediaType: orderMT, Content: orderCreated{URI: "https://orders/" + id, OrderID: id}}
	}
	if _, err := loader.ProduceBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}

	counted := &countingSNS{SNSClient: tg.SNS}
	producer := fxpubsub.NewProducer(counted, reg, topics, fxpubsub.ProducerOptions{})
	var (
		mu  sync.Mutex
		ids = map[string]bool{}
	)
	regn, err := fxpubsub.NewRegistration[orderCreated](orderMT, fxpubsub.HandlerFunc[orderCreated](func(ctx context.Context, o *orderCreated) error {
		id, err := producer.Produce(ctx, batchedFollowUpMT, orderCreated{URI: o.URI, OrderID: o.OrderID})
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		if ids[id] {
			return fmt.Errorf("message id %s returned twice", id)
		}
		ids[id] = true
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	handlers, err := fxpubsub.NewHandlerRegistry(regn)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := fxpubsub.NewConsumer(tg.SQS, reg, in.QueueURL, fxpubsub.ConsumerOptions{Wait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	d := fxpubsub.NewDaemon(cons, fxpubsub.NewDispatcher(handlers, fxpubsub.DispatcherOptions{}), fxpubsub.DaemonOptions{Concurrency: 64})
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := d.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	}()
	arrived := map[string]int{}
	for len(arrived) < n && ctx.Err() == nil {
		r, err := tg.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(out.QueueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		var del []sqstypes.DeleteMessageBatchRequestEntry
		for i, m := range r.Messages {
			var o orderCreated
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &o); err != nil || o.OrderID == "" {
				t.Fatalf("body %s: %v", aws.ToString(m.Body), err)
			}
			arrived[o.OrderID]++
			del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
		}
		if len(del) > 0 {
			if _, err := tg.SQS.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(out.QueueURL), Entries: del}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range n {
		if c := arrived[strconv.Itoa(i)]; c != 1 {
			t.Errorf("follow-up %d arrived %d times", i, c)
		}
	}
	mu.Lock()
	distinct := len(ids)
	mu.Unlock()
	publish, batches, entries := counted.publish.Load(), counted.batches.Load(), counted.entries.Load()
	calls := float64(publish+batches) / n
	t.Logf("%d follow-ups: %d Publish + %d PublishBatch (%.1f entries each) = %.3f SNS calls per message; stats %+v",
		n, publish, batches, float64(entries)/float64(max(batches, 1)), calls, d.Stats())
	if distinct != n || publish+entries != n {
		t.Errorf("%d distinct message ids, %d messages sent; want %d", distinct, publish+entries, n)
	}
	// 64 concurrent callers fill batches of 10 whenever 10 wait; 0.25 leaves room for a busy machine
	// while failing clearly without batching (1 call per message).
	if calls > 0.25 {
		t.Errorf("%.3f SNS calls per message from 64 workers, want <= 0.25", calls)
	}
}
