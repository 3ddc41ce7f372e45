// Package pubsubmem is an in-memory SNS and SQS: topics, SQS subscriptions with raw or envelope
// delivery and filter policies, standard and FIFO queues with visibility timeouts, delays, receive
// counts, redrive to a dead-letter queue and long polling. It serves --testing, fast unit tests and
// the demo that runs with no AWS at all.
//
// Backend.SNS and Backend.SQS return clients whose methods have exactly the signatures of
// *sns.Client and *sqs.Client, so code written against those (for example the fxpubsub.SNSClient
// and fxpubsub.SQSClient interfaces) runs unchanged. Errors are what the SDK returns: a
// *smithy.OperationError wrapping the service's typed error (*sqstypes.QueueDoesNotExist,
// *sqstypes.ReceiptHandleIsInvalid, *snstypes.NotFoundException, ...) or, where the SDK has no type,
// a *smithy.GenericAPIError with the AWS code (InvalidParameterValue, MissingParameter, ...).
//
// # What it models
//
//   - SNS: CreateTopic (FIFO with FifoTopic=true and a ".fifo" name), DeleteTopic, Get/SetTopicAttributes,
//     ListTopics, Subscribe (protocol "sqs" only; endpoint = queue ARN), Unsubscribe,
//     Get/SetSubscriptionAttributes (RawMessageDelivery, FilterPolicy, FilterPolicyScope),
//     ListSubscriptionsByTopic, Publish and PublishBatch (MessageAttributes, Subject, MessageStructure
//     "json", MessageGroupId, MessageDeduplicationId). Delivery is synchronous: when Publish returns,
//     the message is in every matching subscribed queue. The envelope is byte-for-byte the shape real
//     SNS and fauxqs send (key order, millisecond UTC Timestamp, SignatureVersion "1", Signature
//     "EXAMPLE", Binary attributes base64); SNS message ids are random UUIDs.
//   - SQS: CreateQueue (idempotent; *sqstypes.QueueNameExists on different attributes), GetQueueUrl,
//     Get/SetQueueAttributes, DeleteQueue, PurgeQueue, ListQueues, SendMessage(Batch),
//     ReceiveMessage, DeleteMessage(Batch), ChangeMessageVisibility(Batch). MD5OfMessageBody,
//     MD5OfBody and MD5OfMessageAttributes are computed with AWS's algorithms, so the SDK's checks
//     would pass. FIFO queues keep order within a message group, lock a group while any of its
//     messages is in flight, and deduplicate for five minutes (explicit id or SHA-256 of the body).
//   - Time: visibility timeouts and delays are real (or follow WithClock); nothing runs in the
//     background. State advances lazily on each call, and a long poll sleeps on the queue's
//     notification channel plus one timer for the queue's next visibility or delay expiry.
//
// # Differences from AWS (deliberate)
//
//   - Queue URLs are http://sqs.<region>.memory.localhost/<account>/<name>, so they can never reach
//     AWS. Only URLs the backend issued are accepted.
//   - A long poll that ends because its context is done (or the backend closed) has taken nothing;
//     on AWS and the emulators an abandoned poll can swallow a message until its visibility timeout.
//   - A message is moved to the dead-letter queue at receive time, when it has already been received
//     maxReceiveCount times. It keeps its MessageId, body, attributes, SentTimestamp and group; its
//     receive count starts again at 0, and DeadLetterQueueSourceArn is set.
//   - Receipt handles are exact: only the latest receive's handle deletes or changes visibility. As
//     on AWS, deleting with an older handle succeeds without deleting, and deleting an already
//     deleted message succeeds; a handle the queue never issued is *sqstypes.ReceiptHandleIsInvalid.
//   - Within a standard queue, messages are received in send order (AWS gives no order).
//   - ApproximateNumberOf* counts are exact.
//   - Strings and byte slices in received messages share the backend's immutable storage: read
//     them, do not write through the pointers.
//
// # Not modelled
//
// Message retention (MessageRetentionPeriod is stored, messages never expire), the 60-second
// PurgeQueue cooldown, permissions and policies (stored, never enforced), KMS, tags, message move
// tasks, SNS protocols other than sqs, SNS delivery retries and subscription DLQs, filter policy
// "$or", "cidr" and "wildcard", and per-account quotas. A queue deleted while subscribed silently
// drops deliveries. With WithClock, a poller waiting on a long poll notices a clock moved forward
// only when its own timer fires; tests that drive the clock should receive without waiting.
package pubsubmem
