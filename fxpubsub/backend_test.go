package fxpubsub_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/microcosm-go/pubsub/fxconfig"
	"github.com/microcosm-go/pubsub/fxpubsub"
)

func TestBackendConstructors(t *testing.T) {
	ctx := context.Background()
	cfg := fxpubsub.DefaultConfig()
	cfg.Consumer.SQSQueueURL = "orders"
	mem, err := fxpubsub.NewMemoryBackend(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Memory.Close()
	if mem.Memory == nil || mem.Queue == "" {
		t.Fatalf("memory backend %+v", mem)
	}
	if _, err := mem.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(mem.Queue)}); err != nil {
		t.Errorf("the memory backend's queue %s: %v", mem.Queue, err)
	}
	cfg.Consumer.EndpointURL = "http://127.0.0.1:1"
	cfg.Producer.EndpointURL = "http://127.0.0.1:1"
	awsb, err := fxpubsub.NewAWSBackend(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if awsb.Memory != nil || awsb.Queue != "orders" || awsb.SNS == nil || awsb.SQS == nil {
		t.Errorf("AWS backend %+v", awsb)
	}
	chosen, err := fxpubsub.NewBackend(ctx, cfg, fxconfig.Metadata{Name: "app", Testing: true})
	if err != nil {
		t.Fatal(err)
	}
	defer chosen.Memory.Close()
	if chosen.Memory == nil {
		t.Error("NewBackend in testing mode did not choose the memory backend")
	}
	bad := fxpubsub.DefaultConfig()
	bad.Consumer.Limit = 99
	for name, build := range map[string]func(context.Context, fxpubsub.Config) (*fxpubsub.Backend, error){
		"NewMemoryBackend": fxpubsub.NewMemoryBackend, "NewAWSBackend": fxpubsub.NewAWSBackend,
	} {
		var fe *fxconfig.FieldError
		if _, err := build(ctx, bad); !errors.As(err, &fe) || fe.Key != "sqs_consumer.limit" {
			t.Errorf("%s with limit 99: %v, want a *fxconfig.FieldError for sqs_consumer.limit", name, err)
		}
	}
}
