package pubsubmem

import (
	"encoding/base64"
	"sort"
	"time"
	"unicode/utf8"

	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// envelope is an SNS notification as delivered to an SQS queue without raw delivery.
type envelope struct {
	msgID, seqNum, topicARN, subject, message, timestamp, region, subARN string
	attrs                                                                map[string]snstypes.MessageAttributeValue
}

// snsTimestamp formats the envelope Timestamp: RFC 3339, UTC, milliseconds.
func snsTimestamp(nanos int64) string {
	return time.Unix(0, nanos).UTC().Format("2006-01-02T15:04:05.000Z")
}

// appendEnvelope appends the notification JSON, with the keys in the order AWS and fauxqs use:
// Type, MessageId, SequenceNumber (FIFO), TopicArn, Subject (if any), Message, Timestamp,
// SignatureVersion, Signature, SigningCertURL, UnsubscribeURL, MessageAttributes (if any; Binary
// values base64).
func appendEnvelope(dst []byte, e *envelope) []byte {
	dst = append(dst, `{"Type":"Notification","MessageId":`...)
	dst = appendJSONString(dst, e.msgID)
	if e.seqNum != "" {
		dst = append(dst, `,"SequenceNumber":`...)
		dst = appendJSONString(dst, e.seqNum)
	}
	dst = append(dst, `,"TopicArn":`...)
	dst = appendJSONString(dst, e.topicARN)
	if e.subject != "" {
		dst = append(dst, `,"Subject":`...)
		dst = appendJSONString(dst, e.subject)
	}
	dst = append(dst, `,"Message":`...)
	dst = appendJSONString(dst, e.message)
	dst = append(dst, `,"Timestamp":`...)
	dst = appendJSONString(dst, e.timestamp)
	dst = append(dst, `,"SignatureVersion":"1","Signature":"EXAMPLE","SigningCertURL":`...)
	dst = appendJSONString(dst, "https://sns."+e.region+".amazonaws.com/SimpleNotificationService-0000000000000000000000.pem")
	dst = append(dst, `,"UnsubscribeURL":`...)
	dst = appendJSONString(dst, "https://sns."+e.region+".amazonaws.com/?Action=Unsubscribe&SubscriptionArn="+e.subARN)
	if len(e.attrs) > 0 {
		names := make([]string, 0, len(e.attrs))
		for name := range e.attrs {
			names = append(names, name)
		}
		sort.Strings(names)
		dst = append(dst, `,"MessageAttributes":{`...)
		for i, name := range names {
			if i > 0 {
				dst = append(dst, ',')
			}
			a := e.attrs[name]
			dst = appendJSONString(dst, name)
			dst = append(dst, `:{"Type":`...)
			dt := ""
			if a.DataType != nil {
				dt = *a.DataType
			}
			dst = appendJSONString(dst, dt)
			dst = append(dst, `,"Value":`...)
			if baseType(dt) == "Binary" {
				dst = appendJSONString(dst, base64.StdEncoding.EncodeToString(a.BinaryValue))
			} else if a.StringValue != nil {
				dst = appendJSONString(dst, *a.StringValue)
			} else {
				dst = append(dst, `""`...)
			}
			dst = append(dst, '}')
		}
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

// appendJSONString appends s as a JSON string. Unlike encoding/json it does not escape <, > and &
// (neither does SNS); invalid UTF-8 becomes U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	const hexdigits = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				dst = append(dst, s[start:i]...)
				dst = append(dst, `\ufffd`...)
				i += n
				start = i
				continue
			}
			i += n
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"':
			dst = append(dst, '\\', '"')
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexdigits[c>>4], hexdigits[c&0xf])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
