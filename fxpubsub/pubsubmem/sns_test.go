package pubsubmem_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/microcosm-go/pubsub/fxpubsub/pubsubmem"
)

func mustTopic(t *testing.T, b *pubsubmem.Backend, name string, attrs map[string]string) string {
	t.Helper()
	out, err := b.SNS().CreateTopic(context.Background(), &sns.CreateTopicInput{Name: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	return *out.TopicArn
}

func subscribe(t *testing.T, b *pubsubmem.Backend, topicARN, queueURL string, attrs map[string]string) string {
	t.Helper()
	out, err := b.SNS().Subscribe(context.Background(), &sns.SubscribeInput{
		TopicArn: aws.String(topicARN), Protocol: aws.String("sqs"), Endpoint: aws.String(queueARN(t, b, queueURL)), Attributes: attrs,
	})
	if err != nil {
		t.Fatal(err)
	}
	return *out.SubscriptionArn
}

func strAttr(v string) snstypes.MessageAttributeValue {
	return snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
}

func TestEnvelopeDelivery(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	b := newBackend(t, pubsubmem.WithClock(clock.Now))
	topic := mustTopic(t, b, "t", nil)
	if again := mustTopic(t, b, "t", nil); again != topic || topic != "arn:aws:sns:us-east-1:000000000000:t" {
		t.Fatalf("topic arn %s / %s", topic, again)
	}
	url := mustQueue(t, b, "q", nil)
	subARN := subscribe(t, b, topic, url, nil)
	if again := subscribe(t, b, topic, url, nil); again != subARN {
		t.Fatal("second Subscribe gave a new subscription")
	}
	out, err := b.SNS().Publish(ctx, &sns.PublishInput{
		TopicArn: &topic, Message: aws.String(`{"hello":"sns","n":1}`), Subject: aws.String("probe-subject"),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"color": strAttr("blue"),
			"count": {DataType: aws.String("Number"), StringValue: aws.String("42")},
			"blob":  {DataType: aws.String("Binary"), BinaryValue: []byte{1, 2, 3}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ms := recv(t, b, url, 10)
	if len(ms) != 1 {
		t.Fatalf("%d messages", len(ms))
	}
	if ms[0].MessageAttributes != nil {
		t.Fatal("enveloped message has SQS attributes")
	}
	body := *ms[0].Body
	want := `{"Type":"Notification","MessageId":"` + *out.MessageId + `","TopicArn":"` + topic + `","Subject":"probe-subject",` +
		`"Message":"{\"hello\":\"sns\",\"n\":1}","Timestamp":"2026-11-27T10:21:55.838Z","SignatureVersion":"1","Signature":"EXAMPLE",` +
		`"SigningCertURL":"https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",` +
		`"UnsubscribeURL":"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=` + subARN + `",` +
		`"MessageAttributes":{"blob":{"Type":"Binary","Value":"AQID"},"color":{"Type":"String","Value":"blue"},"count":{"Type":"Number","Value":"42"}}}`
	if body != want {
		t.Fatalf("envelope\n got %s\nwant %s", body, want)
	}
	var env map[string]any
	if err := json.Unmarshal([]byte(body), &env); err != nil || env["Message"] != `{"hello":"sns","n":1}` {
		t.Fatalf("not JSON or wrong Message: %v", err)
	}
	if len(*out.MessageId) != 36 || (*out.MessageId)[14] != '4' {
		t.Fatalf("not a v4 UUID: %s", *out.MessageId)
	}

	// Without subject or attributes, neither key appears; special characters are escaped.
	if _, err := b.SNS().Publish(ctx, &sns.PublishInput{TopicArn: &topic, Message: aws.String("line\n\"q\" <&> ✓")}); err != nil {
		t.Fatal(err)
	}
	body = *recv(t, b, url, 1)[0].Body
	if strings.Contains(body, "Subject") || strings.Contains(body, "MessageAttributes") {
		t.Fatalf("unexpected keys: %s", body)
	}
	env = nil
	if err := json.Unmarshal([]byte(body), &env); err != nil || env["Message"] != "line\n\"q\" <&> ✓" || !strings.Contains(body, `<&>`) {
		t.Fatalf("escaping: %s (%v)", body, err)
	}
}

func TestRawDeliveryAndSubscriptionAttributes(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	topic := mustTopic(t, b, "t", nil)
	url := mustQueue(t, b, "q", nil)
	sub := subscribe(t, b, topic, url, map[string]string{"RawMessageDelivery": "true"})
	attrs, err := b.SNS().GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: &sub})
	if err != nil || attrs.Attributes["RawMessageDelivery"] != "true" || attrs.Attributes["TopicArn"] != topic {
		t.Fatalf("attributes %v %v", attrs, err)
	}
	_, err = b.SNS().Publish(ctx, &sns.PublishInput{TopicArn: &topic, Message: aws.String(`{"a":1}`), MessageAttributes: map[string]snstypes.MessageAttributeValue{
		"media_type": strAttr("application/vnd.globality.pubsub._.created.foo"),
		"n":          {DataType: aws.String("Number"), StringValue: aws.String("7")},
		"bin":        {DataType: aws.String("Binary"), BinaryValue: []byte("xyz")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	m := recv(t, b, url, 1)[0]
	if *m.Body != `{"a":1}` || len(m.MessageAttributes) != 3 {
		t.Fatalf("raw message %+v", m)
	}
	if a := m.MessageAttributes["n"]; *a.DataType != "Number" || *a.StringValue != "7" {
		t.Fatalf("number attribute %+v", a)
	}
	if a := m.MessageAttributes["bin"]; *a.DataType != "Binary" || string(a.BinaryValue) != "xyz" {
		t.Fatalf("binary attribute %+v", a)
	}
	if *m.MD5OfMessageAttributes != attrMD5(m.MessageAttributes) || *m.MD5OfBody != md5hex(*m.Body) {
		t.Fatal("digests")
	}
	// Switch to envelope delivery.
	if _, err := b.SNS().SetSubscriptionAttributes(ctx, &sns.SetSubscriptionAttributesInput{SubscriptionArn: &sub, AttributeName: aws.String("RawMessageDelivery"), AttributeValue: aws.String("false")}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.SNS().Publish(ctx, &sns.PublishInput{TopicArn: &topic, Message: aws.String("x")}); err != nil {
		t.Fatal(err)
	}
	if body := *recv(t, b, url, 1)[0].Body; !strings.HasPrefix(body, `{"Type":"Notification"`) {
		t.Fatalf("not an envelope: %s", body)
	}
	list, err := b.SNS().ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: &topic})
	if err != nil || len(list.Subscriptions) != 1 || *list.Subscriptions[0].SubscriptionArn != sub {
		t.Fatalf("list %v %v", list, err)
	}
	if _, err := b.SNS().Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: &sub}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.SNS().Publish(ctx, &sns.PublishInput{TopicArn: &topic, Message: aws.String("x")}); err != nil {
		t.Fatal(err)
	}
	if s := stats(t, b, url); s[0] != 0 {
		t.Fatal("delivered after Unsubscribe")
	}
}

func TestFilterPolicy(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	topic := mustTopic(t, b, "t", nil)
	red := mustQueue(t, b, "red", nil)
	numeric := mustQueue(t, b, "numeric", nil)
	body := mustQueue(t, b, "body", nil)
	all := mustQueue(t, b, "all", nil)
	subscribe(t, b, topic, red, map[string]string{"RawMessageDelivery": "true", "FilterPolicy": `{"color":["red","crimson"],"shape":[{"exists":false}]}`})
	subscribe(t, b, topic, numeric, map[string]string{"RawMessageDelivery": "true", "FilterPolicy": `{"size":[{"numeric":[">",10,"<=",20]}],"tag":[{"prefix":"x-"},{"anything-but":["x-no"]}]}`})
	subscribe(t, b, topic, body, map[string]string{"RawMessageDelivery": "true", "FilterPolicyScope": "MessageBody", "FilterPolicy": `{"order":{"status":["paid"]}}`})
	subscribe(t, b, topic, all, map[string]string{"RawMessageDelivery": "true"})
	num := func(v string) snstypes.MessageAttributeValue {
		return snstypes.MessageAttributeValue{DataType: aws.String("Number"), StringValue: aws.String(v)}
	}
	pubs := []struct {
		msg   string
		attrs map[string]snstypes.MessageAttributeValue
	}{
		{"1", map[string]snstypes.MessageAttributeValue{"color": strAttr("red")}},
		{"2", map[string]snstypes.MessageAttributeValue{"color": strAttr("blue")}},
		{"3", map[string]snstypes.MessageAttributeValue{"color": strAttr("crimson"), "shape": strAttr("square")}},
		{"4", map[string]snstypes.MessageAttributeValue{"color": {DataType: aws.String("String.Array"), StringValue: aws.String(`["green","red"]`)}}},
		{"5", map[string]snstypes.MessageAttributeValue{"size": num("15"), "tag": strAttr("x-yes")}},
		{"6", map[string]snstypes.MessageAttributeValue{"size": num("25"), "tag": strAttr("x-yes")}},
		{"7", map[string]snstypes.MessageAttributeValue{"size": strAttr("15"), "tag": strAttr("x-yes")}},
		{`{"order":{"status":"paid"}}`, nil},
		{`{"order":{"status":["open","paid"]}}`, nil},
		{`{"order":{"status":"open"}}`, nil},
		{"not json", nil},
	}
	for _, p := range pubs {
		if _, err := b.SNS().Publish(ctx, &sns.PublishInput{TopicArn: &topic, Message: aws.String(p.msg), MessageAttributes: p.attrs}); err != nil {
			t.Fatal(err)
		}
	}
	for url, want := range map[string][]string{
		red:     {"1", "4"},
		numeric: {"5"},
		body:    {`{"order":{"status":"paid"}}`, `{"order":{"status":["open","paid"]}}`},
	} {
		var got []string
		for {
			ms := recv(t, b, url, 10)
			if len(ms) == 0 {
				break
			}
			got = append(got, bodies(ms)...)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s got %v, want %v", url, got, want)
		}
	}
	if s := stats(t, b, all); s[0] != len(pubs) {
		t.Errorf("unfiltered subscription got %d", s[0])
	}
	_, err := b.SNS().Subscribe(ctx, &sns.SubscribeInput{TopicArn: &topic, Protocol: aws.String("sqs"), Endpoint: aws.String(queueARN(t, b, red) + "x"),
		Attributes: map[string]string{"FilterPolicy": `{"a":"not-a-list"}`}})
	var invalid *snstypes.InvalidParameterException
	if !errors.As(err, &invalid) {
		t.Fatalf("bad filter policy: %v", err)
	}
}

func TestPublishBatch(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	topic := mustTopic(t, b, "t", nil)
	url := mustQueue(t, b, "q", nil)
	subscribe(t, b, topic, url, map[string]string{"RawMessageDelivery": "true"})
	entry := func(id, msg string) snstypes.PublishBatchRequestEntry {
		return snstypes.PublishBatchRequestEntry{Id: aws.String(id), Message: aws.String(msg)}
	}
	var entries []snstypes.PublishBatchRequestEntry
	for i := 0; i < 10; i++ {
		entries = append(entries, entry("e"+strconv.Itoa(i), "m"+strconv.Itoa(i)))
	}
	entries[4].Message = aws.String("")
	entries[7].MessageAttributes = map[string]snstypes.MessageAttributeValue{"n": {DataType: aws.String("Number"), StringValue: aws.String("abc")}}
	out, err := b.SNS().PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: &topic, PublishBatchRequestEntries: entries})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Successful) != 8 || len(out.Failed) != 2 {
		t.Fatalf("batch %+v", out)
	}
	if f := out.Failed[0]; *f.Id != "e4" || *f.Code != "InvalidParameter" || !f.SenderFault {
		t.Fatalf("failure %+v", f)
	}
	if f := out.Failed[1]; *f.Id != "e7" || *f.Code != "ParameterValueInvalid" {
		t.Fatalf("failure %+v", f)
	}
	if s := stats(t, b, url); s[0] != 8 {
		t.Fatalf("delivered %d", s[0])
	}

	var tooMany *snstypes.TooManyEntriesInBatchRequestException
	if _, err := b.SNS().PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: &topic, PublishBatchRequestEntries: append(entries, entry("e10", "x"))}); !errors.As(err, &tooMany) {
		t.Fatalf("11 entries: %v", err)
	}
	var dup *snstypes.BatchEntryIdsNotDistinctException
	if _, err := b.SNS().PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: &topic, PublishBatchRequestEntries: []snstypes.PublishBatchRequestEntry{entry("a", "1"), entry("a", "2")}}); !errors.As(err, &dup) {
		t.Fatalf("duplicate ids: %v", err)
	}
	var empty *snstypes.EmptyBatchRequestException
	if _, err := b.SNS().PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: &topic}); !errors.As(err, &empty) {
		t.Fatalf("empty: %v", err)
	}
	var tooLong *snstypes.BatchRequestTooLongException
	big := strings.Repeat("x", 100000)
	if _, err := b.SNS().PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: &topic, PublishBatchRequestEntries: []snstypes.PublishBatchRequestEntry{entry("a", big), entry("b", big), entry("c", big)}}); !errors.As(err, &tooLong) {
		t.Fatalf("too long: %v", err)
	}
	var notFound *snstypes.NotFoundException
	if _, err := b.SNS().PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: aws.String(topic + "x"), PublishBatchRequestEntries: entries[:1]}); !errors.As(err, &notFound) {
		t.Fatalf("missing topic: %v", err)
	}
	if _, err := b.SNS().Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topic + "x"), Message: aws.String("x")}); !errors.As(err, &notFound) {
		t.Fatalf("missing topic: %v", err)
	}
	var invalid *snstypes.InvalidParameterException
	if _, err := b.SNS().Publish(ctx, &sns.PublishInput{TopicArn: &topic, Message: aws.String(strings.Repeat("x", 262144-3)),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{"a": strAttr("b")}}); !errors.As(err, &invalid) {
		t.Fatalf("too long with attributes: %v", err)
	}
	if _, err := b.SNS().Publish(ctx, &sns.PublishInput{TopicArn: &topic, Message: aws.String(strings.Repeat("x", 262144))}); err != nil {
		t.Fatalf("exactly 256 KiB: %v", err)
	}
}

func TestFIFOTopic(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	if _, err := b.SNS().CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("t.fifo")}); err == nil {
		t.Fatal(".fifo name without FifoTopic accepted")
	}
	topic := mustTopic(t, b, "t.fifo", map[string]string{"FifoTopic": "true", "ContentBasedDeduplication": "true"})
	url := mustQueue(t, b, "q.fifo", map[string]string{"FifoQueue": "true"})
	subscribe(t, b, topic, url, nil)
	std := mustTopic(t, b, "std", nil)
	_, err := b.SNS().Subscribe(ctx, &sns.SubscribeInput{TopicArn: &std, Protocol: aws.String("sqs"), Endpoint: aws.String(queueARN(t, b, url))})
	var invalid *snstypes.InvalidParameterException
	if !errors.As(err, &invalid) {
		t.Fatalf("FIFO queue on standard topic: %v", err)
	}
	if _, err := b.SNS().Publish(ctx, &sns.PublishInput{TopicArn: &topic, Message: aws.String("x")}); !errors.As(err, &invalid) {
		t.Fatalf("no group id: %v", err)
	}
	var ids []string
	for _, m := range []string{"one", "two", "one"} {
		out, err := b.SNS().Publish(ctx, &sns.PublishInput{TopicArn: &topic, Message: aws.String(m), MessageGroupId: aws.String("g")})
		if err != nil || out.SequenceNumber == nil {
			t.Fatal(err)
		}
		ids = append(ids, *out.MessageId)
	}
	if ids[0] != ids[2] || ids[0] == ids[1] {
		t.Fatalf("topic dedup ids %v", ids)
	}
	ms := recv(t, b, url, 10)
	var got []string
	for _, m := range ms {
		var env struct{ Message, SequenceNumber string }
		if err := json.Unmarshal([]byte(*m.Body), &env); err != nil || env.SequenceNumber == "" {
			t.Fatalf("envelope %s", *m.Body)
		}
		got = append(got, env.Message)
		if m.Attributes["MessageGroupId"] != "g" {
			t.Fatalf("group %v", m.Attributes)
		}
	}
	if !reflect.DeepEqual(got, []string{"one", "two"}) {
		t.Fatalf("got %v", got)
	}
}

func TestTopicAdmin(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	topic := mustTopic(t, b, "t", map[string]string{"DisplayName": "T"})
	if _, err := b.SNS().CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("t"), Attributes: map[string]string{"DisplayName": "other"}}); err == nil {
		t.Fatal("different attributes accepted")
	}
	attrs, err := b.SNS().GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: &topic})
	if err != nil || attrs.Attributes["DisplayName"] != "T" || attrs.Attributes["TopicArn"] != topic {
		t.Fatalf("attributes %v %v", attrs, err)
	}
	list, err := b.SNS().ListTopics(ctx, &sns.ListTopicsInput{})
	if err != nil || len(list.Topics) != 1 {
		t.Fatalf("list %v %v", list, err)
	}
	url := mustQueue(t, b, "q", nil)
	subscribe(t, b, topic, url, nil)
	if _, err := b.SNS().DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: &topic}); err != nil {
		t.Fatal(err)
	}
	var notFound *snstypes.NotFoundException
	if _, err := b.SNS().GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: &topic}); !errors.As(err, &notFound) {
		t.Fatalf("deleted topic: %v", err)
	}
	// MessageStructure json picks the "sqs" entry.
	topic = mustTopic(t, b, "t2", nil)
	subscribe(t, b, topic, url, map[string]string{"RawMessageDelivery": "true"})
	if _, err := b.SNS().Publish(ctx, &sns.PublishInput{TopicArn: &topic, MessageStructure: aws.String("json"), Message: aws.String(`{"default":"d","sqs":"s"}`)}); err != nil {
		t.Fatal(err)
	}
	if got := bodies(recv(t, b, url, 10)); !reflect.DeepEqual(got, []string{"s"}) {
		t.Fatalf("got %v", got)
	}
}

// The entries of one PublishBatch each reach a raw subscription with their own attributes and
// attribute MD5 (the same as a lone Publish gives): equal attributes share one conversion, a
// different entry in between or after gets its own.
func TestPublishBatchRawAttributesPerEntry(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	topic := mustTopic(t, b, "t", nil)
	url := mustQueue(t, b, "q", nil)
	subscribe(t, b, topic, url, map[string]string{"RawMessageDelivery": "true"})
	blue := map[string]snstypes.MessageAttributeValue{"color": strAttr("blue")}
	sets := []map[string]snstypes.MessageAttributeValue{
		blue, blue, {"color": strAttr("red")}, {"color": strAttr("blue")},
		{"color": strAttr("blue"), "size": {DataType: aws.String("Number"), StringValue: aws.String("3")}}, nil,
		{"color": {DataType: aws.String("Binary"), BinaryValue: []byte("blue")}},
	}
	// The MD5 a lone Publish gives each set.
	want := make([]string, len(sets))
	for i, attrs := range sets {
		if _, err := b.SNS().Publish(ctx, &sns.PublishInput{TopicArn: &topic, Message: aws.String("m"), MessageAttributes: attrs}); err != nil {
			t.Fatal(err)
		}
		want[i] = aws.ToString(recv(t, b, url, 1)[0].MD5OfMessageAttributes)
	}
	if want[0] == want[2] || want[0] == want[4] || want[0] == want[6] || want[5] != "" {
		t.Fatalf("reference MD5s do not tell the sets apart: %q", want)
	}
	var entries []snstypes.PublishBatchRequestEntry
	for i, attrs := range sets {
		entries = append(entries, snstypes.PublishBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), Message: aws.String(strconv.Itoa(i)), MessageAttributes: attrs})
	}
	if out, err := b.SNS().PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: &topic, PublishBatchRequestEntries: entries}); err != nil || len(out.Successful) != len(sets) {
		t.Fatalf("PublishBatch: %+v, %v", out, err)
	}
	got := map[string]sqstypes.Message{}
	for try := 0; len(got) < len(sets); try++ {
		if try == 10 {
			t.Fatalf("received %d of %d entries", len(got), len(sets))
		}
		for _, m := range recv(t, b, url, 10) {
			got[aws.ToString(m.Body)] = m
		}
	}
	for i, attrs := range sets {
		m := got[strconv.Itoa(i)]
		if md5 := aws.ToString(m.MD5OfMessageAttributes); md5 != want[i] {
			t.Errorf("entry %d: attribute MD5 %q, want %q (a lone Publish's)", i, md5, want[i])
		}
		if len(m.MessageAttributes) != len(attrs) {
			t.Errorf("entry %d: %d attributes, want %d", i, len(m.MessageAttributes), len(attrs))
		}
		for name, a := range attrs {
			g := m.MessageAttributes[name]
			if aws.ToString(g.DataType) != aws.ToString(a.DataType) || aws.ToString(g.StringValue) != aws.ToString(a.StringValue) || string(g.BinaryValue) != string(a.BinaryValue) {
				t.Errorf("entry %d: attribute %s = %+v, want %+v", i, name, g, a)
			}
		}
	}
}
