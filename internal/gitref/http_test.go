package gitref

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/governor-dev/governor/internal/gitref/gitserver"
)

// smartHTTP serves one repository over git's smart HTTP protocol (gitserver: go-git's server behind
// net/http, with peeled tags and fetching any reachable commit), behind basic auth.
type smartHTTP struct {
	*httptest.Server
	git    *gitserver.Server
	status atomic.Int32 // when set, every request answers this status
}

func newSmartHTTP(t *testing.T, repo *testRepo, user, pass string) *smartHTTP {
	s := &smartHTTP{git: gitserver.New(gitserver.Options{
		Repositories: map[string]string{"/acme/apps.git": repo.dir}, Username: user, Password: pass})}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if st := s.status.Load(); st != 0 {
			http.Error(w, "no", int(st))
			return
		}
		s.git.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func TestResolveOverHTTPWithBasicAuth(t *testing.T) {
	f := newFixture(t)
	srv := newSmartHTTP(t, f.repo, "x-access-token", "ghp_secret")
	url := srv.URL + "/acme/apps.git"
	creds, err := CredentialsFromSecret(map[string][]byte{"token": []byte("ghp_secret\n")})
	if err != nil {
		t.Fatal(err)
	}
	r := NewResolver(Options{})
	for ref, want := range map[string]Resolution{
		"v1.0.0":  {Commit: f.c1, Kind: KindTag, Name: "refs/tags/v1.0.0"}, // annotated, peeled by the server
		"v1.1.0":  {Commit: f.c2, Kind: KindTag, Name: "refs/tags/v1.1.0"}, // lightweight
		"main":    {Commit: f.c3, Kind: KindBranch, Name: "refs/heads/main"},
		f.c1[:10]: {Commit: f.c1, Kind: KindCommit, Name: f.c1},
	} {
		got, err := r.Resolve(context.Background(), url, creds, ref)
		if err != nil || got != want {
			t.Errorf("Resolve(%q) = %+v, %v; want %+v", ref, got, err, want)
		}
	}
	if st := r.Stats(); st.Listings != 1 || st.Fetches != 0 {
		t.Errorf("stats = %+v, want 1 listing and no fetch (the server peels tags)", st)
	}

	// A commit behind the tips is fetched by its sha.
	c0 := f.repo.commit("behind")
	f.repo.commit("ahead")
	r = NewResolver(Options{})
	if got, err := r.Resolve(context.Background(), url, creds, c0); err != nil || got.Commit != c0 {
		t.Errorf("Resolve(%s) = %+v, %v", c0, got, err)
	}
	if st := r.Stats(); st.Fetches != 1 {
		t.Errorf("fetches = %d, want 1", st.Fetches)
	}
	// An unknown sha: the server refuses the want.
	_, err = r.Resolve(context.Background(), url, creds, strings.Repeat("0123456789", 4))
	if !errors.Is(err, ErrRefNotFound) {
		t.Errorf("unknown sha: %v, want ErrRefNotFound", err)
	}
}

func TestHTTPAuthAndServerErrors(t *testing.T) {
	f := newFixture(t)
	srv := newSmartHTTP(t, f.repo, "bot", "right")
	good, _ := CredentialsFromSecret(map[string][]byte{"username": []byte("bot"), "password": []byte("right")})
	wrong, _ := CredentialsFromSecret(map[string][]byte{"username": []byte("bot"), "password": []byte("wrong")})
	url := srv.URL + "/acme/apps.git"
	r := NewResolver(Options{})
	resolve := func(url string, c Credentials) error {
		_, err := r.Resolve(context.Background(), url, c, "main")
		return err
	}

	for name, err := range map[string]error{"no credentials": resolve(url, Credentials{}), "wrong password": resolve(url, wrong)} {
		if !IsAuthError(err) || IsTransient(err) || IsNotFound(err) {
			t.Errorf("%s: %v, want an auth error", name, err)
		}
		if err != nil && (!strings.Contains(err.Error(), url) || !strings.Contains(err.Error(), `"main"`)) {
			t.Errorf("%s: %q does not name the repository and the ref", name, err)
		}
	}
	if err := resolve(srv.URL+"/acme/other.git", good); !errors.Is(err, ErrRepositoryNotFound) {
		t.Errorf("missing repository: %v, want ErrRepositoryNotFound", err)
	}
	if err := resolve(url, good); err != nil {
		t.Errorf("good credentials: %v", err)
	}

	// The server fails: transient, and the next listing (after the TTL) recovers.
	clock := newFakeClock()
	r = NewResolver(Options{Now: clock.Now})
	srv.status.Store(http.StatusServiceUnavailable)
	err := resolve(url, good)
	if !IsTransient(err) || !errors.Is(err, ErrUnreachable) {
		t.Errorf("server error: %v, want transient", err)
	}
	if err2 := resolve(url, good); err2 == nil || r.Stats().Listings != 1 {
		t.Errorf("within the TTL the failure is kept: %v, %d listings", err2, r.Stats().Listings)
	}
	srv.status.Store(0)
	clock.Advance(31e9)
	if err := resolve(url, good); err != nil {
		t.Errorf("after the TTL: %v", err)
	}
}

func TestBasicAuthInURLIsNotShown(t *testing.T) {
	f := newFixture(t)
	srv := newSmartHTTP(t, f.repo, "bot", "right")
	url := strings.Replace(srv.URL, "http://", "http://bot:wrong-pass@", 1) + "/acme/apps.git"
	_, err := NewResolver(Options{}).Resolve(context.Background(), url, Credentials{}, "main")
	if !IsAuthError(err) {
		t.Fatalf("err = %v, want an auth error", err)
	}
	if strings.Contains(err.Error(), "wrong-pass") {
		t.Errorf("error %q shows the password", err)
	}
}
