package fxpubsub

import (
	"context"
	"errors"
	"fmt"
	"github.com/microcosm-go/pubsub/internal/awstest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/microcosm-go/pubsub/fxpubsub/pubsubmem"
)

// gatedSNS is the in-memory SNS with a gate: while closed, Publish and PublishBatch wait (after
// counting) until it opens, so a test can hold a request in flight. Every call reaches the real
// in-memory backend.
type gatedSNS struct {
	*pubsubmem.SNS
	mu       sync.Mutex
	open     chan struct{} // closed: calls pass
	publish  int
	batches  []int // entries per PublishBatch, in call order
	inflight int
}

func newGatedSNS(s *pubsubmem.SNS) *gatedSNS {
	g := &gatedSNS{SNS: s, open: make(chan struct{})}
	close(g.open)
	return g
}

func (g *gatedSNS) hold() {
	g.mu.Lock()
	g.open = make(chan struct{})
	g.mu.Unlock()
}

func (g *gatedSNS) release() {
	g.mu.Lock()
	close(g.open)
	g.mu.Unlock()
}

func (g *gatedSNS) enter(entries int) chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	if entries == 0 {
		g.publish++
	} else {
		g.batches = append(g.batches, entries)
	}
	g.inflight++
	return g.open
}

func (g *gatedSNS) leave() {
	g.mu.Lock()
	g.inflight--
	g.mu.Unlock()
}

func (g *gatedSNS) Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error) {
	<-g.enter(0)
	defer g.leave()
	return g.SNS.Publish(ctx, in, optFns...)
}

func (g *gatedSNS) PublishBatch(ctx context.Context, in *sns.PublishBatchInput, optFns ...func(*sns.Options)) (*sns.PublishBatchOutput, error) {
	<-g.enter(len(in.PublishBatchRequestEntries))
	defer g.leave()
	return g.SNS.PublishBatch(ctx, in, optFns...)
}

// calls returns the Publish calls, the entries of each PublishBatch and the calls in flight.
func (g *gatedSNS) calls() (int, []int, int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.publish, append([]int(nil), g.batches...), g.inflight
}

// batchRig is a producer on the in-memory backend whose topic delivers to a queue.
type batchRig struct {
	mem      *pubsubmem.Backend
	sns      *gatedSNS
	producer *Producer
	topic    string
	queueURL string
}

func newBatchRig(t *testing.T, fifo bool, opts ProducerOptions) *batchRig {
	t.Helper()
	mem := pubsubmem.New()
	t.Cleanup(mem.Close)
	ctx := context.Background()
	name, qattrs := "orders", map[string]string{}
	tattrs := map[string]string{}
	if fifo {
		name = "orders.fifo"
		qattrs["FifoQueue"] = "true"
		tattrs["FifoTopic"] = "true"
	}
	topic, err := mem.SNS().CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name), Attributes: tattrs})
	if err != nil {
		t.Fatal(err)
	}
	q, err := mem.SQS().CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: qattrs})
	if err != nil {
		t.Fatal(err)
	}
	qa, err := mem.SQS().GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mem.SNS().Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
		Endpoint: aws.String(qa.Attributes["QueueArn"]), Attributes: map[string]string{"RawMessageDelivery": "true"}}); err != nil {
		t.Fatal(err)
	}
	topics, err := NewTopicMap(map[string]any{"default": aws.ToString(topic.TopicArn)})
	if err != nil {
		t.Fatal(err)
	}
	g := newGatedSNS(mem.SNS())
	return &batchRig{mem: mem, sns: g, producer: NewProducer(g, newTestRegistry(t, SchemaFor[orderCreated](orderMT)), topics, opts),
		topic: aws.ToString(topic.TopicArn), queueURL: aws.ToString(q.QueueUrl)}
}

// waiting is how many Produce calls wait in the topic's queue.
func (r *batchRig) waiting() int {
	b := r.producer.batcher
	b.mu.Lock()
	defer b.mu.Unlock()
	if q := b.topics[r.topic]; q != nil {
		return len(q.waiting)
	}
	return 0
}

// receiveOrderIDs receives n messages from the queue (deleting them) and returns their order ids
// in receive order.
func (r *batchRig) receiveOrderIDs(t *testing.T, n int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var ids []string
	for len(ids) < n {
		out, err := r.mem.SQS().ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(r.queueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatalf("receive after %d of %d: %v", len(ids), n, err)
		}
		for _, m := range out.Messages {
			body := aws.ToString(m.Body)
			_, rest, _ := strings.Cut(body, `"order_id":"`)
			id, _, _ := strings.Cut(rest, `"`)
			ids = append(ids, id)
			if _, err := r.mem.SQS().DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(r.queueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return ids
}

type produced struct {
	id  string
	err error
}

// produceAsync starts Produce for order id in a goroutine; the result arrives on the channel.
func (r *batchRig) produceAsync(ctx context.Context, id string, opts ...ProduceOption) <-chan produced {
	ch := make(chan produced, 1)
	go func() {
		mid, err := r.producer.Produce(ctx, orderMT, orderCreated{URI: "https://orders/" + id, OrderID: id}, opts...)
		ch <- produced{mid, err}
	}()
	return ch
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !awstest.Eventually(10*time.Second, time.Millisecond, cond) {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// A lone Produce is sent at once with Publish, as without batching.
func TestNaturalBatchingLoneCall(t *testing.T) {
	r := newBatchRig(t, false, ProducerOptions{})
	id, err := r.producer.Produce(context.Background(), orderMT, orderCreated{URI: "https://orders/1", OrderID: "1"})
	if err != nil || id == "" {
		t.Fatalf("Produce = %q, %v", id, err)
	}
	publish, batches, _ := r.sns.calls()
	if publish != 1 || len(batches) != 0 {
		t.Fatalf("calls: %d Publish, PublishBatch %v; want 1 Publish", publish, batches)
	}
	if got := r.receiveOrderIDs(t, 1); got[0] != "1" {
		t.Fatalf("received %v", got)
	}
}

// Calls that arrive while a request is in flight share the next ones: full batches of 10 start at
// once (standard topic), the rest when the requests in flight are done; every caller gets its own
// message id and every message arrives once.
func TestNaturalBatchingSharesRequests(t *testing.T) {
	r := newBatchRig(t, false, ProducerOptions{})
	ctx := context.Background()
	r.sns.hold()
	first := r.produceAsync(ctx, "0")
	waitFor(t, "the first call in flight", func() bool { _, _, n := r.sns.calls(); return n == 1 })
	var chans []<-chan produced
	for i := 1; i <= 25; i++ {
		chans = append(chans, r.produceAsync(ctx, fmt.Sprint(i)))
	}
	// 25 arrivals: two full batches start at once, 5 wait for the requests in flight.
	waitFor(t, "two full batches in flight and 5 waiting", func() bool {
		_, b, n := r.sns.calls()
		return n == 3 && len(b) == 2 && r.waiting() == 5
	})
	r.sns.release()
	ids := map[string]bool{}
	for i, ch := range append([]<-chan produced{first}, chans...) {
		p := <-ch
		if p.err != nil || p.id == "" || ids[p.id] {
			t.Fatalf("call %d: id %q (seen before: %v), err %v", i, p.id, ids[p.id], p.err)
		}
		ids[p.id] = true
	}
	publish, batches, _ := r.sns.calls()
	if publish != 1 || fmt.Sprint(batches) != "[10 10 5]" {
		t.Errorf("calls: %d Publish, PublishBatch entries %v; want 1 and [10 10 5]", publish, batches)
	}
	got := map[string]int{}
	for _, id := range r.receiveOrderIDs(t, 26) {
		got[id]++
	}
	for i := range 26 {
		if got[fmt.Sprint(i)] != 1 {
			t.Errorf("order %d received %d times", i, got[fmt.Sprint(i)])
		}
	}
}

// On a FIFO topic one request is in flight at a time and messages leave in the order of the calls.
func TestNaturalBatchingFIFOOrder(t *testing.T) {
	r := newBatchRig(t, true, ProducerOptions{})
	ctx := context.Background()
	r.sns.hold()
	chans := []<-chan produced{r.produceAsync(ctx, "0", MessageGroupID("g"))}
	waitFor(t, "the first call in flight", func() bool { _, _, n := r.sns.calls(); return n == 1 })
	for i := 1; i <= 24; i++ {
		chans = append(chans, r.produceAsync(ctx, fmt.Sprint(i), MessageGroupID("g")))
		waitFor(t, "the call to queue", func() bool { return r.waiting() == i })
	}
	if _, _, n := r.sns.calls(); n != 1 {
		t.Fatalf("%d requests in flight on a FIFO topic, want 1", n)
	}
	r.sns.release()
	for i, ch := range chans {
		if p := <-ch; p.err != nil {
			t.Fatalf("call %d: %v", i, p.err)
		}
	}
	publish, batches, _ := r.sns.calls()
	if publish != 1 || fmt.Sprint(batches) != "[10 10 4]" {
		t.Errorf("calls: %d Publish, PublishBatch entries %v; want 1 and [10 10 4]", publish, batches)
	}
	got := r.receiveOrderIDs(t, 25)
	for i, id := range got {
		if id != fmt.Sprint(i) {
			t.Fatalf("FIFO order broken: received %v", got)
		}
	}
}

// A caller whose context ends while it waits gets a *PublishError with the context's error; its
// message is not published and the others are.
func TestNaturalBatchingCancelWhileWaiting(t *testing.T) {
	r := newBatchRig(t, false, ProducerOptions{})
	r.sns.hold()
	first := r.produceAsync(context.Background(), "0")
	waitFor(t, "the first call in flight", func() bool { _, _, n := r.sns.calls(); return n == 1 })
	cctx, cancel := context.WithCancel(context.Background())
	cancelled := r.produceAsync(cctx, "cancelled")
	waitFor(t, "the call to queue", func() bool { return r.waiting() == 1 })
	other := r.produceAsync(context.Background(), "2")
	waitFor(t, "the call to queue", func() bool { return r.waiting() == 2 })
	cancel()
	p := <-cancelled
	var pe *PublishError
	if !errors.As(p.err, &pe) || !errors.Is(p.err, context.Canceled) || pe.MediaType != orderMT {
		t.Fatalf("cancelled call: %q, %v; want a *PublishError wrapping context.Canceled", p.id, p.err)
	}
	r.sns.release()
	for _, ch := range []<-chan produced{first, other} {
		if p := <-ch; p.err != nil {
			t.Fatal(p.err)
		}
	}
	got := r.receiveOrderIDs(t, 2)
	if strings.Join(got, ",") != "0,2" {
		t.Errorf("received %v, want 0 and 2 (not the cancelled one)", got)
	}
	if v, _, _, _ := r.mem.QueueStats(r.queueURL); v != 0 {
		t.Errorf("%d more messages in the queue", v)
	}
}

// With a linger, a request that is not full waits for concurrent calls; a full batch sends it at
// once (the linger here is the 1 s maximum: the test would take it if the full batch did not).
func TestNaturalBatchingLinger(t *testing.T) {
	r := newBatchRig(t, false, ProducerOptions{BatchLinger: time.Second})
	ctx := context.Background()
	var chans []<-chan produced
	for i := range 10 {
		chans = append(chans, r.produceAsync(ctx, fmt.Sprint(i)))
	}
	start := time.Now()
	for _, ch := range chans {
		if p := <-ch; p.err != nil {
			t.Fatal(p.err)
		}
	}
	publish, batches, _ := r.sns.calls()
	if publish != 0 || fmt.Sprint(batches) != "[10]" {
		t.Errorf("calls: %d Publish, PublishBatch entries %v; want one PublishBatch of 10", publish, batches)
	}
	t.Logf("10 calls published together after %s", time.Since(start))
}

// producedIDs waits for every call and fails on an error.
func producedIDs(t *testing.T, chans ...<-chan produced) {
	t.Helper()
	for i, ch := range chans {
		if p := <-ch; p.err != nil || p.id == "" {
			t.Fatalf("call %d: id %q, err %v", i, p.id, p.err)
		}
	}
}

// Callers publishing in a loop share one request: when a request completes, the next one (not
// full) holds until the callers it released have called again. The hold here is a minute, so the
// test would time out if the request waited for it rather than for the returning caller.
func TestNaturalBatchingHoldsForReturningCallers(t *testing.T) {
	r := newBatchRig(t, false, ProducerOptions{})
	r.producer.batcher.hold = time.Minute
	ctx := context.Background()
	r.sns.hold()
	first := r.produceAsync(ctx, "0")
	waitFor(t, "the first call in flight", func() bool { _, _, n := r.sns.calls(); return n == 1 })
	second, third := r.produceAsync(ctx, "1"), r.produceAsync(ctx, "2")
	waitFor(t, "two calls to queue", func() bool { return r.waiting() == 2 })
	r.sns.release()
	producedIDs(t, first)
	// The first caller calls again: the held request takes it with the two that waited.
	again := r.produceAsync(ctx, "3")
	producedIDs(t, second, third, again)
	publish, batches, _ := r.sns.calls()
	if publish != 1 || fmt.Sprint(batches) != "[3]" {
		t.Errorf("calls: %d Publish, PublishBatch entries %v; want 1 Publish, then one PublishBatch of 3", publish, batches)
	}
	got := map[string]int{}
	for _, id := range r.receiveOrderIDs(t, 4) {
		got[id]++
	}
	if len(got) != 4 || got["0"] != 1 || got["3"] != 1 {
		t.Errorf("received %v, want orders 0-3 once each", got)
	}
}

// A lone call to a topic with nothing recently in flight, and a caller that calls again after its
// own request, are sent at once: nobody else is coming back, so there is nothing to hold for (the
// hold here is a minute: the test would time out on it).
func TestNaturalBatchingNoHoldForLoneCaller(t *testing.T) {
	r := newBatchRig(t, false, ProducerOptions{})
	r.producer.batcher.hold = time.Minute
	ctx := context.Background()
	for i := range 3 {
		producedIDs(t, r.produceAsync(ctx, fmt.Sprint(i)))
	}
	publish, batches, _ := r.sns.calls()
	if publish != 3 || len(batches) != 0 {
		t.Errorf("calls: %d Publish, PublishBatch entries %v; want 3 Publish", publish, batches)
	}
}

// A full batch is never held: when a request completes, 10 waiting callers go out at once even
// though the caller it released has not called again (a FIFO topic, so that the 10 wait for the
// request in flight rather than start a second one).
func TestNaturalBatchingFullBatchNotHeld(t *testing.T) {
	r := newBatchRig(t, true, ProducerOptions{})
	r.producer.batcher.hold = time.Minute
	ctx := context.Background()
	r.sns.hold()
	first := r.produceAsync(ctx, "0")
	waitFor(t, "the first call in flight", func() bool { _, _, n := r.sns.calls(); return n == 1 })
	var chans []<-chan produced
	for i := 1; i <= 10; i++ {
		chans = append(chans, r.produceAsync(ctx, fmt.Sprint(i)))
	}
	waitFor(t, "10 calls to queue", func() bool { return r.waiting() == 10 })
	r.sns.release()
	producedIDs(t, append(chans, first)...)
	publish, batches, _ := r.sns.calls()
	if publish != 1 || fmt.Sprint(batches) != "[10]" {
		t.Errorf("calls: %d Publish, PublishBatch entries %v; want 1 Publish and one PublishBatch of 10", publish, batches)
	}
}
