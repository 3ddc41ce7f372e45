package pubsubmem

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
)

// md5Hex is the MD5OfMessageBody / MD5OfBody value: the hex MD5 of the body's UTF-8 bytes.
func md5Hex(s string) string {
	return hexString(md5.Sum([]byte(s)))
}

func hexString(sum [md5.Size]byte) string {
	var buf [2 * md5.Size]byte
	hex.Encode(buf[:], sum[:])
	return string(buf[:])
}

// attributesMD5 is the MD5OfMessageAttributes value, computed as SQS does: for each attribute in
// ascending order of name, the name, the DataType and the value are each encoded as a 4-byte
// big-endian length followed by their bytes, with a transport byte before the value (1 for a
// StringValue, 2 for a BinaryValue). The digest of the concatenation is hex encoded. Only attributes
// that keep accepts count (all if keep is nil); it returns "" if none does.
func attributesMD5(attrs msgAttrs, keep func(string) bool) string {
	var stack [512]byte
	buf := stack[:0]
	for i := range attrs { // attrs is sorted by name
		a := &attrs[i]
		if keep != nil && !keep(a.name) {
			continue
		}
		buf = appendLenPrefixed(buf, a.name)
		buf = appendLenPrefixed(buf, a.dataType)
		if a.binary {
			buf = append(buf, 2)
			buf = binary.BigEndian.AppendUint32(buf, uint32(len(a.bin)))
			buf = append(buf, a.bin...)
		} else {
			buf = append(buf, 1)
			buf = appendLenPrefixed(buf, a.str)
		}
	}
	if len(buf) == 0 {
		return ""
	}
	return hexString(md5.Sum(buf))
}

func appendLenPrefixed(buf []byte, s string) []byte {
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(s)))
	return append(buf, s...)
}
