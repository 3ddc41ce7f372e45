package fxpubsub_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/fxpubsub/pubsubmem"
)

// A payload store without fx: pass it to both the producer and the consumer (README "Large
// messages"). Here over the in-memory S3; with AWS, use fxpubsub.NewS3Client.
func ExampleNewPayloadStore() {
	ctx := context.Background()
	mem := pubsubmem.New()
	defer mem.Close()
	if _, err := mem.S3().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("my-payloads")}); err != nil {
		panic(err)
	}

	store, err := fxpubsub.NewPayloadStore(mem.S3(), fxpubsub.PayloadStoreOptions{
		Bucket:    "my-payloads",
		KeyPrefix: "orders/",
	})
	if err != nil {
		panic(err)
	}
	producerOpts := fxpubsub.ProducerOptions{LargePayloads: store}
	consumerOpts := fxpubsub.ConsumerOptions{LargePayloads: store}
	_, _ = producerOpts, consumerOpts

	p, err := store.Upload(ctx, []byte(`{"mediaType":"application/vnd.globality.pubsub._.created.blob","uri":"u"}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Bucket, len(p.Body()) > 0)
	// Output: my-payloads true
}
