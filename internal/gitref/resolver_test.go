package gitref

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// fixture: main c1 - c2 - c3, tags v1.0.0 (annotated, c1), v1.1.0 (lightweight, c2), a branch "v1.1.0"
// (c1, shadowed by the tag), a branch "release" (c2).
type fixture struct {
	repo       *testRepo
	c1, c2, c3 string
}

func newFixture(t testing.TB) fixture {
	r := newTestRepo(t)
	f := fixture{repo: r}
	f.c1 = r.commit("first")
	f.c2 = r.commit("second")
	f.c3 = r.commit("third")
	r.tag("v1.0.0", f.c1, true)
	r.tag("v1.1.0", f.c2, false)
	r.branch("release", f.c2)
	r.branch("v1.1.0", f.c1)
	return f
}

func TestResolveRefs(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		ref  string
		want Resolution
	}{
		{"v1.0.0", Resolution{Commit: f.c1, Kind: KindTag, Name: "refs/tags/v1.0.0"}},
		{"refs/tags/v1.0.0", Resolution{Commit: f.c1, Kind: KindTag, Name: "refs/tags/v1.0.0"}},
		{"v1.1.0", Resolution{Commit: f.c2, Kind: KindTag, Name: "refs/tags/v1.1.0"}}, // the tag wins over the branch
		{"refs/heads/v1.1.0", Resolution{Commit: f.c1, Kind: KindBranch, Name: "refs/heads/v1.1.0"}},
		{"main", Resolution{Commit: f.c3, Kind: KindBranch, Name: "refs/heads/main"}},
		{"release", Resolution{Commit: f.c2, Kind: KindBranch, Name: "refs/heads/release"}},
		{f.c3, Resolution{Commit: f.c3, Kind: KindCommit, Name: f.c3}},                  // a tip
		{f.c1, Resolution{Commit: f.c1, Kind: KindCommit, Name: f.c1}},                  // behind tips: fetched
		{strings.ToUpper(f.c2), Resolution{Commit: f.c2, Kind: KindCommit, Name: f.c2}}, // case
		{f.c3[:10], Resolution{Commit: f.c3, Kind: KindCommit, Name: f.c3}},             // abbreviated tip
		{f.c1[:7], Resolution{Commit: f.c1, Kind: KindCommit, Name: f.c1}},              // abbreviated peeled tag
		{f.repo.tagObject("v1.0.0")[:12], Resolution{}},                                 // a tag object is no commit
		{"v9.9.9", Resolution{}},                   // missing
		{"refs/heads/v1.0.0", Resolution{}},        // only a tag
		{strings.Repeat("ab", 20), Resolution{}},   // unknown sha
		{f.repo.tagObject("v1.0.0"), Resolution{}}, // full sha of a tag object
	}
	r := NewResolver(Options{})
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			got, err := r.Resolve(context.Background(), f.repo.url(), Credentials{}, tt.ref)
			if tt.want == (Resolution{}) {
				if !errors.Is(err, ErrRefNotFound) || !IsNotFound(err) || IsTransient(err) || IsAuthError(err) {
					t.Fatalf("Resolve(%q) = %+v, %v; want ErrRefNotFound", tt.ref, got, err)
				}
				if !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.ref)) || !strings.Contains(err.Error(), f.repo.url()) {
					t.Errorf("error %q does not name the ref and the repository", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Resolve(%q) = %+v, %v; want %+v", tt.ref, got, err, tt.want)
			}
		})
	}
}

func TestBranchMoveSeenAfterTTL(t *testing.T) {
	f := newFixture(t)
	clock := newFakeClock()
	r := NewResolver(Options{CacheTTL: 30 * time.Second, Now: clock.Now})
	resolve := func(ref string) string {
		t.Helper()
		got, err := r.Resolve(context.Background(), f.repo.url(), Credentials{}, ref)
		if err != nil {
			t.Fatal(err)
		}
		return got.Commit
	}
	if got := resolve("main"); got != f.c3 {
		t.Fatalf("main = %s, want %s", got, f.c3)
	}
	c4 := f.repo.commit("fourth")
	f.repo.tag("v1.0.0", c4, true) // a tag that moves

	clock.Advance(29 * time.Second)
	if got := resolve("main"); got != f.c3 {
		t.Errorf("within the TTL main = %s, want the cached %s", got, f.c3)
	}
	if got := resolve("v1.0.0"); got != f.c1 {
		t.Errorf("within the TTL v1.0.0 = %s, want the cached %s", got, f.c1)
	}
	if n := r.Stats().Listings; n != 1 {
		t.Errorf("listings within the TTL = %d, want 1", n)
	}

	clock.Advance(2 * time.Second)
	if got := resolve("main"); got != c4 {
		t.Errorf("after the TTL main = %s, want the new %s", got, c4)
	}
	if got := resolve("v1.0.0"); got != c4 {
		t.Errorf("after the TTL the moved tag v1.0.0 = %s, want %s", got, c4)
	}
	if n := r.Stats().Listings; n != 2 {
		t.Errorf("listings = %d, want 2", n)
	}
}

func TestHundredResolvesOneListing(t *testing.T) {
	f := newFixture(t)
	r := NewResolver(Options{})
	refs := []string{"v1.0.0", "v1.1.0", "main", "release", f.c3}
	for i := range 100 {
		if _, err := r.Resolve(context.Background(), f.repo.url(), Credentials{}, refs[i%len(refs)]); err != nil {
			t.Fatal(err)
		}
	}
	st := r.Stats()
	if st.Listings != 1 {
		t.Errorf("100 resolves made %d listings, want 1", st.Listings)
	}
	// go-git's server does not peel tags: each tag's object is fetched once, and its peel kept.
	if st.Fetches != 2 {
		t.Errorf("100 resolves made %d fetches, want 2 (peeling v1.0.0 and v1.1.0)", st.Fetches)
	}
}

func TestConcurrentResolvesShareOneListing(t *testing.T) {
	f := newFixture(t)
	r := NewResolver(Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Go(func() {
			ref := []string{"v1.0.0", "main", f.c1, "release"}[i%4]
			if _, err := r.Resolve(context.Background(), f.repo.url(), Credentials{}, ref); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st := r.Stats()
	if st.Listings != 1 {
		t.Errorf("64 concurrent resolves made %d listings, want 1", st.Listings)
	}
	if st.Fetches != 1 { // peel v1.0.0 (c1 is the tip of branch v1.1.0)
		t.Errorf("64 concurrent resolves made %d fetches, want 1", st.Fetches)
	}
}

func TestCacheKeyedByCredentials(t *testing.T) {
	f := newFixture(t)
	r := NewResolver(Options{})
	a, err := CredentialsFromSecret(map[string][]byte{"token": []byte("a")})
	if err != nil {
		t.Fatal(err)
	}
	b, err := CredentialsFromSecret(map[string][]byte{"token": []byte("b")})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []Credentials{{}, a, b, a, {}} {
		if _, err := r.Resolve(context.Background(), f.repo.url(), c, "main"); err != nil {
			t.Fatal(err)
		}
	}
	if n := r.Stats().Listings; n != 3 {
		t.Errorf("listings for 3 distinct credentials = %d, want 3", n)
	}
}

func TestNoCache(t *testing.T) {
	f := newFixture(t)
	r := NewResolver(Options{CacheTTL: -1})
	for range 3 {
		if _, err := r.Resolve(context.Background(), f.repo.url(), Credentials{}, "main"); err != nil {
			t.Fatal(err)
		}
	}
	if n := r.Stats().Listings; n != 3 {
		t.Errorf("listings without a cache = %d, want 3", n)
	}
}

func TestEmptyRepository(t *testing.T) {
	r := newTestRepo(t)
	_, err := NewResolver(Options{}).Resolve(context.Background(), r.url(), Credentials{}, "main")
	if !errors.Is(err, ErrRefNotFound) {
		t.Fatalf("err = %v, want ErrRefNotFound", err)
	}
}

func TestRepositoryNotFound(t *testing.T) {
	url := "file://" + t.TempDir() + "/nothing-here"
	_, err := NewResolver(Options{}).Resolve(context.Background(), url, Credentials{}, "v1.0.0")
	if !errors.Is(err, ErrRepositoryNotFound) || !IsNotFound(err) || IsTransient(err) {
		t.Fatalf("err = %v, want ErrRepositoryNotFound", err)
	}
	if !strings.Contains(err.Error(), url) || !strings.Contains(err.Error(), `"v1.0.0"`) {
		t.Errorf("error %q does not name the repository and the ref", err)
	}
}

func TestUnreachableRepository(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	url := "http://" + addr + "/acme/apps.git"
	r := NewResolver(Options{})
	_, err = r.Resolve(context.Background(), url, Credentials{}, "main")
	if !errors.Is(err, ErrUnreachable) || !IsTransient(err) || IsNotFound(err) || IsAuthError(err) {
		t.Fatalf("err = %v, want a transient ErrUnreachable", err)
	}
	if !strings.Contains(err.Error(), url) {
		t.Errorf("error %q does not name the repository", err)
	}
}

// A server that accepts and never answers: the caller's context ends the wait.
func TestContextCancellation(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	}()
	r := NewResolver(Options{Timeout: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = r.Resolve(ctx, "http://"+l.Addr().String()+"/acme/apps.git", Credentials{}, "main")
	if !errors.Is(err, context.DeadlineExceeded) || !IsTransient(err) {
		t.Fatalf("err = %v, want the context's deadline, transient", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Resolve returned after %v, long after its context ended", d)
	}
}

func TestJunkInput(t *testing.T) {
	f := newFixture(t)
	good := f.repo.url()
	tests := []struct{ url, ref string }{
		{"", "main"},
		{"   ", "main"},
		{"ftp://example.com/repo.git", "main"},
		{"::::", "main"},
		{"http://[::1", "main"},
		{"file://", "main"},
		{"https://user:secret@[bad", "main"},
		{good, ""},
		{good, "v1..0"},
		{good, "a b"},
		{good, "main\x00"},
		{good, "tag~1"},
		{good, "refs/pull/1/head"},
		{good, "refs/heads/"},
		{good, "-"},
		{good, "@{-1}"},
		{good, strings.Repeat("x", 300)},
	}
	r := NewResolver(Options{})
	for _, tt := range tests {
		_, err := r.Resolve(context.Background(), tt.url, Credentials{}, tt.ref)
		if err == nil {
			t.Errorf("Resolve(%q, %q) succeeded", tt.url, tt.ref)
			continue
		}
		if IsTransient(err) {
			t.Errorf("Resolve(%q, %q) = %v: junk input must not be transient", tt.url, tt.ref, err)
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("error %q shows a password", err)
		}
	}
}

func TestCredentialsMustFitTheScheme(t *testing.T) {
	sshCreds := sshCredsForTest(t)
	token, err := CredentialsFromSecret(map[string][]byte{"token": []byte("t")})
	if err != nil {
		t.Fatal(err)
	}
	r := NewResolver(Options{})
	for _, tt := range []struct {
		url   string
		creds Credentials
	}{
		{"https://example.com/acme/apps.git", sshCreds},
		{"ssh://git@example.com/acme/apps.git", token},
		{"git@example.com:acme/apps.git", token},
		{"ssh://git@example.com/acme/apps.git", Credentials{}},
	} {
		_, err := r.Resolve(context.Background(), tt.url, tt.creds, "main")
		if !IsAuthError(err) || IsTransient(err) {
			t.Errorf("Resolve(%s, %s) = %v, want an auth error", tt.url, tt.creds, err)
		}
	}
	if n := r.Stats().Listings; n != 0 {
		t.Errorf("mismatched credentials reached the network: %d listings", n)
	}
}

func FuzzResolveRef(f *testing.F) {
	fx := newFixture(f)
	for _, s := range []string{"main", "v1.0.0", "refs/tags/v1.0.0", fx.c1, fx.c1[:8], "", "..", "refs/", "@", "a\x7f"} {
		f.Add(s)
	}
	r := NewResolver(Options{})
	f.Fuzz(func(t *testing.T, ref string) {
		got, err := r.Resolve(context.Background(), fx.repo.url(), Credentials{}, ref)
		if err == nil && len(got.Commit) != 40 {
			t.Fatalf("Resolve(%q) = %+v", ref, got)
		}
		if err != nil && IsTransient(err) {
			t.Fatalf("Resolve(%q) = %v: transient on a local repository", ref, err)
		}
	})
}
