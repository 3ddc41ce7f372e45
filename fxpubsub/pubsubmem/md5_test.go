package pubsubmem_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/binary"
	"fmt"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

func md5hex(s string) string { return fmt.Sprintf("%x", md5.Sum([]byte(s))) }

// attrMD5 is an independent implementation of the algorithm AWS documents for MD5OfMessageAttributes
// ("Calculating the MD5 message digest for message attributes"): sort by name; for each attribute
// encode name, data type, a transport-type byte (1 string, 2 binary) and the value; every string or
// binary field is preceded by its length as a 4-byte big-endian integer.
func attrMD5(attrs map[string]sqstypes.MessageAttributeValue) string {
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	field := func(b []byte) {
		_ = binary.Write(&buf, binary.BigEndian, int32(len(b)))
		buf.Write(b)
	}
	for _, n := range names {
		a := attrs[n]
		field([]byte(n))
		field([]byte(*a.DataType))
		if a.StringValue != nil {
			buf.WriteByte(1)
			field([]byte(*a.StringValue))
		} else {
			buf.WriteByte(2)
			field(a.BinaryValue)
		}
	}
	return fmt.Sprintf("%x", md5.Sum(buf.Bytes()))
}

func TestMD5s(t *testing.T) {
	b := newBackend(t)
	url := mustQueue(t, b, "q", nil)
	// Known-good values.
	for body, want := range map[string]string{
		"hello": "5d41402abc4b2a76b9719d911017c592",
		`{"mediaType":"application/vnd.globality.pubsub._.created.foo","uri":"http://x/1"}`: md5hex(`{"mediaType":"application/vnd.globality.pubsub._.created.foo","uri":"http://x/1"}`),
		"héllo ✓ 𝄞": md5hex("héllo ✓ 𝄞"),
	} {
		if got := *send(t, b, url, body).MD5OfMessageBody; got != want {
			t.Errorf("md5(%q) = %s, want %s", body, got, want)
		}
	}
	attrs := map[string]sqstypes.MessageAttributeValue{
		"media_type": {DataType: aws.String("String"), StringValue: aws.String("application/vnd.globality.pubsub._.created.foo")},
		"count":      {DataType: aws.String("Number"), StringValue: aws.String("42")},
		"blob":       {DataType: aws.String("Binary"), BinaryValue: []byte{0, 1, 2, 255}},
		"custom":     {DataType: aws.String("String.custom"), StringValue: aws.String("ü")},
	}
	out, err := b.SQS().SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("x"), MessageAttributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	if want := attrMD5(attrs); *out.MD5OfMessageAttributes != want {
		t.Fatalf("MD5OfMessageAttributes %s, want %s", *out.MD5OfMessageAttributes, want)
	}
	// A single String attribute, computed by hand: 0000000a "media_type" 00000006 "String" 01 00000003 "foo".
	one := map[string]sqstypes.MessageAttributeValue{"media_type": {DataType: aws.String("String"), StringValue: aws.String("foo")}}
	raw := "\x00\x00\x00\x0amedia_type\x00\x00\x00\x06String\x01\x00\x00\x00\x03foo"
	out, err = b.SQS().SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("x"), MessageAttributes: one})
	if err != nil {
		t.Fatal(err)
	}
	if *out.MD5OfMessageAttributes != md5hex(raw) {
		t.Fatalf("single attribute digest %s, want %s", *out.MD5OfMessageAttributes, md5hex(raw))
	}
	// Received messages carry the same digests.
	for _, m := range recv(t, b, url, 10) {
		if *m.MD5OfBody != md5hex(*m.Body) {
			t.Errorf("MD5OfBody of %q", *m.Body)
		}
		if m.MessageAttributes != nil && *m.MD5OfMessageAttributes != attrMD5(m.MessageAttributes) {
			t.Errorf("MD5OfMessageAttributes on receive")
		}
	}
}
