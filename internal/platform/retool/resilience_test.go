package retool_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/governor-dev/governor/internal/platform/emulator"
	"github.com/governor-dev/governor/internal/platform/retool"
)

// attempts counts the client's attempts by path template and code.
type attempts struct {
	mu    sync.Mutex
	codes []int
}

func (a *attempts) observe(_, _ string, code int, _ time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.codes = append(a.codes, code)
}

func (a *attempts) list() []int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]int(nil), a.codes...)
}

func TestBudgetIsNeverExceeded(t *testing.T) {
	clk := newClock()
	f := newFixture(t, emulator.Options{Now: clk.Now}, retool.Options{})
	c := f.newClient(t, retool.Options{RequestsPerMinute: retool.DefaultRequestsPerMinute})
	retool.SetClock(c, clk.Now, clk.Sleep)
	start := clk.Now()
	for range 200 {
		if _, err := c.ListGroups(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	st := f.emu.Stats()
	if st.Total() != 200 || st.MaxPerMinute > retool.DefaultRequestsPerMinute {
		t.Errorf("%d requests, at most %d in a minute; want 200 and at most %d", st.Total(), st.MaxPerMinute, retool.DefaultRequestsPerMinute)
	}
	if st.MaxPerMinute < retool.DefaultRequestsPerMinute-1 {
		t.Errorf("at most %d requests in a minute: the budget is not used", st.MaxPerMinute)
	}
	// 200 requests at 45 a minute: the first at once, then one every 4/3 s.
	if elapsed, want := clk.Now().Sub(start), 199*time.Minute/45; elapsed < want-time.Second || elapsed > want+time.Second {
		t.Errorf("200 requests took %v of budget, want about %v", elapsed, want)
	}
}

func TestRateLimitStormHonoursRetryAfter(t *testing.T) {
	clk := newClock()
	f := newFixture(t, emulator.Options{Now: clk.Now, RequestsPerMinute: 20}, retool.Options{})
	var obs attempts
	c := f.newClient(t, retool.Options{RequestsPerMinute: retool.DefaultRequestsPerMinute, Observe: obs.observe})
	retool.SetClock(c, clk.Now, clk.Sleep)
	for i := range 100 {
		if _, err := c.GetGroup(context.Background(), 1); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	st := f.emu.Stats()
	if st.Throttled == 0 {
		t.Fatal("the storm was never throttled: the test proves nothing")
	}
	// Honouring Retry-After, a 429 is followed by a wait until the window
	// has room: about one 429 per minute-window of 20 requests. Ignoring it
	// would burn the attempts on 429s.
	if st.Throttled > 100/20+1 {
		t.Errorf("%d requests were throttled, want at most %d (Retry-After honoured)", st.Throttled, 100/20+1)
	}
	if st.MaxPerMinute > retool.DefaultRequestsPerMinute {
		t.Errorf("%d requests in a minute, over the budget of %d", st.MaxPerMinute, retool.DefaultRequestsPerMinute)
	}
	if n := len(obs.list()); n != 100+st.Throttled {
		t.Errorf("observed %d attempts, want %d", n, 100+st.Throttled)
	}
}

func TestRateLimitedAfterTheAttemptsSaysSo(t *testing.T) {
	clk := newClock()
	f := newFixture(t, emulator.Options{Now: clk.Now, RequestsPerMinute: 1}, retool.Options{})
	c := f.newClient(t, retool.Options{MaxAttempts: 1})
	retool.SetClock(c, clk.Now, clk.Sleep)
	if _, err := c.ListGroups(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, err := c.ListGroups(context.Background())
	var ae *retool.APIError
	if !retool.IsRateLimited(err) || !errors.As(err, &ae) || ae.RetryAfter < 59*time.Second || ae.RetryAfter > time.Minute {
		t.Errorf("err = %v (%+v), want 429 with Retry-After about a minute", err, ae)
	}
}

// flaky answers the first n requests with status, then proxies to next.
func flaky(t *testing.T, n int32, status int, header http.Header, next http.Handler) *httptest.Server {
	var seen atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if seen.Add(1) <= n {
			for k, v := range header {
				w.Header()[k] = v
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"success":false,"message":"try again"}`))
			return
		}
		next.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRetryAfterHTTPDate(t *testing.T) {
	clk := newClock()
	f := newFixture(t, emulator.Options{}, retool.Options{})
	h := http.Header{"Retry-After": {clk.Now().Add(90 * time.Second).Format(http.TimeFormat)}}
	srv := flaky(t, 1, http.StatusTooManyRequests, h, f.emu)
	var slept []time.Duration
	c := f.newClient(t, retool.Options{URL: srv.URL})
	retool.SetClock(c, clk.Now, func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil })
	if _, err := c.ListGroups(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(slept) != 1 || slept[0] != 90*time.Second {
		t.Errorf("slept %v, want [1m30s] (the Retry-After date)", slept)
	}
}

func TestServerErrorsRetriedOnlyWhenIdempotent(t *testing.T) {
	clk := newClock()
	f := newFixture(t, emulator.Options{}, retool.Options{})
	srv := flaky(t, 2, http.StatusServiceUnavailable, nil, f.emu)
	var obs attempts
	c := f.newClient(t, retool.Options{URL: srv.URL, Observe: obs.observe})
	retool.SetClock(c, clk.Now, clk.Sleep)
	if _, err := c.ListGroups(context.Background()); err != nil {
		t.Fatalf("a GET after two 503s: %v", err)
	}
	if got := obs.list(); len(got) != 3 || got[0] != 503 || got[2] != 200 {
		t.Errorf("attempts %v, want 503 503 200", got)
	}

	srv = flaky(t, 1, http.StatusBadGateway, nil, f.emu)
	obs = attempts{}
	c = f.newClient(t, retool.Options{URL: srv.URL, Observe: obs.observe})
	retool.SetClock(c, clk.Now, clk.Sleep)
	_, err := c.CreateGroup(context.Background(), retool.GroupCreate{Name: "once"})
	if err == nil || !strings.Contains(err.Error(), "502") || len(obs.list()) != 1 {
		t.Errorf("POST /groups after a 502: err = %v after %d attempts; want the 502 after one (creating is not idempotent)", err, len(obs.list()))
	}
}

func TestClientErrorsAreNotRetried(t *testing.T) {
	f := newFixture(t, emulator.Options{}, retool.Options{})
	var obs attempts
	c := f.newClient(t, retool.Options{Observe: obs.observe})
	_, err := c.GetGroup(context.Background(), 12345)
	var ae *retool.APIError
	if !errors.As(err, &ae) || ae.Status != 404 || ae.Method != "GET" || ae.Path != "/api/v2/groups/12345" || ae.Message != "Group 12345 not found" {
		t.Fatalf("err = %#v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "404 Not Found") || !strings.Contains(msg, "GET /api/v2/groups/12345") || !strings.Contains(msg, "Group 12345 not found") {
		t.Errorf("Error() = %q, want the status, the call and Retool's message", msg)
	}
	bad := f.newClient(t, retool.Options{Token: "wrong", Observe: obs.observe})
	if _, err := bad.ListGroups(context.Background()); !retool.IsUnauthorized(err) {
		t.Errorf("err = %v, want 401", err)
	}
	if got := obs.list(); len(got) != 2 || got[0] != 404 || got[1] != 401 {
		t.Errorf("attempts %v, want one 404 and one 401", got)
	}
}

func TestAttemptTimeout(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })
	var obs attempts
	c, err := retool.New(retool.Options{URL: slow.URL, Token: "t", RequestsPerMinute: -1, Timeout: 50 * time.Millisecond, MaxAttempts: 2, Observe: obs.observe})
	if err != nil {
		t.Fatal(err)
	}
	clk := newClock()
	retool.SetClock(c, clk.Now, clk.Sleep)
	start := time.Now()
	_, err = c.ListGroups(context.Background())
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), slow.URL) {
		t.Errorf("err = %v, want a deadline naming the URL", err)
	}
	if got := obs.list(); len(got) != 2 || got[0] != 0 {
		t.Errorf("attempts %v, want two transport failures", got)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("two attempts of 50ms took %v", d)
	}
}

func TestContextCancelledWhileBackingOff(t *testing.T) {
	f := newFixture(t, emulator.Options{}, retool.Options{})
	srv := flaky(t, 100, http.StatusTooManyRequests, http.Header{"Retry-After": {"3600"}}, f.emu)
	c := f.newClient(t, retool.Options{URL: srv.URL})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.ListGroups(ctx)
	if !retool.IsRateLimited(err) || time.Since(start) > 2*time.Second {
		t.Errorf("err = %v after %v; want the 429 at once (waiting an hour cannot fit the deadline)", err, time.Since(start))
	}
	ctx, cancel = context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	srv = flaky(t, 100, http.StatusTooManyRequests, http.Header{"Retry-After": {"3600"}}, f.emu)
	c = f.newClient(t, retool.Options{URL: srv.URL})
	start = time.Now()
	if _, err := c.ListGroups(ctx); !errors.Is(err, context.Canceled) || time.Since(start) > 2*time.Second {
		t.Errorf("err = %v after %v; want cancelled promptly", err, time.Since(start))
	}
}

func TestTransportErrorsNameTheURL(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var obs attempts
	c, err := retool.New(retool.Options{URL: "http://" + addr, Domain: "finance.example.com", Token: "t", RequestsPerMinute: -1, MaxAttempts: 3, Observe: obs.observe})
	if err != nil {
		t.Fatal(err)
	}
	clk := newClock()
	retool.SetClock(c, clk.Now, clk.Sleep)
	_, err = c.ListApps(context.Background())
	if err == nil || !strings.Contains(err.Error(), "http://"+addr+"/api/v2/apps") || !strings.Contains(err.Error(), "finance.example.com") {
		t.Errorf("err = %v, want the URL and the Host", err)
	}
	if n := len(obs.list()); n != 3 {
		t.Errorf("%d attempts, want 3", n)
	}
}

func TestNewValidatesOptions(t *testing.T) {
	for _, o := range []retool.Options{
		{URL: "retool.example.com", Token: "t"},
		{URL: "ftp://retool.example.com", Token: "t"},
		{URL: "https://retool.example.com"},
	} {
		if _, err := retool.New(o); err == nil {
			t.Errorf("New(%+v) succeeded", o)
		}
	}
	c, err := retool.New(retool.Options{URL: "https://retool.example.com/base/", Token: "t"})
	if err != nil || c.Domain() != "retool.example.com" {
		t.Errorf("New: %v, domain %q", err, c.Domain())
	}
}
