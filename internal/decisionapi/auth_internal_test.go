package decisionapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	authnv1 "k8s.io/api/authentication/v1"
	authenticationv1 "k8s.io/client-go/kubernetes/typed/authentication/v1"
	authorizationv1 "k8s.io/client-go/kubernetes/typed/authorization/v1"
	"k8s.io/client-go/rest"
)

// reviewCounter serves TokenReview as a fake API server: "good" is valid,
// every other token is not (with status.error, as the API server says); it
// counts the reviews.
func reviewCounter(t *testing.T) (*Delegating, *atomic.Int64) {
	t.Helper()
	var reviews atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/apis/authentication.k8s.io/v1/tokenreviews" {
			http.NotFound(w, r)
			return
		}
		reviews.Add(1)
		var tr authnv1.TokenReview
		if err := json.NewDecoder(r.Body).Decode(&tr); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		tr.APIVersion, tr.Kind = "authentication.k8s.io/v1", "TokenReview"
		if tr.Spec.Token == "good" {
			tr.Status = authnv1.TokenReviewStatus{Authenticated: true, User: authnv1.UserInfo{Username: "system:serviceaccount:retool:retool-production"}}
		} else {
			tr.Status = authnv1.TokenReviewStatus{Error: "invalid bearer token"}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(&tr)
	}))
	t.Cleanup(srv.Close)
	cfg := &rest.Config{Host: srv.URL}
	authn, err := authenticationv1.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	authz, err := authorizationv1.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d, err := newDelegating(authn, authz, AuthOptions{FailuresPerSecond: 1, FailureBurst: 10})
	if err != nil {
		t.Fatal(err)
	}
	return d, &reviews
}

func requestFrom(addr, token string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/v1/spaces/payments/check", nil)
	r.RemoteAddr = addr + ":40000"
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

// TestJunkTokensCannotFloodTokenReview: 1000 distinct junk tokens from one
// address cost at most its burst of reviews (plus what refills meanwhile);
// the rest are answered without one. Other addresses and valid tokens are
// not held back, and a refused token is not reviewed again.
func TestJunkTokensCannotFloodTokenReview(t *testing.T) {
	d, reviews := reviewCounter(t)
	limited := 0
	for i := range 1000 {
		_, ok, err := d.Authenticate(requestFrom("203.0.113.7", fmt.Sprintf("junk-%d", i)))
		if ok {
			t.Fatal("a junk token authenticated")
		}
		if err == ErrTooManyFailures {
			limited++
		}
	}
	if n := reviews.Load(); n > 15 {
		t.Fatalf("1000 junk tokens from one address caused %d TokenReviews, want at most the burst (10) and its refill", n)
	}
	if limited < 980 {
		t.Fatalf("only %d of 1000 junk requests were refused without a review", limited)
	}

	// Another address still gets reviews; a valid token is not charged, nor
	// held back by its address's failures once accepted.
	before := reviews.Load()
	if _, ok, err := d.Authenticate(requestFrom("198.51.100.1", "good")); !ok || err != nil {
		t.Fatalf("a valid token from another address: ok=%v err=%v", ok, err)
	}
	if _, ok, err := d.Authenticate(requestFrom("203.0.113.7", "good")); !ok || err != nil {
		t.Fatalf("an accepted token from the flooding address: ok=%v err=%v", ok, err)
	}
	for range 50 {
		if _, ok, err := d.Authenticate(requestFrom("198.51.100.2", "good")); !ok || err != nil {
			t.Fatalf("valid tokens are charged to the failure budget: ok=%v err=%v", ok, err)
		}
	}
	// The same junk token again and again: one review, then refused from the cache.
	for range 20 {
		if _, ok, err := d.Authenticate(requestFrom("198.51.100.3", "same-junk")); ok || err != nil {
			t.Fatalf("repeated junk: ok=%v err=%v", ok, err)
		}
	}
	if n := reviews.Load() - before; n != 2 { // good (once, then cached), same-junk (once)
		t.Fatalf("%d reviews for one valid and one repeated junk token, want 2", n)
	}
	// No bearer token: no review at all.
	if _, ok, err := d.Authenticate(httptest.NewRequest(http.MethodPost, "/", nil)); ok || err != nil {
		t.Fatalf("no token: ok=%v err=%v", ok, err)
	}
}

// TestClientAddressesAreBounded: the per-address budgets are an LRU of
// MaxClients entries, so addresses cannot grow memory without bound.
func TestClientAddressesAreBounded(t *testing.T) {
	g := newFailureGuard(AuthOptions{MaxClients: 100}.withDefaults())
	for i := range 1000 {
		g.reserve(fmt.Sprintf("10.0.%d.%d", i/256, i%256))
	}
	if n := g.clients.Len(); n > 100 {
		t.Fatalf("%d addresses remembered, want at most 100", n)
	}
}
