package emulator_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/governor-dev/governor/internal/gitref"
	"github.com/governor-dev/governor/internal/gitref/gitserver"
	"github.com/governor-dev/governor/internal/platform/emulator"
)

// TestReleasesPushABranchAndAreListedOnceMerged drives the element endpoint
// against a git server that takes pushes behind a token, as Retool pushes to
// GitHub with its configuration's token.
func TestReleasesPushABranchAndAreListedOnceMerged(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "retool-apps")
	if _, err := gitref.CreateSampleRepository(dir); err != nil {
		t.Fatal(err)
	}
	git := httptest.NewServer(gitserver.New(gitserver.Options{Repositories: map[string]string{"/acme/retool-apps.git": dir},
		Username: gitref.DefaultTokenUsername, Password: "git-token", Push: true}))
	t.Cleanup(git.Close)
	s := emulator.New(emulator.Options{Token: "tk", GitBaseURL: git.URL})
	app, err := s.Space("").AddApp("payouts", "")
	if err != nil {
		t.Fatal(err)
	}
	rel := "/api/v2/source_control/releases/" + app.ID
	config := func(token string) {
		t.Helper()
		body := `{"config":{"provider":"GitHub","org":"acme","repo":"retool-apps","default_branch":"main",
			"config":{"type":"Personal","personal_access_token":"` + token + `"}}}`
		if resp, out := call(t, s, "PUT", "/api/v2/source_control/config", "tk", body); resp.StatusCode/100 != 2 {
			t.Fatalf("config: %d %v", resp.StatusCode, out)
		}
	}

	for _, tc := range []struct {
		name, path, body string
		status           int
	}{
		{"no elementType", rel, `{"release_version":"1.6.0"}`, http.StatusBadRequest},
		{"an unknown elementType", rel + "?elementType=APP", `{"release_version":"1.6.0"}`, http.StatusBadRequest},
		{"an app's uuid as a workflow", rel + "?elementType=WORKFLOW", `{"release_version":"1.6.0"}`, http.StatusNotFound},
		{"a pre-release", rel + "?elementType=PAGE", `{"release_version":"1.6.0-rc.1"}`, http.StatusBadRequest},
		{"no source control yet", rel + "?elementType=PAGE", `{"release_version":"1.6.0"}`, http.StatusBadRequest},
	} {
		if resp, out := call(t, s, "POST", tc.path, "tk", tc.body); resp.StatusCode != tc.status || out["success"] != false {
			t.Errorf("%s: %d %v, want %d", tc.name, resp.StatusCode, out, tc.status)
		}
	}

	config("wrong")
	if resp, out := call(t, s, "POST", rel+"?elementType=PAGE", "tk", `{"release_version":"1.6.0"}`); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a token the git server refuses: %d %v, want 400", resp.StatusCode, out)
	}
	config("git-token")
	resp, out := call(t, s, "POST", rel+"?elementType=PAGE", "tk", `{"release_version":"1.6.0","release_description":"partner export"}`)
	data, _ := out["data"].(map[string]any)
	if resp.StatusCode != http.StatusOK || data["branch_name"] != "release/payouts/1.6.0" ||
		data["url"] != "https://github.com/acme/retool-apps/compare/main...release/payouts/1.6.0?expand=1" {
		t.Fatalf("create: %d %v", resp.StatusCode, out)
	}
	sha, _ := data["commit_sha"].(string)
	creds, err := gitref.CredentialsFromSecret(map[string][]byte{gitref.KeyToken: []byte("git-token")})
	if err != nil {
		t.Fatal(err)
	}
	repo := git.URL + "/acme/retool-apps.git"
	resolver := gitref.NewResolver(gitref.Options{CacheTTL: -1})
	if got, err := resolver.Resolve(ctx, repo, creds, "release/payouts/1.6.0"); err != nil || got.Commit != sha {
		t.Fatalf("the pushed branch: %+v, %v; want %s", got, err, sha)
	}

	list := func() []any {
		t.Helper()
		resp, out := call(t, s, "GET", rel+"?elementType=PAGE", "tk", "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("list: %d %v", resp.StatusCode, out)
		}
		items, _ := out["data"].([]any)
		return items
	}
	if got := list(); len(got) != 0 {
		t.Errorf("listed before the merge: %v", got)
	}
	if v := s.Space("").ReleaseVersion("payouts"); v != "" {
		t.Errorf("the app's release before the merge: %q", v)
	}
	if _, err := gitref.MergeBranch(ctx, repo, creds, "release/payouts/1.6.0", "main", gitref.Signature{Name: "reviewer"}); err != nil {
		t.Fatal(err)
	}
	got := list()
	if len(got) != 1 || got[0].(map[string]any)["release_version"] != "1.6.0" || got[0].(map[string]any)["release_description"] != "partner export" {
		t.Errorf("listed after the merge: %v", got)
	}
	if v := s.Space("").ReleaseVersion("payouts"); v != "1.6.0" {
		t.Errorf("the app's release after the merge: %q, want 1.6.0", v)
	}
	// The deprecated path answers the same releases.
	if resp, out := call(t, s, "GET", "/api/v2/source_control/releases/apps/"+app.ID, "tk", ""); resp.StatusCode != http.StatusOK || len(out["data"].([]any)) != 1 {
		t.Errorf("deprecated list: %d %v", resp.StatusCode, out)
	}
	if resp, out := call(t, s, "POST", rel+"?elementType=PAGE", "tk", `{"release_version":"1.6.0"}`); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a released version again: %d %v, want 400", resp.StatusCode, out)
	}
}

// TestPullReleasesSeesAMergeWithoutARequest: dev's stand-in for read-only
// instances reads the app's release through the handle.
func TestPullReleasesSeesAMergeWithoutARequest(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	dir := filepath.Join(root, "acme", "apps.git")
	if _, err := gitref.CreateSampleRepository(dir); err != nil {
		t.Fatal(err)
	}
	s := emulator.New(emulator.Options{Token: "tk", GitBaseURL: "file://" + filepath.ToSlash(root)})
	app, _ := s.Space("").AddApp("payouts", "")
	call(t, s, "PUT", "/api/v2/source_control/config", "tk",
		`{"config":{"provider":"GitLab","org":"acme","repo":"apps","default_branch":"main","config":{"project_id":1,"project_access_token":"t"}}}`)
	// The branch name is taken (a repository kept from an earlier run): the next free one.
	if _, err := gitref.PushBranch(ctx, "file://"+filepath.ToSlash(dir), gitref.Credentials{}, "main", "release/payouts/2.0.0",
		map[string][]byte{"old.json": []byte("{}")}, "old", gitref.Signature{Name: "r"}); err != nil {
		t.Fatal(err)
	}
	resp, out := call(t, s, "POST", "/api/v2/source_control/releases/"+app.ID+"?elementType=PAGE", "tk", `{"release_version":"2.0.0"}`)
	data, _ := out["data"].(map[string]any)
	if resp.StatusCode != http.StatusOK || data["branch_name"] != "release/payouts/2.0.0-2" {
		t.Fatalf("create: %d %v", resp.StatusCode, out)
	}
	if want := "https://gitlab.com/acme/apps/-/merge_requests/new?merge_request%5Bsource_branch%5D=release%2Fpayouts%2F2.0.0-2&merge_request%5Btarget_branch%5D=main"; data["url"] != want {
		t.Errorf("url = %v, want %s", data["url"], want)
	}
	if _, err := gitref.MergeBranch(ctx, "file://"+filepath.ToSlash(dir), gitref.Credentials{}, "release/payouts/2.0.0-2", "main", gitref.Signature{Name: "r"}); err != nil {
		t.Fatal(err)
	}
	h := s.Space("")
	if v := h.ReleaseVersion("payouts"); v != "" {
		t.Fatalf("seen before any read: %q", v)
	}
	h.PullReleases(ctx)
	if v := h.ReleaseVersion("payouts"); v != "2.0.0" {
		t.Errorf("after PullReleases: %q, want 2.0.0", v)
	}
}
