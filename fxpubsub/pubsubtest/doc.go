// Package pubsubtest helps applications test their fxpubsub handlers and producers with fxtest on
// the in-memory SNS/SQS backend: no AWS, no emulator, no mocks. It is the Go form of the original
// microcosm-pubsub's test matchers (published, published_inanyorder, published_nothing,
// has_media_type, has_uri).
//
// # Usage
//
// [New] builds and starts an app from [Options], the test's own modules and the consumer daemon,
// and stops it when the test ends. [App.Handle] publishes a message and returns once the app's
// consumer has handled it; whatever the handler published is recorded by then:
//
//	func TestOrderHandler(t *testing.T) {
//		app := pubsubtest.New(t, "orders", nil, orders.Module)
//		h := app.Handle(t.Context(), orders.CreatedMT, orders.Created{URI: "https://orders/1", Items: 2})
//		if h.Result.Type != fxpubsub.Succeeded {
//			t.Fatal(h)
//		}
//		pubsubtest.AssertPublished(t, app.Recorder,
//			pubsubtest.HasMediaType(orders.CreatedMT),
//			pubsubtest.All(pubsubtest.HasMediaType(orders.ShipmentMT), pubsubtest.HasURI("https://orders/1/shipment")),
//		)
//	}
//
// With fxtest directly, [Options] provides the *[Recorder] and *[Results]:
//
//	var (
//		producer *fxpubsub.Producer
//		rec      *pubsubtest.Recorder
//		results  *pubsubtest.Results
//	)
//	app := fxtest.New(t, pubsubtest.Options("orders", nil), orders.Module, fxpubsub.RunConsumer(),
//		fx.Populate(&producer, &rec, &results))
//	app.RequireStart()
//	defer app.RequireStop()
//	producer.Produce(ctx, orders.CreatedMT, orders.Created{...})
//	results.Wait(t, 2, 5*time.Second) // the order and the shipment its handler published
//	pubsubtest.AssertPublishedInAnyOrder(t, rec, ...)
//
// Leave out [fxpubsub.RunConsumer] to test a producer-only app: the recorder still records.
//
// # Configuration
//
// [Options] runs the app in testing mode ([fxconfig.ForTesting]: the process environment is ignored)
// with the values given, so topic mappings (sns_topic_arns) and any other setting can be tested.
// The in-memory backend creates every configured topic and subscribes the queue to all of them;
// with no topics configured everything goes to one default topic. sqs_consumer.wait_seconds is
// [TestWaitSeconds] unless the values set it.
//
// # Recording
//
// The *[Recorder] wraps the backend's SNS client, so it sees exactly what went over the wire from
// Produce, ProduceBatch and Deferred: each successfully published message becomes a [Published]
// with its topic, media type, SNS message id, body, parsed content, opaque data and message
// attributes, in publish order. Failed publishes and failed batch entries are not recorded. The
// messages are still delivered to the in-memory queue. [Recorder.Wrap] and [Recorder.WrapBackend]
// do the same without fx.
//
// # Assertions
//
// [AssertPublished] (exactly these, in order), [AssertPublishedInAnyOrder] and
// [AssertNothingPublished] report failures with t.Errorf, listing what was wanted and everything
// that was published, and return whether they passed. Messages are described by a [Matcher]:
// [HasMediaType], [HasURI], [HasField], [HasContent], [HasOpaque], [HasOpaqueValue], [HasTopic],
// combined with [All], or [MatchFunc] for anything else. Assertions look at what is recorded at
// the time of the call: after a handler runs, wait first.
//
// # Waiting
//
// Handlers run on the consumer daemon's goroutines. The *[Results] collector is a result hook
// ([fxpubsub.AsResultHook]) that records every handled message with its [fxpubsub.Result] as a
// [Handled]. [Results.Wait], [Results.WaitFor], [Results.WaitForMessage], [Recorder.Wait] and
// [Recorder.WaitFor] block on a channel until enough has happened, and fail the test with t.Fatalf
// after their timeout; [Results.Await] and [Recorder.Await] take a context and return an error
// instead, for code without a testing.TB. Nothing here sleeps.
//
// A message whose handler fails is FAILED and made visible again after the backoff (5 s by
// default), so it is handled again: each handling is its own [Handled].
//
// # Overriding
//
// The recorder is installed by an fx.Decorate inside the module [Options] returns, so an app may
// still decorate *fxpubsub.Backend at its root. [Options] includes [fxpubsub.Module], which
// includes fxconfig.Module: don't add either again.
package pubsubtest
