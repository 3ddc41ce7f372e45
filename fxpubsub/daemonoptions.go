package fxpubsub

import (
	"time"

	"go.uber.org/zap"
)

// DaemonOptions configure a [Daemon]; zero values mean defaults.
type DaemonOptions struct {
	// Pollers is the number of independent pollers, the original's --processes (default 1). Each
	// poller has its own Receivers, its own worker pool of Concurrency workers, its own batched
	// deletes and visibility changes and its own visibility heartbeat; they share the consumer and
	// the dispatcher. [Daemon.Healthy] checks each one, and one that stops on a fatal error makes
	// the daemon unhealthy and stops it (OnStopped).
	Pollers int
	// Receivers is the number of concurrent long-polling receivers of each poller (default 4).
	Receivers int
	// Concurrency bounds the messages being handled at once: the worker pool's size and the number
	// of received-but-unsettled messages (default 64). A receiver asks SQS for only as many messages
	// as there are free workers, so no message waits in a local buffer behind a slow one.
	Concurrency int
	// FlushInterval is how long a partial batch of deletes or visibility changes waits for company
	// (default 50 ms); a full batch of 10 goes at once.
	FlushInterval time.Duration
	// MaxBatchCalls bounds concurrent batch calls per action (default 8).
	MaxBatchCalls int
	// MaxAttempts bounds attempts per batch entry (default 5).
	MaxAttempts int
	// VisibilityTimeout is the queue's visibility timeout; 0 reads it from the queue at start.
	VisibilityTimeout time.Duration
	// DisableHeartbeat turns the visibility heartbeat off. With it on (the default), a message still
	// being handled when HeartbeatThreshold of its visibility timeout has passed gets its visibility
	// extended by another VisibilityTimeout, so long handlers cause no duplicate deliveries.
	DisableHeartbeat bool
	// HeartbeatThreshold is the fraction of the visibility timeout after which the heartbeat extends
	// a message (default 0.5).
	HeartbeatThreshold float64
	// DrainTimeout bounds how long Stop waits for in-flight handlers (default 10 s, below fx's
	// 15 s stop timeout); their contexts are cancelled then, and Stop waits up to half as long
	// again (within its context's deadline) for those that return.
	DrainTimeout time.Duration
	// HealthThreshold is the staleness bound of [Daemon.Healthy], the original's
	// --heartbeat-threshold-seconds: a poller is unhealthy when it has shown no sign of life (a
	// receive call that returned, or a message handled) for longer, or when a receiver has been
	// failing for longer. Zero or negative (the default) means no staleness bound, and a receiver
	// may fail for a minute before the daemon is unhealthy.
	HealthThreshold time.Duration
	// Logger gets lifecycle and error lines (default: none).
	Logger *zap.Logger
	// OnStopped is called once if the daemon stops receiving by itself: err is nil at the end of
	// replay input, else the fatal error (for example, the queue does not exist).
	OnStopped func(err error)
	// Telemetry records receive durations, batch metrics and the [DaemonStats] gauges and counters
	// (default nil: none). Give the dispatcher the same one for per-message metrics and spans.
	Telemetry *Telemetry
}

func (o *DaemonOptions) defaults() {
	if o.Pollers <= 0 {
		o.Pollers = defaultPollers
	}
	if o.Receivers <= 0 {
		o.Receivers = defaultReceivers
	}
	if o.Concurrency <= 0 {
		o.Concurrency = defaultConcurrency
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = defaultFlushInterval
	}
	if o.MaxBatchCalls <= 0 {
		o.MaxBatchCalls = defaultMaxBatchCalls
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = defaultMaxAttempts
	}
	if o.HeartbeatThreshold <= 0 || o.HeartbeatThreshold >= 1 {
		o.HeartbeatThreshold = defaultHeartbeatThreshold
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = defaultDrainTimeout
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
}

// DaemonStats counts the daemon's work since start (summed over its pollers).
type DaemonStats struct {
	Received, Handled                 int64
	ReceiveCalls, EmptyReceives       int64
	ReceiveErrors                     int64
	DeleteBatchCalls, VisibilityCalls int64
	DeleteEntries, VisibilityEntries  int64
	SettleFailures                    int64
	// PendingDeletes and PeakPendingDeletes count handled messages whose delete is queued or in a
	// call that has not returned: the handled-but-not-yet-deleted backlog.
	PendingDeletes, PeakPendingDeletes   int64
	Extensions, Released, InFlight, Busy int64
}

// add adds o's counters to s (a daemon's stats are the sum of its pollers'; PeakPendingDeletes is
// then the sum of each poller's peak).
func (s *DaemonStats) add(o DaemonStats) {
	s.Received += o.Received
	s.Handled += o.Handled
	s.ReceiveCalls += o.ReceiveCalls
	s.EmptyReceives += o.EmptyReceives
	s.ReceiveErrors += o.ReceiveErrors
	s.DeleteBatchCalls += o.DeleteBatchCalls
	s.VisibilityCalls += o.VisibilityCalls
	s.DeleteEntries += o.DeleteEntries
	s.VisibilityEntries += o.VisibilityEntries
	s.SettleFailures += o.SettleFailures
	s.PendingDeletes += o.PendingDeletes
	s.PeakPendingDeletes += o.PeakPendingDeletes
	s.Extensions += o.Extensions
	s.Released += o.Released
	s.InFlight += o.InFlight
	s.Busy += o.Busy
}
