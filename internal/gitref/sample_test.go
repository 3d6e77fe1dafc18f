package gitref

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

func TestCreateSampleRepository(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "governor", "payments-apps")
	url, err := CreateSampleRepository(dir)
	if err != nil {
		t.Fatal(err)
	}
	if url != "file://"+dir {
		t.Errorf("url = %s", url)
	}
	r := NewResolver(Options{})
	resolve := func(url, ref string) Resolution {
		t.Helper()
		res, err := r.Resolve(context.Background(), url, Credentials{}, ref)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	prev, cur := resolve(url, SampleTagPrevious), resolve(url, SampleTagCurrent)
	main, staging := resolve(url, SampleBranchMain), resolve(url, SampleBranchStaging)
	if prev.Kind != KindTag || cur.Kind != KindTag || main.Kind != KindBranch || staging.Kind != KindBranch {
		t.Errorf("kinds: %v %v %v %v", prev, cur, main, staging)
	}

	repo, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	appAt := func(sha string) string {
		t.Helper()
		c, err := object.GetCommit(repo.Storer, plumbing.NewHash(sha))
		if err != nil {
			t.Fatal(err)
		}
		f, err := c.File("apps/payouts.json")
		if err != nil {
			t.Fatal(err)
		}
		s, err := f.Contents()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for res, version := range map[Resolution]string{prev: "1.3.0", cur: "1.4.0", main: "1.5.0-dev", staging: "1.5.0-rc.1"} {
		if !strings.Contains(appAt(res.Commit), `"version": "`+version+`"`) {
			t.Errorf("%s: apps/payouts.json is not version %s", res.Name, version)
		}
	}
	// staging is one commit ahead of main; v1.4.0 is main's parent.
	mainCommit, _ := object.GetCommit(repo.Storer, plumbing.NewHash(main.Commit))
	stagingCommit, _ := object.GetCommit(repo.Storer, plumbing.NewHash(staging.Commit))
	if stagingCommit.ParentHashes[0].String() != main.Commit || mainCommit.ParentHashes[0].String() != cur.Commit {
		t.Error("history is not v1.3.0 - v1.4.0 - main - staging")
	}
	head, err := repo.Head()
	if err != nil || head.Name().Short() != SampleBranchMain {
		t.Errorf("HEAD = %v, %v; want main", head, err)
	}

	// The commits docs/releases.md lists.
	for res, sha := range map[Resolution]string{
		prev: "2dc463e3e8191869bb561ef8361d1acf62e28b81", cur: "56f4e3e47b0ba761f35113c0e168ea72c6ca4f4a",
		main: "119e86bc7cf9c6dba54c0c3af2efa80b7babcbd0", staging: "1ca81b32cc1bfafa02a8cb6d4286cb9b203f83a4",
	} {
		if res.Commit != sha {
			t.Errorf("%s is %s, docs/releases.md says %s", res.Name, res.Commit, sha)
		}
	}

	// Idempotent: a second call keeps the repository.
	if again, err := CreateSampleRepository(dir); err != nil || again != url {
		t.Fatalf("second call: %s, %v", again, err)
	}
	// Reproducible: made elsewhere, the same commits.
	other, err := CreateSampleRepository(filepath.Join(t.TempDir(), "copy"))
	if err != nil {
		t.Fatal(err)
	}
	if got := resolve(other, SampleTagCurrent); got != cur {
		t.Errorf("another sample repository has %s at %s, want %s", SampleTagCurrent, got.Commit, cur.Commit)
	}
	if got := resolve(other, SampleBranchStaging); got != staging {
		t.Errorf("another sample repository has staging at %s, want %s", got.Commit, staging.Commit)
	}
	// An empty directory is filled.
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := CreateSampleRepository(empty); err != nil {
		t.Errorf("empty directory: %v", err)
	}
}

func TestCreateSampleRepositoryRefusesOtherContent(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := CreateSampleRepository(dir); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("err = %v, want a refusal naming %s", err, dir)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "notes.txt")); err != nil || string(b) != "mine" {
		t.Error("the directory's content was touched")
	}

	other := newTestRepo(t) // a git repository without the sample's refs
	other.commit("unrelated")
	if _, err := CreateSampleRepository(other.dir); err == nil || !strings.Contains(err.Error(), "v1.3.0") {
		t.Errorf("err = %v, want a refusal naming the missing ref", err)
	}
}
