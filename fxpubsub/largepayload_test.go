package fxpubsub

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

func TestParsePayloadPointerForms(t *testing.T) {
	want := PayloadPointer{Bucket: "my-bucket", Key: "4c3b1b52-5f0e-4e3a-9a53-2b1c4f7d9e10"}
	for name, body := range map[string]string{
		"java compact":        `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"my-bucket","s3Key":"4c3b1b52-5f0e-4e3a-9a53-2b1c4f7d9e10"}]`,
		"python json.dumps":   `["software.amazon.payloadoffloading.PayloadS3Pointer", {"s3BucketName": "my-bucket", "s3Key": "4c3b1b52-5f0e-4e3a-9a53-2b1c4f7d9e10"}]`,
		"legacy class":        `["com.amazon.sqs.javamessaging.MessageS3Pointer",{"s3BucketName":"my-bucket","s3Key":"4c3b1b52-5f0e-4e3a-9a53-2b1c4f7d9e10"}]`,
		"keys reversed":       `[ "software.amazon.payloadoffloading.PayloadS3Pointer" , { "s3Key" : "4c3b1b52-5f0e-4e3a-9a53-2b1c4f7d9e10" , "s3BucketName" : "my-bucket" } ]`,
		"newlines and extras": "\n[\"software.amazon.payloadoffloading.PayloadS3Pointer\",\n {\"s3BucketName\":\"my-bucket\",\"s3Key\":\"4c3b1b52-5f0e-4e3a-9a53-2b1c4f7d9e10\",\"extra\":1}]\n",
	} {
		got, err := ParsePayloadPointer([]byte(body))
		if err != nil || got != want {
			t.Errorf("%s: got %+v, %v; want %+v", name, got, err, want)
		}
		if !looksLikePointer([]byte(body)) {
			t.Errorf("%s: looksLikePointer false", name)
		}
	}
}

func TestParsePayloadPointerMalformed(t *testing.T) {
	for _, body := range []string{
		``, `{}`, `[]`, `null`, `"x"`,
		`["software.amazon.payloadoffloading.PayloadS3Pointer"]`,
		`["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"k"},3]`,
		`["some.other.Class",{"s3BucketName":"b","s3Key":"k"}]`,
		`[1,{"s3BucketName":"b","s3Key":"k"}]`,
		`["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3Key":"k"}]`,
		`["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b"}]`,
		`["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"","s3Key":"k"}]`,
		`["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":7}]`,
		`["software.amazon.payloadoffloading.PayloadS3Pointer",["b","k"]]`,
		`["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"k"}`,
	} {
		_, err := ParsePayloadPointer([]byte(body))
		var pe *PayloadError
		if !errors.As(err, &pe) || pe.Op != PayloadMalformed {
			t.Errorf("%q: got %v, want a *PayloadError with Op %q", body, err, PayloadMalformed)
			continue
		}
		if !strings.Contains(err.Error(), "malformed pointer") {
			t.Errorf("%q: error %q does not say what is wrong", body, err)
		}
	}
}

// What we write has the extended clients' shape: a two-element array, the current class name and
// exactly the keys s3BucketName and s3Key; it parses back to the same pointer, also with keys that
// need escaping.
func TestPayloadPointerBodyShape(t *testing.T) {
	for _, p := range []PayloadPointer{{Bucket: "b", Key: "k"}, {Bucket: "my-bucket", Key: `pre/fix "quoted" \ é`}} {
		body := p.Body()
		var parts []any
		if err := json.Unmarshal([]byte(body), &parts); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		want := []any{PayloadPointerClass, map[string]any{"s3BucketName": p.Bucket, "s3Key": p.Key}}
		if !reflect.DeepEqual(parts, want) {
			t.Errorf("body %s parses to %v, want %v", body, parts, want)
		}
		if got, err := ParsePayloadPointer([]byte(body)); err != nil || got != p {
			t.Errorf("round trip of %+v: %+v, %v", p, got, err)
		}
	}
	if got := (PayloadPointer{Bucket: "b", Key: "k"}).Body(); got != `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"k"}]` {
		t.Errorf("compact form: %s", got)
	}
}

func TestPointerAttributes(t *testing.T) {
	caller := map[string]snstypes.MessageAttributeValue{MediaTypeAttribute: {DataType: aws.String("String"), StringValue: aws.String("application/x")}}
	got, err := pointerAttributes(caller, 1048576)
	if err != nil {
		t.Fatal(err)
	}
	size := got[ExtendedPayloadSizeAttribute]
	if aws.ToString(size.DataType) != "Number" || aws.ToString(size.StringValue) != "1048576" || len(got) != 2 {
		t.Errorf("attributes %v: want media_type and ExtendedPayloadSize Number 1048576", got)
	}
	if aws.ToString(got[MediaTypeAttribute].StringValue) != "application/x" {
		t.Errorf("media_type lost: %v", got)
	}
	nine := map[string]snstypes.MessageAttributeValue{}
	for i := range 9 {
		nine[string(rune('a'+i))] = snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String("v")}
	}
	if _, err := pointerAttributes(nine, 1); err != nil {
		t.Errorf("9 caller attributes: %v, want accepted", err)
	}
	nine["j"] = nine["a"]
	var pe *PayloadError
	if _, err := pointerAttributes(nine, 1); !errors.As(err, &pe) || pe.Op != PayloadAttributes {
		t.Errorf("10 caller attributes: %v, want a *PayloadError %q", err, PayloadAttributes)
	}
	if got := attributesSize(caller); got != len(MediaTypeAttribute)+len("String")+len("application/x") {
		t.Errorf("attributesSize = %d", got)
	}
}
