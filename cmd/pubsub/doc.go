// Command pubsub is the command-line companion of fxpubsub, in the style of the original
// microcosm-pubsub's pubsub and publish-naive tools, plus the provisioning and inspection every
// SNS/SQS user otherwise scripts by hand.
//
// # Usage
//
//	pubsub COMMAND [flags]
//
//	write      publish one message to an SNS topic and print its SNS message id
//	read       receive one batch of messages from an SQS queue, print them, then ack (or nack) them
//	naive      print a flat JSON message line for a daemon's --stdin replay
//	provision  create what is missing of a topic, a queue with a dead-letter queue, and the subscription
//	depth      show how many messages a queue and its dead-letter queue hold
//	redrive    move messages from a queue's dead-letter queue back to the queue
//	purge      delete every message in an SQS queue
//
// Commands that change or move data ask before they do so against an endpoint that is not
// loopback (--yes skips the question); provision never changes an existing resource without
// --update.
//
// Every command has --help. Exit status: 0 on success, 1 when the command fails (one line on
// stderr says why), 2 for a bad command line.
//
// # Against the emulator
//
// scripts/emulator-up.sh starts fauxqs and writes its endpoint to .emulator/fauxqs.endpoint.
// The SDK's AWS_ENDPOINT_URL (or --endpoint-url on any command) points every command at it:
//
//	scripts/emulator-up.sh
//	export AWS_ENDPOINT_URL=$(cat .emulator/fauxqs.endpoint) AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
//	go run ./cmd/pubsub provision --topic orders --filter-media-type order
//	go run ./cmd/pubsub write --topic-arn arn:aws:sns:us-east-1:000000000000:orders --media-type order --uri https://orders.example/1
//	go run ./cmd/pubsub read --queue-url orders --wait 5
//	go run ./cmd/pubsub depth --queue-url orders
//	go run ./cmd/pubsub redrive --queue-url orders
//	go run ./cmd/pubsub naive --action created --resource-name order --uri https://orders.example/1
//
// # Configuration
//
// The commands read the same configuration as a daemon named "pubsub": config files (--config,
// or $PUBSUB__SETTINGS), environment variables PUBSUB__<SECTION>__<KEY> and --set key=value, so
// sqs_consumer.sqs_queue_url, sns_topic_arns, sns_producer/sqs_consumer endpoint_url, region_name
// and profile_name, and opaque apply when the flags don't say otherwise. provision prints the
// lines that set the first two.
//
// # Dead-letter redrive
//
// redrive moves messages on the client side (receive from the DLQ, send to the source queue,
// delete from the DLQ) rather than with SQS's StartMessageMoveTask, which neither fauxqs nor moto
// implements; see pubsub redrive --help for its guarantees.
package main
