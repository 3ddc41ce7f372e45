package fxpubsub

import (
	"fmt"
	"testing"
)

func TestFIFOChains(t *testing.T) {
	msg := func(id, group string) *Message { return &Message{MessageID: id, MessageGroupID: group} }
	msgs := []*Message{msg("a1", "a"), msg("b1", "b"), msg("a2", "a"), msg("x", ""), msg("a3", "a"), msg("y", ""), msg("b2", "b")}
	var got []string
	for _, chain := range fifoChains(msgs) {
		var ids []string
		for _, m := range chain {
			ids = append(ids, m.MessageID)
		}
		got = append(got, fmt.Sprint(ids))
	}
	if want := "[[a1 a2 a3] [b1 b2] [x] [y]]"; fmt.Sprint(got) != want {
		t.Errorf("fifoChains = %v, want %v", got, want)
	}
	if len(fifoChains(nil)) != 0 {
		t.Error("chains from no messages")
	}
}
