package retool_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/governor-dev/governor/internal/platform/emulator"
	"github.com/governor-dev/governor/internal/platform/retool"
	"github.com/governor-dev/governor/internal/platform/retool/retooltest"
)

// clock is a virtual clock shared by a client and an emulator: sleeping
// advances it at once.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.t = c.t.Add(d)
	}
	return nil
}

const adminToken = "admin-token"

type fixture struct {
	emu       *emulator.Server
	srv       *httptest.Server
	transport *retooltest.Transport
	client    *retool.Client
}

// newFixture serves an emulator (unlimited unless emu says) and a client of
// its admin Space, every exchange validated against openapi.yaml.
func newFixture(t *testing.T, emu emulator.Options, opts retool.Options) *fixture {
	t.Helper()
	if emu.Token == "" {
		emu.Token = adminToken
	}
	f := &fixture{emu: emulator.New(emu)}
	f.srv = httptest.NewServer(f.emu)
	t.Cleanup(f.srv.Close)
	f.transport = retooltest.ValidatingTransport(t, nil)
	f.client = f.newClient(t, opts)
	return f
}

func (f *fixture) newClient(t *testing.T, opts retool.Options) *retool.Client {
	t.Helper()
	if opts.URL == "" {
		opts.URL = f.srv.URL
	}
	if opts.Token == "" {
		opts.Token = adminToken
	}
	if opts.RequestsPerMinute == 0 {
		opts.RequestsPerMinute = -1
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Transport: f.transport}
	}
	c, err := retool.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func ptr[T any](v T) *T { return &v }
