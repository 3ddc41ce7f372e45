package fxconfig_test

import (
	"bytes"
	"flag"
	"reflect"
	"strings"
	"testing"

	"github.com/microcosm-go/pubsub/fxconfig"
)

func TestBindFlagsInEntryPoint(t *testing.T) {
	file := writeFile(t, "app.json", `{"sqs_consumer": {"sqs_queue_url": "file", "limit": 3}}`)
	var in fxconfig.Input
	fs := flag.NewFlagSet("daemon", flag.ContinueOnError)
	queue := fs.String("sqs-queue-url", "", "queue URL")
	fxconfig.BindFlags(fs, &in)
	err := fs.Parse([]string{"--config", file, "--debug", "--set", "sqs_consumer.limit=5", "--sqs-queue-url", "flag"})
	if err != nil {
		t.Fatal(err)
	}
	in.Name = "daemon"
	in.Environ = []string{"DAEMON__SQS_CONSUMER__SQS_QUEUE_URL=env", "DAEMON__SQS_CONSUMER__LIMIT=4"}
	in.Flags["sqs_consumer.sqs_queue_url"] = *queue

	if want := []string{file}; !reflect.DeepEqual(in.Files, want) {
		t.Errorf("files = %v", in.Files)
	}
	s, err := fxconfig.Load(in)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"sqs_queue_url": "flag", "limit": "5"}
	if got := s.Get("sqs_consumer"); !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v (flags beat env)", got, want)
	}
	if !s.Metadata().Debug {
		t.Error("--debug not applied")
	}
}

func TestBindFlagsRepeatable(t *testing.T) {
	var in fxconfig.Input
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fxconfig.BindFlags(fs, &in)
	if err := fs.Parse([]string{"--config", "a.yaml", "-config=b.json", "--set", "a=1", "--set", "b.c=2", "--testing"}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"a.yaml", "b.json"}; !reflect.DeepEqual(in.Files, want) {
		t.Errorf("files = %v", in.Files)
	}
	if want := map[string]any{"a": "1", "b.c": "2", "testing": true}; !reflect.DeepEqual(in.Flags, want) {
		t.Errorf("flags = %v", in.Flags)
	}
}

func TestBindFlagsUsage(t *testing.T) {
	var in fxconfig.Input
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	fxconfig.BindFlags(fs, &in)
	fs.PrintDefaults()
	for _, want := range []string{"-config path", "-debug", "-testing", "-set key=value"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, buf.String())
		}
	}
}
