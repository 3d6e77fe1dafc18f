package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestDevInstancesDir(t *testing.T) {
	for state, want := range map[string]string{
		".governor/dev/etcd":  ".governor/dev/instances",
		".governor/dev/etcd/": ".governor/dev/instances",
		"/var/lib/gov/etcd":   "/var/lib/gov/instances",
		"":                    "",
	} {
		if got := devInstancesDir(state); got != want {
			t.Errorf("devInstancesDir(%q) = %q, want %q", state, got, want)
		}
	}
}

func TestWaitReadyWaitsForReadyz(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" || calls.Add(1) < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	select {
	case <-waitReady(context.Background(), strings.TrimPrefix(srv.URL, "http://"), 10*time.Second):
	case <-time.After(10 * time.Second):
		t.Fatal("waitReady did not return once /readyz answered 200")
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("/readyz was asked %d times, want until its first 200 (3)", n)
	}
	select {
	case <-waitReady(context.Background(), "0", time.Minute):
	case <-time.After(time.Second):
		t.Error("with probes disabled, waitReady waited")
	}
}
