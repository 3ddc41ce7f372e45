package fxpubsub

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// inflightSet tracks received, unsettled messages and when their visibility was last set.
type inflightSet struct {
	mu sync.Mutex
	m  map[*Message]time.Time
}

func (s *inflightSet) addAll(msgs []*Message, now time.Time) {
	s.mu.Lock()
	for _, m := range msgs {
		s.m[m] = now
	}
	s.mu.Unlock()
}

func (s *inflightSet) remove(m *Message) {
	s.mu.Lock()
	delete(s.m, m)
	s.mu.Unlock()
}

func (s *inflightSet) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// due returns the messages whose visibility was set more than threshold ago, and restarts their
// clock.
func (s *inflightSet) due(now time.Time, threshold time.Duration) []*Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*Message
	for m, since := range s.m {
		if now.Sub(since) >= threshold {
			out = append(out, m)
			s.m[m] = now
		}
	}
	return out
}

// receiverHealth records each receiver's state for [Daemon.Healthy].
type receiverHealth struct {
	mu       sync.Mutex
	failedAt []time.Time // zero when healthy
	exited   []bool
	fatal    error
}

func (h *receiverHealth) init(n int) {
	h.mu.Lock()
	h.failedAt, h.exited = make([]time.Time, n), make([]bool, n)
	h.mu.Unlock()
}

func (h *receiverHealth) ok(i int) {
	h.mu.Lock()
	h.failedAt[i] = time.Time{}
	h.mu.Unlock()
}

func (h *receiverHealth) failing(i int) {
	h.mu.Lock()
	if h.failedAt[i].IsZero() {
		h.failedAt[i] = time.Now()
	}
	h.mu.Unlock()
}

func (h *receiverHealth) exit(i int, err error) {
	h.mu.Lock()
	h.exited[i] = true
	if err != nil {
		h.fatal = err
	}
	h.mu.Unlock()
}

func (h *receiverHealth) check(window time.Duration) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fatal != nil {
		return fmt.Errorf("consumer stopped: %w", h.fatal)
	}
	if len(h.exited) == 0 {
		return errors.New("consumer starting")
	}
	for i := range h.exited {
		if h.exited[i] {
			return fmt.Errorf("receiver %d stopped", i)
		}
		if !h.failedAt[i].IsZero() && time.Since(h.failedAt[i]) > window {
			return fmt.Errorf("receiver %d failing since %s", i, h.failedAt[i].Format(time.RFC3339))
		}
	}
	return nil
}
