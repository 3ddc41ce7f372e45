package fxpubsub_test

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/microcosm-go/pubsub/fxpubsub"
)

// An SQS client built by hand, rather than from fxpubsub.LoadAWSConfig, gets the SDK/net/http
// race workaround through its API options.
func ExampleHideBodyWriterTo() {
	client := sqs.NewFromConfig(aws.Config{Region: "us-east-1"}, func(o *sqs.Options) {
		o.APIOptions = append(o.APIOptions, fxpubsub.HideBodyWriterTo)
	})
	_ = client
}
