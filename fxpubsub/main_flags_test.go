package fxpubsub_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"go.uber.org/fx"
)

// freePort returns a loopback port nothing listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// dyingSQS fails the first ReceiveMessage after kill is set with QueueDoesNotExist, the fatal
// error that ends the loop of the poller that made the call.
type dyingSQS struct {
	fxpubsub.SQSClient
	kill, killed atomic.Bool
}

func (c *dyingSQS) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	if c.kill.Load() && c.killed.CompareAndSwap(false, true) {
		return nil, &sqstypes.QueueDoesNotExist{Message: new(string)}
	}
	return c.SQSClient.ReceiveMessage(ctx, in, optFns...)
}

type apiHealth struct {
	code       int
	Heartbeats map[string]int64 `json:"heartbeats"`
	Error      string           `json:"error"`
}

func getAPIHealth(client *http.Client, url string) (apiHealth, error) {
	resp, err := client.Get(url)
	if err != nil {
		return apiHealth{}, err
	}
	defer resp.Body.Close()
	var h apiHealth
	err = json.NewDecoder(resp.Body).Decode(&h)
	h.code = resp.StatusCode
	return h, err
}

// TestMainProcessesHealthcheck: the original daemon's flags. --processes 2 runs two pollers and
// --healthcheck-port serves the original's GET /api/health: 200 with a heartbeat per poller, and
// 500 naming the poller once one of them dies on a fatal error (while the other drains a message
// it is still handling, so the endpoint keeps answering). Main then exits 1.
func TestMainProcessesHealthcheck(t *testing.T) {
	port := freePort(t)
	sqsc := &dyingSQS{}
	entered, release := make(chan struct{}, 1), make(chan struct{})
	var producer *fxpubsub.Producer
	started, ch := onStart()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan mainRun, 1)
	go func() {
		done <- runMain(ctx, t, []string{"--testing", "--processes", "2", "--healthcheck-host", "127.0.0.1", "--healthcheck-port", strconv.Itoa(port), "--set", "sqs_consumer.wait_seconds=1"}, "",
			fx.Decorate(func(b *fxpubsub.Backend) *fxpubsub.Backend {
				sqsc.SQSClient = b.SQS
				nb := *b
				nb.SQS = sqsc
				return &nb
			}),
			fxpubsub.AsHandlerFunc(orderMT, func(context.Context, *orderCreated) error {
				entered <- struct{}{}
				<-release
				return nil
			}),
			fx.Populate(&producer),
			started,
		)
	}()
	var released bool
	defer func() { // on failure: stop Main and wait for it, so nothing it started outlives the test
		if !released {
			close(release)
		}
		cancel()
		<-done
	}()
	<-ch
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	url := "http://127.0.0.1:" + strconv.Itoa(port) + fxpubsub.APIHealthPath
	var h apiHealth
	waitFor(t, 10*time.Second, "GET /api/health to answer 200", func() bool {
		var err error
		h, err = getAPIHealth(client, url)
		return err == nil && h.code == http.StatusOK
	})
	if len(h.Heartbeats) != 2 || h.Heartbeats["1"] > 5 || h.Heartbeats["2"] > 5 {
		t.Fatalf("heartbeats %v, want a recent one for pollers 1 and 2", h.Heartbeats)
	}

	if _, err := producer.Produce(context.Background(), orderMT, orderCreated{URI: "https://orders/1", OrderID: "1"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-entered:
	case <-time.After(20 * time.Second):
		t.Fatal("the message never reached its handler")
	}
	sqsc.kill.Store(true)
	waitFor(t, 30*time.Second, "GET /api/health to answer 500", func() bool {
		var err error
		h, err = getAPIHealth(client, url)
		return err == nil && h.code == http.StatusInternalServerError
	})
	if !strings.Contains(h.Error, "poller ") || !strings.Contains(h.Error, "consumer stopped") || len(h.Heartbeats) != 2 {
		t.Errorf("unhealthy reply %+v, want both heartbeats and the dead poller named", h)
	}
	close(release)
	released = true
	select {
	case r := <-done:
		done <- r // for the deferred wait
		if r.code != fxpubsub.ExitFailure {
			t.Fatalf("exit %d, want 1; stderr %q", r.code, r.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Main did not stop after a poller died")
	}
}

// mainConfig starts Main with args, returns the configuration it loaded, and stops it.
func mainConfig(t *testing.T, args ...string) fxpubsub.Config {
	t.Helper()
	var cfg fxpubsub.Config
	started, ch := onStart()
	stop, done := startMain(t, append([]string{"--testing"}, args...), fx.Populate(&cfg), started)
	select {
	case <-ch:
	case r := <-done:
		t.Fatalf("Main returned early: %+v", r)
	}
	if r := stop(); r.code != fxpubsub.ExitOK {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	return cfg
}

// TestMainHeartbeatThreshold: --heartbeat-threshold-seconds sets
// health.heartbeat_threshold_seconds; $MICROCOSM_HEARTBEAT_THRESHOLD_SECONDS is its default, as in
// the original, and a bad value there is a usage error naming the variable.
func TestMainHeartbeatThreshold(t *testing.T) {
	if got := mainConfig(t).Health.HeartbeatThresholdSeconds; got != -1 {
		t.Errorf("default threshold %d, want -1", got)
	}
	if got := mainConfig(t, "--heartbeat-threshold-seconds", "30").Health.HeartbeatThresholdSeconds; got != 30 {
		t.Errorf("flag: threshold %d, want 30", got)
	}
	t.Setenv(fxpubsub.EnvHeartbeatThreshold, "7")
	if got := mainConfig(t).Health.HeartbeatThresholdSeconds; got != 7 {
		t.Errorf("environment: threshold %d, want 7", got)
	}
	if got := mainConfig(t, "--heartbeat-threshold-seconds", "30").Health.HeartbeatThresholdSeconds; got != 30 {
		t.Errorf("flag and environment: threshold %d, want the flag's 30", got)
	}
	t.Setenv(fxpubsub.EnvHeartbeatThreshold, "soon")
	r := runMain(context.Background(), t, []string{"--testing"}, "")
	if r.code != fxpubsub.ExitUsage {
		t.Fatalf("exit %d, want 2; stderr %q", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "$"+fxpubsub.EnvHeartbeatThreshold) || !strings.Contains(r.stderr, `"soon"`) {
		t.Errorf("stderr %q does not name the variable and its value", r.stderr)
	}
}

// TestMainProcessesSetsPollers: --processes N is sqs_consumer.pollers (TestMainProcessesHealthcheck
// sees the daemon run them).
func TestMainProcessesSetsPollers(t *testing.T) {
	if got := mainConfig(t).Consumer.Pollers; got != 1 {
		t.Errorf("default pollers %d, want 1", got)
	}
	if got := mainConfig(t, "--processes", "3").Consumer.Pollers; got != 3 {
		t.Errorf("pollers %d, want 3", got)
	}
}
