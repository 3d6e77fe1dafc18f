package gitref

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
)

var releaser = Signature{Name: "Retool", Email: "retool@example.invalid", When: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}

// fresh opens the test repository again: a handle opened before a push does not see the packs it added.
func (r *testRepo) fresh() *git.Repository {
	r.t.Helper()
	repo, err := git.PlainOpen(r.dir)
	if err != nil {
		r.t.Fatal(err)
	}
	return repo
}

// fileAt reads a file of a commit of the test repository ("" when absent).
func (r *testRepo) fileAt(commit, path string) string {
	r.t.Helper()
	c, err := r.fresh().CommitObject(plumbing.NewHash(commit))
	if err != nil {
		r.t.Fatal(err)
	}
	f, err := c.File(path)
	if err != nil {
		return ""
	}
	rd, err := f.Reader()
	if err != nil {
		r.t.Fatal(err)
	}
	defer func() { _ = rd.Close() }()
	b, _ := io.ReadAll(rd)
	return string(b)
}

func (r *testRepo) tip(branch string) string {
	r.t.Helper()
	ref, err := r.fresh().Reference(plumbing.NewBranchReferenceName(branch), true)
	if err != nil {
		r.t.Fatal(err)
	}
	return ref.Hash().String()
}

func TestPushBranchMakesOneCommitOffTheBase(t *testing.T) {
	ctx := context.Background()
	repo := newTestRepo(t)
	main := repo.commit("first")
	files := map[string][]byte{"dist/apps/a1/1.0.0.json": []byte(`{"version":"1.0.0"}`)}
	sha, err := PushBranch(ctx, repo.url(), Credentials{}, "main", "release/payouts/1.0.0", files, "Release payouts 1.0.0", releaser)
	if err != nil {
		t.Fatal(err)
	}
	if got := repo.tip("release/payouts/1.0.0"); got != sha {
		t.Fatalf("the branch is at %s, PushBranch said %s", got, sha)
	}
	c, err := repo.fresh().CommitObject(plumbing.NewHash(sha))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.ParentHashes) != 1 || c.ParentHashes[0].String() != main || c.Message != "Release payouts 1.0.0" || c.Author.Name != "Retool" {
		t.Errorf("commit %+v: want one parent %s, the message and author given", c, main)
	}
	if got := repo.fileAt(sha, "dist/apps/a1/1.0.0.json"); got != `{"version":"1.0.0"}` {
		t.Errorf("the artifact holds %q", got)
	}
	if got := repo.fileAt(sha, "apps/app.json"); got == "" {
		t.Error("the base's files are kept")
	}
	if repo.tip("main") != main {
		t.Error("main moved")
	}
	if _, err := PushBranch(ctx, repo.url(), Credentials{}, "main", "release/payouts/1.0.0", files, "again", releaser); err == nil || !IsInvalid(err) {
		t.Errorf("pushing an existing branch: %v, want it refused", err)
	}
	if _, err := PushBranch(ctx, repo.url(), Credentials{}, "trunk", "release/x", files, "m", releaser); !IsNotFound(err) {
		t.Errorf("a missing base: %v, want not found", err)
	}
}

func TestMergeBranchAndContains(t *testing.T) {
	ctx := context.Background()
	repo := newTestRepo(t)
	repo.commit("first")
	r := NewResolver(Options{CacheTTL: -1})
	push := func(branch, path string) string {
		t.Helper()
		sha, err := PushBranch(ctx, repo.url(), Credentials{}, "main", branch, map[string][]byte{path: []byte(branch)}, branch, releaser)
		if err != nil {
			t.Fatal(err)
		}
		return sha
	}
	contains := func(sha string) bool {
		t.Helper()
		ok, err := r.Contains(ctx, repo.url(), Credentials{}, "main", sha)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	a := push("release/a/1.0.0", "dist/apps/a/1.0.0.json")
	b := push("release/b/2.0.0", "dist/apps/b/2.0.0.json")
	if contains(a) || contains(b) {
		t.Fatal("unmerged branches are on main")
	}

	// a: main has not moved since, a fast-forward.
	m, err := MergeBranch(ctx, repo.url(), Credentials{}, "release/a/1.0.0", "main", releaser)
	if err != nil || !m.FastForward || m.Commit != a || repo.tip("main") != a {
		t.Fatalf("merge a = %+v, %v; main at %s, want a fast-forward to %s", m, err, repo.tip("main"), a)
	}
	if !contains(a) || contains(b) {
		t.Error("after a's merge: a is on main, b is not")
	}
	// b: main moved, a merge commit with both artifacts.
	m, err = MergeBranch(ctx, repo.url(), Credentials{}, "release/b/2.0.0", "main", releaser)
	if err != nil || m.FastForward || repo.tip("main") != m.Commit {
		t.Fatalf("merge b = %+v, %v", m, err)
	}
	if repo.fileAt(m.Commit, "dist/apps/a/1.0.0.json") == "" || repo.fileAt(m.Commit, "dist/apps/b/2.0.0.json") == "" {
		t.Error("the merge commit holds both artifacts")
	}
	if !contains(a) || !contains(b) {
		t.Error("after both merges, both are on main")
	}
	// Merging again changes nothing.
	again, err := MergeBranch(ctx, repo.url(), Credentials{}, "release/b/2.0.0", "main", releaser)
	if err != nil || !again.AlreadyMerged || repo.tip("main") != m.Commit {
		t.Errorf("merging again = %+v, %v", again, err)
	}
	if _, err := r.Contains(ctx, repo.url(), Credentials{}, "trunk", a); !IsNotFound(err) {
		t.Errorf("a missing branch: %v, want not found", err)
	}
	if _, err := r.Contains(ctx, repo.url(), Credentials{}, "main", "abc"); !IsInvalid(err) {
		t.Errorf("a short sha: %v, want invalid", err)
	}
	if _, err := MergeBranch(ctx, repo.url(), Credentials{}, "release/none", "main", releaser); !IsNotFound(err) {
		t.Errorf("merging a missing branch: %v, want not found", err)
	}
}

func TestMergeBranchRefusesConflicts(t *testing.T) {
	ctx := context.Background()
	repo := newTestRepo(t)
	repo.commit("first")
	for _, b := range []string{"one", "two"} {
		if _, err := PushBranch(ctx, repo.url(), Credentials{}, "main", b, map[string][]byte{"same.json": []byte(b)}, b, releaser); err != nil {
			t.Fatal(err)
		}
	}
	first, err := MergeBranch(ctx, repo.url(), Credentials{}, "one", "main", releaser)
	if err != nil {
		t.Fatal(err)
	}
	_, err = MergeBranch(ctx, repo.url(), Credentials{}, "two", "main", releaser)
	if !errors.Is(err, ErrConflict) || repo.tip("main") != first.Commit {
		t.Errorf("conflicting merge: %v, main at %s; want ErrConflict and main unchanged", err, repo.tip("main"))
	}
}
