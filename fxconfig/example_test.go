package fxconfig_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/microcosm-go/pubsub/fxconfig"
)

func ExampleSettings_Unmarshal() {
	type ConsumerConfig struct {
		QueueURL    string        `koanf:"sqs_queue_url" validate:"required"`
		WaitSeconds int           `koanf:"wait_seconds" validate:"min=0,max=20"`
		Timeout     time.Duration `koanf:"timeout"`
		Tags        []string      `koanf:"tags"`
	}
	s, err := fxconfig.Load(fxconfig.Input{
		Name:    "example",
		Args:    []string{"--set", "sqs_consumer.sqs_queue_url=https://sqs.example/q"},
		Environ: []string{"EXAMPLE__SQS_CONSUMER__TIMEOUT=30", "EXAMPLE__SQS_CONSUMER__TAGS=a,b"},
	})
	if err != nil {
		panic(err)
	}

	cfg := ConsumerConfig{WaitSeconds: 1, Timeout: time.Minute} // defaults
	if err := s.Unmarshal("sqs_consumer", &cfg); err != nil {
		panic(err)
	}
	fmt.Println(cfg.QueueURL, cfg.WaitSeconds, cfg.Timeout, cfg.Tags)

	s, _ = fxconfig.Load(fxconfig.Input{Name: "example", Environ: []string{"EXAMPLE__SQS_CONSUMER__WAIT_SECONDS=99"}})
	cfg = ConsumerConfig{}
	err = s.Unmarshal("sqs_consumer", &cfg)
	fmt.Println(err)
	var fe *fxconfig.FieldError
	if errors.As(err, &fe) {
		fmt.Println(fe.Key)
	}
	// Output:
	// https://sqs.example/q 1 30s [a b]
	// sqs_consumer.sqs_queue_url: is required
	// sqs_consumer.wait_seconds: must be between 0 and 20, got "99"
	// sqs_consumer.sqs_queue_url
}
