package gitref

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// testRepo is a repository made in the test, served over file://.
type testRepo struct {
	t    testing.TB
	dir  string
	repo *git.Repository
	n    int
}

func newTestRepo(t testing.TB) *testRepo {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "apps")
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")}})
	if err != nil {
		t.Fatal(err)
	}
	return &testRepo{t: t, dir: dir, repo: repo}
}

func (r *testRepo) url() string { return "file://" + filepath.ToSlash(r.dir) }

func (r *testRepo) sig() *object.Signature {
	return &object.Signature{Name: "Test", Email: "test@example.invalid", When: time.Date(2026, 2, 1, 0, r.n, 0, 0, time.UTC)}
}

// commit commits a change of apps/app.json on the checked-out branch.
func (r *testRepo) commit(msg string) string {
	r.t.Helper()
	r.n++
	wt, err := r.repo.Worktree()
	if err != nil {
		r.t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(r.dir, "apps"), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.dir, "apps", "app.json"), []byte(`{"msg": "`+msg+`"}`), 0o644); err != nil {
		r.t.Fatal(err)
	}
	if _, err := wt.Add("apps/app.json"); err != nil {
		r.t.Fatal(err)
	}
	h, err := wt.Commit(msg, &git.CommitOptions{Author: r.sig()})
	if err != nil {
		r.t.Fatal(err)
	}
	return h.String()
}

// tag creates (or moves) a tag; annotated with a message.
func (r *testRepo) tag(name, commit string, annotated bool) {
	r.t.Helper()
	_ = r.repo.DeleteTag(name)
	var opts *git.CreateTagOptions
	if annotated {
		opts = &git.CreateTagOptions{Tagger: r.sig(), Message: "release " + name}
	}
	if _, err := r.repo.CreateTag(name, plumbing.NewHash(commit), opts); err != nil {
		r.t.Fatal(err)
	}
}

// branch sets a branch to a commit without checking it out.
func (r *testRepo) branch(name, commit string) {
	r.t.Helper()
	ref := plumbing.NewHashReference(plumbing.NewBranchReferenceName(name), plumbing.NewHash(commit))
	if err := r.repo.Storer.SetReference(ref); err != nil {
		r.t.Fatal(err)
	}
}

// tagObject returns the id of an annotated tag's object.
func (r *testRepo) tagObject(name string) string {
	r.t.Helper()
	ref, err := r.repo.Reference(plumbing.NewTagReferenceName(name), false)
	if err != nil {
		r.t.Fatal(err)
	}
	return ref.Hash().String()
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
