package fxpubsub

import (
	"testing"
	"time"
)

// The zero DaemonOptions get the documented defaults; values that are set stay; a heartbeat
// threshold outside (0, 1) falls back to 0.5.
func TestDaemonOptionsDefaults(t *testing.T) {
	var o DaemonOptions
	o.defaults()
	if o.Receivers != 4 || o.Concurrency != 64 || o.FlushInterval != 50*time.Millisecond || o.MaxBatchCalls != 8 ||
		o.MaxAttempts != 5 || o.HeartbeatThreshold != 0.5 || o.DrainTimeout != 10*time.Second || o.Logger == nil {
		t.Errorf("defaults = %+v", o)
	}
	set := DaemonOptions{Receivers: 1, Concurrency: 2, FlushInterval: time.Second, MaxBatchCalls: 3, MaxAttempts: 4, HeartbeatThreshold: 0.8, DrainTimeout: time.Minute}
	want := set
	set.defaults()
	if set.Receivers != want.Receivers || set.Concurrency != want.Concurrency || set.FlushInterval != want.FlushInterval ||
		set.MaxBatchCalls != want.MaxBatchCalls || set.MaxAttempts != want.MaxAttempts || set.HeartbeatThreshold != want.HeartbeatThreshold ||
		set.DrainTimeout != want.DrainTimeout {
		t.Errorf("set options changed: %+v, want %+v", set, want)
	}
	for _, bad := range []float64{-1, 1, 2} {
		o := DaemonOptions{HeartbeatThreshold: bad}
		o.defaults()
		if o.HeartbeatThreshold != 0.5 {
			t.Errorf("HeartbeatThreshold %v became %v, want 0.5", bad, o.HeartbeatThreshold)
		}
	}
}
