package pubsubmem

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// ErrClosed is returned (wrapped in a *smithy.OperationError) by every call made after Backend.Close,
// and by long polls that Close interrupted. Match it with errors.Is.
var ErrClosed = errors.New("pubsubmem: backend closed")

// Option configures a Backend.
type Option func(*Backend)

// WithRegion sets the region used in queue URLs and ARNs (default "us-east-1").
func WithRegion(region string) Option { return func(b *Backend) { b.region = region } }

// WithAccountID sets the account id used in queue URLs and ARNs (default "000000000000").
func WithAccountID(id string) Option { return func(b *Backend) { b.account = id } }

// WithClock replaces time.Now for everything time-based: visibility timeouts, delays, timestamps and the
// FIFO deduplication window. Long polls still wait in real time (WaitTimeSeconds); a poller notices a
// fake clock that moved forward at the latest when its next expiry timer fires, so tests that drive
// the clock should receive with WaitTimeSeconds unset (0 on a queue without a default wait).
func WithClock(now func() time.Time) Option { return func(b *Backend) { b.clock = now } }

// Backend is an in-memory SNS and SQS. Its SNS and SQS clients share its topics and queues. It is safe
// for concurrent use.
type Backend struct {
	region, account string
	clock           func() time.Time
	tag             string // random per backend; prefixes receipt handles
	ids             idSource

	mu         sync.RWMutex
	queues     map[string]*queue // by URL
	queueNames map[string]*queue
	queueARNs  map[string]*queue
	topics     map[string]*topic // by ARN
	subs       map[string]*subscription
	nextQID    uint64

	closed    atomic.Bool
	closeOnce sync.Once
	done      chan struct{}

	sns SNS
	sqs SQS

	s3Once sync.Once // the minimal S3 (s3.go), made on first use
	s3     *S3
}

// New returns an empty backend.
func New(opts ...Option) *Backend {
	b := &Backend{
		region:     "us-east-1",
		account:    "000000000000",
		clock:      time.Now,
		queues:     map[string]*queue{},
		queueNames: map[string]*queue{},
		queueARNs:  map[string]*queue{},
		topics:     map[string]*topic{},
		subs:       map[string]*subscription{},
		done:       make(chan struct{}),
	}
	for _, o := range opts {
		o(b)
	}
	b.tag = b.ids.newUUID()[:8]
	b.sns.b = b
	b.sqs.b = b
	return b
}

// SNS returns the backend's SNS client; its methods have the signatures of *sns.Client.
func (b *Backend) SNS() *SNS { return &b.sns }

// SQS returns the backend's SQS client; its methods have the signatures of *sqs.Client.
func (b *Backend) SQS() *SQS { return &b.sqs }

// Close wakes every long poll (they return ErrClosed) and makes every later call fail with ErrClosed.
// It is idempotent.
func (b *Backend) Close() {
	b.closeOnce.Do(func() {
		b.closed.Store(true)
		close(b.done)
	})
}

// QueueStats reports how many messages of a queue are visible, in flight (received, not yet deleted,
// visibility timeout running) and delayed.
func (b *Backend) QueueStats(queueURL string) (visible, inFlight, delayed int, err error) {
	q, err := b.lookupQueue(context.Background(), aws.String(queueURL))
	if err != nil {
		return 0, 0, 0, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.deleted {
		return 0, 0, 0, errNoQueue()
	}
	q.advance(b.nowNano())
	return q.nReady, len(q.inflight), len(q.delayed), nil
}

func (b *Backend) nowNano() int64 { return b.clock().UnixNano() }

// check fails if the backend is closed or ctx is done.
func (b *Backend) check(ctx context.Context) error {
	if b.closed.Load() {
		return ErrClosed
	}
	if ctx != nil {
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// lookupQueue resolves a QueueUrl issued by this backend.
func (b *Backend) lookupQueue(ctx context.Context, url *string) (*queue, error) {
	if err := b.check(ctx); err != nil {
		return nil, err
	}
	if url == nil || *url == "" {
		return nil, missingParam("QueueUrl")
	}
	b.mu.RLock()
	q := b.queues[*url]
	b.mu.RUnlock()
	if q == nil {
		return nil, errNoQueue()
	}
	return q, nil
}

func (b *Backend) queueByARN(arn string) *queue {
	b.mu.RLock()
	q := b.queueARNs[arn]
	b.mu.RUnlock()
	return q
}

func (b *Backend) queueURL(name string) string {
	return "http://sqs." + b.region + ".memory.localhost/" + b.account + "/" + name
}

func (b *Backend) arn(service, name string) string {
	return "arn:aws:" + service + ":" + b.region + ":" + b.account + ":" + name
}

func errNoQueue() error {
	return &sqstypes.QueueDoesNotExist{Message: aws.String("The specified queue does not exist.")}
}
