// Package retooltest holds Retool API test helpers: a transport that holds
// every request and response to the project's OpenAPI description of
// Retool's API v2.
package retooltest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/governor-dev/governor/internal/platform/retool"
)

// Transport validates each /api/v2 request it sends and each response it
// receives against openapi.yaml, failing the test on any that does not
// conform (or that names an operation the document lacks).
type Transport struct {
	t      testing.TB
	next   http.RoundTripper
	router routers.Router
	opts   *openapi3filter.Options

	responsesOnly bool

	mu   *sync.Mutex
	seen map[string]int
}

// ResponsesOnly returns a transport that validates the responses only, for
// requests that break the document on purpose.
func (v *Transport) ResponsesOnly() *Transport {
	c := *v
	c.responsesOnly = true
	return &c
}

var (
	uuidRe  = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	emailRe = regexp.MustCompile(`^[^@\s]+@[^@\s]+$`)
)

func checkFormat(re *regexp.Regexp, name string) openapi3.StringFormatValidator {
	return openapi3.NewCallbackValidator(func(s string) error {
		if !re.MatchString(s) {
			return fmt.Errorf("%q is not a valid %s", s, name)
		}
		return nil
	})
}

// ValidatingTransport wraps next (http.DefaultTransport when nil).
func ValidatingTransport(t testing.TB, next http.RoundTripper) *Transport {
	t.Helper()
	doc, err := retool.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("openapi router: %v", err)
	}
	if next == nil {
		next = http.DefaultTransport
	}
	return &Transport{
		t: t, next: next, router: router, mu: &sync.Mutex{}, seen: map[string]int{},
		opts: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
			AuthenticationFunc:    bearerAuth,
			SchemaValidationOptions: []openapi3.SchemaValidationOption{
				openapi3.WithStringFormatValidators(map[string]openapi3.StringFormatValidator{
					"uuid":  checkFormat(uuidRe, "uuid"),
					"email": checkFormat(emailRe, "email"),
				}),
			},
		},
	}
}

func bearerAuth(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if !strings.HasPrefix(in.RequestValidationInput.Request.Header.Get("Authorization"), "Bearer ") {
		return errors.New("no bearer token")
	}
	return nil
}

// RoundTrip implements http.RoundTripper.
func (v *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	if !strings.HasPrefix(req.URL.Path, "/api/v2/") {
		return v.next.RoundTrip(req)
	}
	vreq := req.Clone(req.Context())
	vreq.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := v.router.FindRoute(vreq)
	if err != nil {
		v.t.Errorf("%s %s is not an operation of openapi.yaml: %v", req.Method, req.URL.Path, err)
		return v.next.RoundTrip(req)
	}
	op := req.Method + " " + route.Path
	v.mu.Lock()
	v.seen[op]++
	v.mu.Unlock()
	in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route, Options: v.opts}
	if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil && !v.responsesOnly {
		v.t.Errorf("request %s %s does not conform to openapi.yaml (%s): %v\nbody: %s", req.Method, req.URL.RequestURI(), op, err, body)
	}
	resp, err := v.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	rb, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(rb))
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header, Options: v.opts}
	out.SetBodyBytes(rb)
	if err := openapi3filter.ValidateResponse(req.Context(), out); err != nil {
		v.t.Errorf("response %d to %s %s does not conform to openapi.yaml (%s): %v\nbody: %s", resp.StatusCode, req.Method, req.URL.RequestURI(), op, err, rb)
	}
	return resp, nil
}

// Operations lists the operations ("GET /groups/{groupId}") validated so
// far.
func (v *Transport) Operations() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]string, 0, len(v.seen))
	for op := range v.seen {
		out = append(out, op)
	}
	sort.Strings(out)
	return out
}

// DocumentOperations lists every operation of openapi.yaml.
func DocumentOperations(t testing.TB) []string {
	t.Helper()
	doc, err := retool.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, method+" "+path)
		}
	}
	sort.Strings(out)
	return out
}
