package retool_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/governor-dev/governor/internal/gitref"
	"github.com/governor-dev/governor/internal/platform/emulator"
	"github.com/governor-dev/governor/internal/platform/retool"
)

// releaseRepository makes the git repository <root>/<org>/<name>.git with
// one commit on main, for an emulator whose GitBaseURL is file://<root>.
func releaseRepository(t *testing.T, org, name string) (base, dir string) {
	t.Helper()
	root := t.TempDir()
	dir = filepath.Join(root, org, name+".git")
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")}})
	if err != nil {
		t.Fatal(err)
	}
	wt := must[*git.Worktree](t)(repo.Worktree())
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("apps\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	must[plumbing.Hash](t)(wt.Add("README.md"))
	must[plumbing.Hash](t)(wt.Commit("first", &git.CommitOptions{Author: &object.Signature{Name: "t", When: time.Unix(0, 0)}}))
	return "file://" + filepath.ToSlash(root), dir
}

func TestReleases(t *testing.T) {
	ctx := context.Background()
	base, dir := releaseRepository(t, "acme", "apps")
	f := newFixture(t, emulator.Options{GitBaseURL: base}, retool.Options{})
	c := f.client
	payroll := must[emulator.Object](t)(f.emu.Space("").AddApp("Payroll", ""))
	in := retool.ReleaseCreate{Version: "1.0.0", Description: "first"}
	if _, err := c.CreateRelease(ctx, retool.ElementApp, payroll.ID, in); err == nil || !strings.Contains(err.Error(), "Source control is not configured") {
		t.Errorf("a release without source control: err = %v", err)
	}
	must[retool.SourceControlConfig](t)(c.PutSourceControlConfig(ctx, retool.SourceControlConfig{Provider: "GitHub", Org: "acme", Repo: "apps",
		DefaultBranch: "main", Config: map[string]any{"type": "Personal", "personal_access_token": "x"}}))
	art := must[retool.ReleaseArtifact](t)(c.CreateRelease(ctx, retool.ElementApp, payroll.ID, in))
	if art.BranchName != "release/payroll/1.0.0" || len(art.CommitSHA) != 40 ||
		art.URL != "https://github.com/acme/apps/compare/main...release/payroll/1.0.0?expand=1" {
		t.Errorf("artifact = %+v", art)
	}
	// The branch is in the repository, holding the app's release artifact.
	repo := must[*git.Repository](t)(git.PlainOpen(dir))
	ref := must[*plumbing.Reference](t)(repo.Reference(plumbing.NewBranchReferenceName(art.BranchName), true))
	if ref.Hash().String() != art.CommitSHA {
		t.Errorf("branch %s is at %s, the answer says %s", art.BranchName, ref.Hash(), art.CommitSHA)
	}
	commit := must[*object.Commit](t)(repo.CommitObject(ref.Hash()))
	if _, err := commit.File("dist/apps/" + payroll.ID + "/1.0.0.json"); err != nil {
		t.Errorf("the release commit has no artifact: %v", err)
	}

	sent := f.emu.Stats().Total()
	if _, err := c.CreateRelease(ctx, retool.ElementApp, payroll.ID, retool.ReleaseCreate{Version: "1.0.0-rc.1"}); err == nil || !strings.Contains(err.Error(), "release_version") {
		t.Errorf("a version that is not X.Y.Z: err = %v", err)
	}
	if f.emu.Stats().Total() != sent {
		t.Error("a version that is not X.Y.Z was sent")
	}
	// Not merged: not listed, not the app's release.
	if rels := must[[]retool.Release](t)(c.ListReleases(ctx, retool.ElementApp, payroll.ID)); len(rels) != 0 {
		t.Errorf("releases before the merge = %+v, want none", rels)
	}
	if apps := must[[]retool.App](t)(c.ListApps(ctx)); apps[0].ReleaseVersion != "" {
		t.Errorf("the app's release_version before the merge = %q", apps[0].ReleaseVersion)
	}
	if _, err := c.CreateRelease(ctx, retool.ElementApp, payroll.ID, in); err == nil || !strings.Contains(err.Error(), "not merged yet") {
		t.Errorf("the same version again: err = %v", err)
	}
	// Merged: listed, and the app's release.
	must[gitref.Merge](t)(gitref.MergeBranch(ctx, "file://"+filepath.ToSlash(dir), gitref.Credentials{}, art.BranchName, "main", gitref.Signature{Name: "reviewer"}))
	rels := must[[]retool.Release](t)(c.ListReleases(ctx, retool.ElementApp, payroll.ID))
	if len(rels) != 1 || rels[0].ReleaseVersion != "1.0.0" || rels[0].ReleaseDescription != "first" {
		t.Errorf("releases = %+v", rels)
	}
	if apps := must[[]retool.App](t)(c.ListApps(ctx)); apps[0].ReleaseVersion != "1.0.0" {
		t.Errorf("the app's release_version = %q, want 1.0.0", apps[0].ReleaseVersion)
	}
	if _, err := c.ListReleases(ctx, retool.ElementApp, "6f1c1f7e-0000-4000-8000-000000000000"); !retool.IsNotFound(err) {
		t.Errorf("releases of a missing app: err = %v, want 404", err)
	}
	if _, err := c.ListReleases(ctx, retool.ElementWorkflow, payroll.ID); !retool.IsNotFound(err) {
		t.Errorf("an app's uuid as a workflow: err = %v, want 404", err)
	}
	// A workflow's release.
	wf := must[emulator.Object](t)(f.emu.Space("").AddWorkflow("Nightly sync", ""))
	wart := must[retool.ReleaseArtifact](t)(c.CreateRelease(ctx, retool.ElementWorkflow, wf.ID, retool.ReleaseCreate{Version: "0.1.0", CommitMessage: "nightly 0.1.0"}))
	if wart.BranchName != "release/nightly-sync/0.1.0" {
		t.Errorf("workflow artifact = %+v", wart)
	}
	wc := must[*object.Commit](t)(must[*git.Repository](t)(git.PlainOpen(dir)).CommitObject(plumbing.NewHash(wart.CommitSHA)))
	if wc.Message != "nightly 0.1.0" {
		t.Errorf("commit message %q, want the one given", wc.Message)
	}
}

func TestReleasesNeedAGitServer(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, emulator.Options{}, retool.Options{})
	app := must[emulator.Object](t)(f.emu.Space("").AddApp("A", ""))
	must[retool.SourceControlConfig](t)(f.client.PutSourceControlConfig(ctx, retool.SourceControlConfig{Provider: "GitHub", Org: "acme", Repo: "apps",
		DefaultBranch: "main", Config: map[string]any{"type": "Personal", "personal_access_token": "x"}}))
	_, err := f.client.CreateRelease(ctx, retool.ElementApp, app.ID, retool.ReleaseCreate{Version: "1.0.0"})
	if ae := (*retool.APIError)(nil); !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || !strings.Contains(err.Error(), "git") {
		t.Errorf("a release with no git server: err = %v, want 400 saying so", err)
	}
}
