package gitserver_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/governor-dev/governor/internal/gitref"
	"github.com/governor-dev/governor/internal/gitref/gitserver"
)

// sample serves the sample repository and returns the server and its URL.
func sample(t *testing.T, user, pass string) (*gitserver.Server, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "retool-apps")
	if _, err := gitref.CreateSampleRepository(dir); err != nil {
		t.Fatal(err)
	}
	s := gitserver.New(gitserver.Options{Repositories: map[string]string{"/acme/retool-apps.git": dir}, Username: user, Password: pass})
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts.URL
}

func TestAnonymousReadsResolveTagsBranchesAndCommits(t *testing.T) {
	s, url := sample(t, "", "")
	r := gitref.NewResolver(gitref.Options{})
	repo := url + "/acme/retool-apps.git"
	tag, err := r.Resolve(context.Background(), repo, gitref.Credentials{}, gitref.SampleTagCurrent)
	if err != nil || tag.Kind != gitref.KindTag {
		t.Fatalf("Resolve(%s) = %+v, %v", gitref.SampleTagCurrent, tag, err)
	}
	// An older commit (the tag's) is fetched by sha: the server lets any reachable commit be wanted.
	r = gitref.NewResolver(gitref.Options{})
	if got, err := r.Resolve(context.Background(), repo, gitref.Credentials{}, tag.Commit); err != nil || got.Commit != tag.Commit {
		t.Errorf("Resolve(sha) = %+v, %v", got, err)
	}
	if s.Listings() != 2 {
		t.Errorf("listings = %d, want 2 (one per resolver)", s.Listings())
	}
	if _, err := r.Resolve(context.Background(), url+"/acme/other.git", gitref.Credentials{}, "main"); !gitref.IsNotFound(err) {
		t.Errorf("unknown repository: %v, want not found", err)
	}
}

func TestBasicAuthIsRequiredWhenSet(t *testing.T) {
	_, url := sample(t, "dev", "secret")
	repo := url + "/acme/retool-apps.git"
	r := gitref.NewResolver(gitref.Options{CacheTTL: -1})
	if _, err := r.Resolve(context.Background(), repo, gitref.Credentials{}, "main"); !gitref.IsAuthError(err) {
		t.Errorf("anonymous: %v, want an auth error", err)
	}
	good, err := gitref.CredentialsFromSecret(map[string][]byte{"username": []byte("dev"), "password": []byte("secret")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Resolve(context.Background(), repo, good, gitref.SampleBranchStaging); err != nil {
		t.Errorf("with credentials: %v", err)
	}
}

func TestPushIsRefusedUnlessAllowed(t *testing.T) {
	_, url := sample(t, "", "")
	resp, err := http.Get(url + "/acme/retool-apps.git/info/refs?service=git-receive-pack")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("receive-pack listing: %d, want 403", resp.StatusCode)
	}
	resp, err = http.Post(url+"/acme/retool-apps.git/git-receive-pack", "application/x-git-receive-pack-request", nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("receive-pack: %d, want 403", resp.StatusCode)
	}
}

func TestPushesWhenAllowed(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "retool-apps")
	if _, err := gitref.CreateSampleRepository(dir); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(gitserver.New(gitserver.Options{Repositories: map[string]string{"/acme/retool-apps.git": dir},
		Username: "dev", Password: "secret", Push: true}))
	t.Cleanup(ts.Close)
	repo := ts.URL + "/acme/retool-apps.git"
	ctx := context.Background()
	good, err := gitref.CredentialsFromSecret(map[string][]byte{"username": []byte("dev"), "password": []byte("secret")})
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"dist/apps/payouts/1.6.0.json": []byte("{}")}
	if _, err := gitref.PushBranch(ctx, repo, gitref.Credentials{}, "main", "release/x", files, "m", gitref.Signature{Name: "t"}); !gitref.IsAuthError(err) {
		t.Errorf("anonymous push: %v, want an auth error", err)
	}
	sha, err := gitref.PushBranch(ctx, repo, good, "main", "release/payouts/1.6.0", files, "m", gitref.Signature{Name: "t"})
	if err != nil {
		t.Fatal(err)
	}
	r := gitref.NewResolver(gitref.Options{CacheTTL: -1})
	if got, err := r.Resolve(ctx, repo, good, "release/payouts/1.6.0"); err != nil || got.Commit != sha {
		t.Errorf("the pushed branch resolves to %+v, %v; want %s", got, err, sha)
	}
	m, err := gitref.MergeBranch(ctx, repo, good, "release/payouts/1.6.0", "main", gitref.Signature{Name: "t"})
	if err != nil || !m.FastForward {
		t.Fatalf("merge = %+v, %v", m, err)
	}
	if ok, err := r.Contains(ctx, repo, good, "main", sha); err != nil || !ok {
		t.Errorf("Contains after the merge = %v, %v", ok, err)
	}
	if ok, err := r.Contains(ctx, repo, good, gitref.SampleBranchStaging, sha); err != nil || ok {
		t.Errorf("staging contains the release: %v, %v; want false", ok, err)
	}
}
