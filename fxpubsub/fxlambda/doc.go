// Package fxlambda runs the pub/sub engine as an AWS Lambda function with an SQS event source:
// [Main] is the Lambda counterpart of fxpubsub.Main, and [Handler] the engine's entry for
// github.com/aws/aws-lambda-go's events.SQSEvent, answering with a partial batch response
// (events.SQSEventResponse). The records go through the same decoder and dispatcher as the
// daemon's messages; see [Handler.Invoke] for which records are reported as failures.
package fxlambda
