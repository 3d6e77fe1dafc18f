package retool

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// Defaults of Options.
const (
	DefaultRequestsPerMinute = 45
	DefaultTimeout           = 30 * time.Second
	DefaultMaxAttempts       = 5
)

const (
	apiPrefix   = "/api/v2"
	pageSize    = 100
	backoffBase = 500 * time.Millisecond
	backoffMax  = 30 * time.Second
	maxBody     = 32 << 20
)

// Options configure a Client.
type Options struct {
	// URL is the instance's base URL (https://retool.example.com); the API is
	// under /api/v2.
	URL string
	// Domain is sent as the Host header, selecting the Space; default the
	// host of URL.
	Domain string
	// Token is the Space's API token (Settings > API).
	Token string
	// RequestsPerMinute is the request budget (default 45; negative:
	// unlimited). Requests are spaced evenly: no minute ever holds more.
	RequestsPerMinute int
	// Limiter, when set, is the request budget instead of RequestsPerMinute:
	// clients of the Spaces of one instance share the instance's budget.
	Limiter *rate.Limiter
	// Timeout bounds each attempt (default 30s).
	Timeout time.Duration
	// MaxAttempts bounds the attempts of one call (default 5).
	MaxAttempts int
	// HTTPClient sends the requests (default a new http.Client).
	HTTPClient *http.Client
	// Observe, if set, is called after each attempt with the method, the
	// path template (/groups/{groupId}), the status (0 on a transport error)
	// and the attempt's duration.
	Observe func(method, pathTemplate string, code int, d time.Duration)
}

// Client calls one Space of a Retool instance. It is safe for concurrent use.
type Client struct {
	base        *url.URL
	host        string
	token       string
	limiter     *rate.Limiter
	timeout     time.Duration
	maxAttempts int
	hc          *http.Client
	observe     func(string, string, int, time.Duration)

	// now and sleep are the clock; tests replace them.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

// New returns a client of the Space at opts.URL (Host opts.Domain).
func New(opts Options) (*Client, error) {
	u, err := url.Parse(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("retool: url %q: %w", opts.URL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("retool: url %q: want http(s)://host", opts.URL)
	}
	if opts.Token == "" {
		return nil, errors.New("retool: token is empty")
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + apiPrefix
	u.RawQuery, u.Fragment = "", ""
	c := &Client{
		base:        u,
		host:        opts.Domain,
		token:       opts.Token,
		timeout:     opts.Timeout,
		maxAttempts: opts.MaxAttempts,
		hc:          opts.HTTPClient,
		observe:     opts.Observe,
		now:         time.Now,
		sleep:       sleepCtx,
	}
	if c.host == "" {
		c.host = u.Host
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.maxAttempts <= 0 {
		c.maxAttempts = DefaultMaxAttempts
	}
	if c.hc == nil {
		c.hc = &http.Client{}
	}
	rpm := opts.RequestsPerMinute
	if rpm == 0 {
		rpm = DefaultRequestsPerMinute
	}
	switch {
	case opts.Limiter != nil:
		c.limiter = opts.Limiter
	case rpm > 0:
		c.limiter = NewLimiter(rpm)
	}
	return c, nil
}

// NewLimiter returns a request budget of rpm requests a minute, spaced evenly.
func NewLimiter(rpm int) *rate.Limiter { return rate.NewLimiter(rate.Limit(float64(rpm)/60), 1) }

// Domain is the Space's domain (the Host header the client sends).
func (c *Client) Domain() string { return c.host }

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// wait takes one request from the budget.
func (c *Client) wait(ctx context.Context) error {
	if c.limiter == nil {
		return ctx.Err()
	}
	now := c.now()
	r := c.limiter.ReserveN(now, 1)
	if err := c.sleep(ctx, r.DelayFrom(now)); err != nil {
		r.CancelAt(c.now())
		return err
	}
	return nil
}

// call is one API call: the method, the path template and its values, the
// query, the body, and whether it may be repeated after a 5xx or a transport
// error (a 429 is always retried: Retool did not act on it).
type call struct {
	method     string
	template   string
	args       []string
	query      url.Values
	body       any
	idempotent bool
}

// envelope is Retool's answer: {success, data, total_count, next_token,
// has_more} or {success: false, message}.
type envelope struct {
	Success    bool            `json:"success"`
	Message    string          `json:"message"`
	Data       json.RawMessage `json:"data"`
	TotalCount *int            `json:"total_count"`
	NextToken  *string         `json:"next_token"`
	HasMore    bool            `json:"has_more"`
}

func (c *Client) path(cl call) string {
	p := cl.template
	for i, a := range cl.args {
		start := strings.IndexByte(p, '{')
		end := strings.IndexByte(p, '}')
		if start < 0 || end < start {
			panic(fmt.Sprintf("retool: template %s has fewer than %d parameters", cl.template, i+1))
		}
		p = p[:start] + a + p[end+1:]
	}
	return p
}

// do runs a call with the budget and the retries, and decodes data into out
// (when out is not nil). It returns the envelope.
func (c *Client) do(ctx context.Context, cl call, out any) (*envelope, error) {
	var body []byte
	if cl.body != nil {
		b, err := json.Marshal(cl.body)
		if err != nil {
			return nil, fmt.Errorf("retool %s %s: encode body: %w", cl.method, cl.template, err)
		}
		body = b
	}
	u := *c.base
	u.Path += c.path(cl)
	u.RawPath = ""
	u.RawQuery = cl.query.Encode()
	var lastErr error
	for attempt := 1; ; attempt++ {
		if err := c.wait(ctx); err != nil {
			if lastErr != nil {
				return nil, fmt.Errorf("%w (gave up: %w)", lastErr, err)
			}
			return nil, fmt.Errorf("retool %s %s: %w", cl.method, u.Path, err)
		}
		env, retryAfter, err := c.attempt(ctx, cl, &u, body)
		if err == nil {
			if out != nil && len(env.Data) > 0 && string(env.Data) != "null" {
				if err := json.Unmarshal(env.Data, out); err != nil {
					return nil, fmt.Errorf("retool %s %s: decode data: %w", cl.method, u.Path, err)
				}
			}
			return env, nil
		}
		lastErr = err
		if ctx.Err() != nil || attempt >= c.maxAttempts || !retryable(err, cl.idempotent) {
			return nil, err
		}
		delay := retryAfter
		if delay <= 0 {
			delay = backoff(attempt)
		}
		if dl, ok := ctx.Deadline(); ok && c.now().Add(delay).After(dl) {
			return nil, err
		}
		if serr := c.sleep(ctx, delay); serr != nil {
			return nil, fmt.Errorf("%w (gave up: %w)", err, serr)
		}
	}
}

// backoff is the wait before attempt n+1: exponential with jitter.
func backoff(n int) time.Duration {
	d := backoffBase << min(n-1, 10)
	if d > backoffMax {
		d = backoffMax
	}
	half := d / 2
	return half + rand.N(half+1)
}

func retryable(err error, idempotent bool) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		if ae.Status == http.StatusTooManyRequests {
			return true
		}
		return idempotent && ae.Status >= 500
	}
	return idempotent // a transport error
}

// attempt sends the request once.
func (c *Client) attempt(ctx context.Context, cl call, u *url.URL, body []byte) (*envelope, time.Duration, error) {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(actx, cl.method, u.String(), rd)
	if err != nil {
		return nil, 0, fmt.Errorf("retool %s %s: %w", cl.method, u.Path, err)
	}
	req.Host = c.host
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.observed(cl, 0, start)
		return nil, 0, fmt.Errorf("retool %s %s (Host %s): %w", cl.method, u.Redacted(), c.host, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	c.observed(cl, resp.StatusCode, start)
	if err != nil {
		return nil, 0, fmt.Errorf("retool %s %s (Host %s): read body: %w", cl.method, u.Redacted(), c.host, err)
	}
	if resp.StatusCode >= 300 {
		ae := &APIError{Status: resp.StatusCode, Method: cl.method, Path: u.Path, Message: errorMessage(raw)}
		ae.RetryAfter = c.retryAfter(resp.Header.Get("Retry-After"))
		return nil, ae.RetryAfter, ae
	}
	env := &envelope{}
	if resp.StatusCode == http.StatusNoContent || len(bytes.TrimSpace(raw)) == 0 {
		return env, 0, nil
	}
	if err := json.Unmarshal(raw, env); err != nil {
		return nil, 0, fmt.Errorf("retool %s %s: %d answer is not JSON: %w", cl.method, u.Path, resp.StatusCode, err)
	}
	return env, 0, nil
}

func (c *Client) observed(cl call, code int, start time.Time) {
	if c.observe != nil {
		c.observe(cl.method, cl.template, code, time.Since(start))
	}
}

// errorMessage is Retool's message, or the start of a body that is not
// Retool's error JSON (a proxy's page).
func errorMessage(raw []byte) string {
	var e struct {
		Message string `json:"message"`
		Error   string `json:"error"`
	}
	if json.Unmarshal(raw, &e) == nil {
		if e.Message != "" {
			return e.Message
		}
		if e.Error != "" {
			return e.Error
		}
	}
	s := strings.TrimSpace(string(raw))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// retryAfter parses Retry-After: seconds or an HTTP date.
func (c *Client) retryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(c.now()); d > 0 {
			return d
		}
	}
	return 0
}

// list fetches every page of a list endpoint into out (a pointer to a
// slice). paged endpoints take limit; every endpoint's next_token is
// followed while has_more.
func list[T any](ctx context.Context, c *Client, cl call, paged bool) ([]T, error) {
	var all []T
	q := url.Values{}
	for k, v := range cl.query {
		q[k] = v
	}
	if paged {
		q.Set("limit", strconv.Itoa(pageSize))
	}
	seen := map[string]bool{}
	for {
		cl.query = q
		var page []T
		env, err := c.do(ctx, cl, &page)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if !env.HasMore || env.NextToken == nil || *env.NextToken == "" {
			return all, nil
		}
		if seen[*env.NextToken] {
			return nil, fmt.Errorf("retool %s %s: next_token %q repeats", cl.method, cl.template, *env.NextToken)
		}
		seen[*env.NextToken] = true
		q = url.Values{}
		for k, v := range cl.query {
			q[k] = v
		}
		q.Set("next_token", *env.NextToken)
	}
}
