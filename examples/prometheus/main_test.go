package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/microcosm-go/pubsub/internal/awstest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, awstest.GoleakOptions()...) }

// syncBuffer is an io.Writer the app and the test can share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// scrape fetches /metrics and returns each sample's value by its name{labels} line prefix.
func scrape(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample line %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

// sample finds the value of the one sample of name whose labels include every label given.
func sample(samples map[string]float64, name string, labels ...string) (float64, bool) {
	var (
		found bool
		v     float64
	)
	for k, val := range samples {
		n, rest, _ := strings.Cut(k, "{")
		if n != name {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(rest, l)
		}
		if ok {
			if found {
				return 0, false // ambiguous
			}
			found, v = true, val
		}
	}
	return v, found
}

func TestScrapeAfterHandling(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrs := make(chan string, 1)
	var stdout, stderr syncBuffer
	exited := make(chan int)
	go func() {
		exited <- run(ctx, []string{"--set", "prometheus.addr=127.0.0.1:0"}, &stdout, &stderr, func(a string) { addrs <- a })
	}()
	var addr string
	select {
	case addr = <-addrs:
	case code := <-exited:
		t.Fatalf("exited with %d before listening: %s", code, stderr.buf.String())
	case <-time.After(20 * time.Second):
		t.Fatal("metrics server not listening")
	}

	src, mt := `source="microcosm-pubsub"`, fmt.Sprintf("media_type=%q", GreetingMediaType)
	// The demo's five greetings: three SUCCEEDED, one RETRIED, one FAILED (and FAILED again after
	// each backoff).
	var samples map[string]float64
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		samples = scrape(t, addr)
		ok, _ := sample(samples, "message_seconds_count", src, mt, `result="SUCCEEDED"`)
		retried, _ := sample(samples, "message_seconds_count", src, mt, `result="RETRIED"`)
		failed, _ := sample(samples, "message_seconds_count", src, mt, `result="FAILED"`)
		deleted, _ := sample(samples, "sqs_consumer_settle_entries_total", `action="delete"`)
		if ok == 3 && retried == 1 && failed >= 1 && deleted == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("messages not handled in time; message_seconds_count: SUCCEEDED %v RETRIED %v FAILED %v; deleted %v", ok, retried, failed, deleted)
		}
		<-tick.C
	}
	checks := []struct {
		name   string
		labels []string
		min    float64
	}{
		{"message_handle_start_seconds_count", []string{src, mt, `result="SUCCEEDED"`}, 3},
		{"message_batch_seconds_count", []string{src}, 1},
		{"message_batch_size_sum", []string{src}, 5},
		{"sns_producer_seconds_count", []string{src, mt, `publish_result="SUCCESS"`}, 5},
		{"sqs_consumer_received_total", []string{`messaging_destination_name="pubsub-testing"`}, 5},
		{"sqs_consumer_receive_calls_total", nil, 1},
		{"sqs_consumer_receive_duration_seconds_count", []string{`result="messages"`}, 1},
		{"sqs_consumer_settle_entries_total", []string{`action="delete"`}, 3},
		{"sqs_consumer_workers_utilization_ratio", nil, 0},
		{"sqs_consumer_in_flight", nil, 0},
	}
	for _, c := range checks {
		v, ok := sample(samples, c.name, c.labels...)
		if !ok || v < c.min {
			t.Errorf("%s%v = %v (found %v), want at least %v", c.name, c.labels, v, ok, c.min)
		}
	}
	if _, ok := sample(samples, "message_seconds_count", `result="IGNORED"`); ok {
		t.Error("IGNORED messages are not measured")
	}

	cancel()
	select {
	case code := <-exited:
		if code != 0 {
			t.Fatalf("exit code %d; stderr:\n%s", code, stderr.buf.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("app did not stop")
	}
	stdout.mu.Lock()
	defer stdout.mu.Unlock()
	if !strings.Contains(stdout.buf.String(), "metrics on http://"+addr+"/metrics") {
		t.Errorf("stdout: %q", stdout.buf.String())
	}
}
