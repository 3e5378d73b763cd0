package main

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// TestDebouncer checks that a burst of kicks gives one run after the
// quiet period, that a kick after a run gives another, that an endless
// stream of kicks still runs by maxWait, and that nothing runs without a
// kick.
func TestDebouncer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var runs atomic.Int32
	done := make(chan struct{}, 10)
	d := startDebouncer(ctx, 50*time.Millisecond, 400*time.Millisecond, func(context.Context) {
		runs.Add(1)
		done <- struct{}{}
	})
	wait := func(what string) {
		t.Helper()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no run within 5 s", what)
		}
	}
	time.Sleep(120 * time.Millisecond)
	if n := runs.Load(); n != 0 {
		t.Fatalf("%d runs before any kick; want none", n)
	}
	for i := 0; i < 20; i++ {
		d.Kick()
	}
	wait("burst")
	time.Sleep(150 * time.Millisecond)
	if n := runs.Load(); n != 1 {
		t.Fatalf("a burst of 20 kicks gave %d runs; want 1", n)
	}
	d.Kick()
	wait("second kick")
	// Kicks every 20 ms never leave 50 ms of quiet: maxWait must fire.
	stop := time.After(1500 * time.Millisecond)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	before := runs.Load()
kicking:
	for {
		select {
		case <-tick.C:
			d.Kick()
		case <-stop:
			break kicking
		}
	}
	if n := runs.Load() - before; n < 1 {
		t.Errorf("1.5 s of kicks every 20 ms gave %d runs; want at least one (maxWait 400 ms)", n)
	}
	var nilD *debouncer
	nilD.Kick() // a server without a rebuilder must not panic
}
