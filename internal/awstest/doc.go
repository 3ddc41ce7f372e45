// Package awstest gives integration tests real SNS/SQS targets to run against: the in-memory
// backend (package pubsubmem) and the two loopback emulators the project's scripts start, fauxqs
// and moto_server.
//
// Run tests through scripts/test.sh: it starts both emulators on free 127.0.0.1 ports and exports
// PUBSUB_FAUXQS_ENDPOINT and PUBSUB_MOTO_ENDPOINT. Without those variables, Fauxqs and Moto skip
// the test locally and fail it when CI is set, so CI can never pass by skipping.
//
// A test typically loops over All, runs a subtest per target and builds its own resources with
// Target.Pipeline (topic → subscription → queue → DLQ, uniquely named, deleted in t.Cleanup) or
// Target.Queue:
//
//	for _, tg := range awstest.All(t) {
//		t.Run(tg.Name, func(t *testing.T) {
//			p := tg.Pipeline(t, awstest.PipelineOptions{Raw: true, VisibilityTimeout: 2})
//			_, err := tg.SNS.Publish(ctx, &sns.PublishInput{TopicArn: &p.TopicARN, Message: aws.String("hi")})
//			...
//		})
//	}
//
// Each Moto target uses its own random 12-digit account (the test-only x-moto-account-id header),
// so tests sharing one moto_server never see each other's resources. fauxqs has no accounts and no
// reset, so isolation there comes from the random names alone.
//
// Where an emulator differs from AWS, Target.Caps says so; tests branch on it instead of on the
// target's name. The quirks are documented in shared/reference/emulators.md (fauxqs) and
// shared/reference/moto.md (moto).
//
// Only loopback endpoints are accepted: a target whose endpoint is not on 127.0.0.0/8, ::1 or
// localhost fails the test.
package awstest
