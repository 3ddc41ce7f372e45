package faults

import (
	"context"
	"net"
	"strings"
	"testing"
)

// TestConnTracerSeparatesHarmlessWrites: a write that sends nothing on a connection this process
// closed is a note (the request never left); a read on a locally closed connection is an event.
func TestConnTracerSeparatesHarmlessWrites(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 2)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	tracer := NewConnTracer(10)
	var d net.Dialer
	dial := tracer.TraceDial(d.DialContext)

	c, err := dial(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	peer := <-accepted
	defer peer.Close()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Write([]byte("GET / HTTP/1.1\r\n")); err == nil || n != 0 {
		t.Fatalf("write on a closed conn: %d, %v", n, err)
	}
	if notes, events := tracer.Notes(), tracer.Events(); len(notes) != 1 || len(events) != 0 {
		t.Fatalf("after a write on a closed conn: notes %q, events %q; want one note", notes, events)
	}
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("read on a closed conn succeeded")
	}
	events := tracer.Events()
	if len(events) != 1 || !strings.Contains(events[0], "closed locally") {
		t.Fatalf("after a read on a closed conn: events %q; want one naming the local close", events)
	}
}
