package gitref

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"time"

	"github.com/go-git/go-billy/v5/memfs"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
	"github.com/go-git/go-git/v5/storage/memory"
)

// go-git's own file:// transport runs the git binary; Governor's clones and pushes of file:// remotes
// use go-git's server in process instead, as its resolver does.
func init() { client.InstallProtocol(schemeFile, inProcess) }

// Signature is the author (and committer) of a commit Governor or its emulator makes.
type Signature struct {
	Name, Email string
	When        time.Time
}

func (s Signature) object() *object.Signature {
	when := s.When
	if when.IsZero() {
		when = time.Now()
	}
	return &object.Signature{Name: s.Name, Email: s.Email, When: when}
}

// clone is a working copy in memory of one branch of a remote repository.
type clone struct {
	rm   *remote
	repo *git.Repository
	wt   *git.Worktree
}

// cloneBranch clones branch (its whole history, in memory) of the repository at repoURL.
func cloneBranch(ctx context.Context, repoURL string, creds Credentials, branch string) (*clone, error) {
	rm, err := (&Resolver{}).remoteFor(repoURL, creds, branch)
	if err != nil {
		return nil, err
	}
	name := plumbing.NewBranchReferenceName(branch)
	if err := name.Validate(); err != nil {
		return nil, rm.fail(ReasonInvalid, fmt.Sprintf("not a valid branch name: %v", err), nil)
	}
	repo, err := git.CloneContext(ctx, memory.NewStorage(), memfs.New(), &git.CloneOptions{
		URL: rm.ep.String(), Auth: rm.auth, CABundle: rm.ep.CaBundle, ReferenceName: name, SingleBranch: true, Tags: git.NoTags})
	if err != nil {
		if errors.Is(err, plumbing.ErrReferenceNotFound) || errors.Is(err, git.NoMatchingRefSpecError{}) {
			return nil, rm.fail(ReasonRefNotFound, "no branch of that name", nil)
		}
		return nil, rm.transportError(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		return nil, err
	}
	return &clone{rm: rm, repo: repo, wt: wt}, nil
}

func (c *clone) push(ctx context.Context, branch string) error {
	ref := plumbing.NewBranchReferenceName(branch)
	err := c.repo.PushContext(ctx, &git.PushOptions{RemoteName: git.DefaultRemoteName, Auth: c.rm.auth, CABundle: c.rm.ep.CaBundle,
		RefSpecs: []config.RefSpec{config.RefSpec(ref + ":" + ref)}})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return c.rm.transportError(fmt.Errorf("pushing %s: %w", branch, err))
	}
	return nil
}

// ErrBranchExists is returned (wrapped) by PushBranch when the repository has a branch of that name.
var ErrBranchExists = errors.New("the branch exists already")

// PushBranch makes a branch off the tip of base in the repository at repoURL holding one commit that
// writes files (path -> content), and pushes it: what Retool does when it releases an app. It returns
// the commit's sha. A branch of that name that exists already is refused (ErrBranchExists).
func PushBranch(ctx context.Context, repoURL string, creds Credentials, base, branch string,
	files map[string][]byte, message string, author Signature) (string, error) {
	c, err := cloneBranch(ctx, repoURL, creds, base)
	if err != nil {
		return "", err
	}
	name := plumbing.NewBranchReferenceName(branch)
	if err := name.Validate(); err != nil {
		return "", c.rm.fail(ReasonInvalid, fmt.Sprintf("branch %q: %v", branch, err), nil)
	}
	remote, err := c.repo.Remote(git.DefaultRemoteName)
	if err != nil {
		return "", err
	}
	refs, err := remote.ListContext(ctx, &git.ListOptions{Auth: c.rm.auth, CABundle: c.rm.ep.CaBundle})
	if err != nil {
		return "", c.rm.transportError(err)
	}
	for _, r := range refs {
		if r.Name() == name {
			return "", c.rm.fail(ReasonInvalid, fmt.Sprintf("branch %s", branch), ErrBranchExists)
		}
	}
	if err := c.wt.Checkout(&git.CheckoutOptions{Branch: name, Create: true}); err != nil {
		return "", err
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if err := writeFile(c.wt, p, files[p]); err != nil {
			return "", err
		}
	}
	h, err := c.wt.Commit(message, &git.CommitOptions{Author: author.object(), AllowEmptyCommits: true})
	if err != nil {
		return "", err
	}
	if err := c.push(ctx, branch); err != nil {
		return "", err
	}
	return h.String(), nil
}

func writeFile(wt *git.Worktree, p string, content []byte) error {
	if err := wt.Filesystem.MkdirAll(path.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := wt.Filesystem.Create(p)
	if err != nil {
		return err
	}
	if _, err := f.Write(content); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	_, err = wt.Add(p)
	return err
}

// Merge is the outcome of MergeBranch.
type Merge struct {
	// Commit is the target branch's tip after the merge.
	Commit string
	// FastForward: the target had not moved since the branch was made; it now points to the branch's tip.
	FastForward bool
	// AlreadyMerged: the branch's tip was on the target already; nothing was pushed.
	AlreadyMerged bool
}

// ErrConflict is returned (wrapped) by MergeBranch when both branches changed a file differently.
var ErrConflict = errors.New("merge conflict")

// MergeBranch merges branch into target in the repository at repoURL, as merging a pull request does,
// and pushes target: a fast-forward when target has not moved, else a merge commit whose tree is
// target's with the files branch changed since their merge base. A file both changed differently is a
// conflict (ErrConflict) and nothing is pushed.
func MergeBranch(ctx context.Context, repoURL string, creds Credentials, branch, target string, author Signature) (Merge, error) {
	c, err := cloneBranch(ctx, repoURL, creds, target)
	if err != nil {
		return Merge{}, err
	}
	src := plumbing.NewBranchReferenceName(branch)
	tracking := plumbing.NewRemoteReferenceName(git.DefaultRemoteName, branch)
	err = c.repo.FetchContext(ctx, &git.FetchOptions{Auth: c.rm.auth, CABundle: c.rm.ep.CaBundle, Tags: git.NoTags,
		RefSpecs: []config.RefSpec{config.RefSpec("+" + src + ":" + tracking)}})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		if errors.Is(err, git.NoMatchingRefSpecError{}) {
			return Merge{}, c.rm.fail(ReasonRefNotFound, fmt.Sprintf("no branch %s", branch), nil)
		}
		return Merge{}, c.rm.transportError(err)
	}
	theirsRef, err := c.repo.Reference(tracking, true)
	if err != nil {
		return Merge{}, c.rm.fail(ReasonRefNotFound, fmt.Sprintf("no branch %s", branch), nil)
	}
	oursRef, err := c.repo.Head()
	if err != nil {
		return Merge{}, err
	}
	ours, err := c.repo.CommitObject(oursRef.Hash())
	if err != nil {
		return Merge{}, err
	}
	theirs, err := c.repo.CommitObject(theirsRef.Hash())
	if err != nil {
		return Merge{}, err
	}
	if ok, err := theirs.IsAncestor(ours); err != nil || ok || theirs.Hash == ours.Hash {
		return Merge{Commit: ours.Hash.String(), AlreadyMerged: err == nil}, err
	}
	targetRef := plumbing.NewBranchReferenceName(target)
	if ok, err := ours.IsAncestor(theirs); err != nil {
		return Merge{}, err
	} else if ok {
		if err := c.repo.Storer.SetReference(plumbing.NewHashReference(targetRef, theirs.Hash)); err != nil {
			return Merge{}, err
		}
		if err := c.push(ctx, target); err != nil {
			return Merge{}, err
		}
		return Merge{Commit: theirs.Hash.String(), FastForward: true}, nil
	}
	if err := c.applyChanges(ours, theirs, branch, target); err != nil {
		return Merge{}, err
	}
	h, err := c.wt.Commit(fmt.Sprintf("Merge branch '%s' into %s", branch, target), &git.CommitOptions{
		Author: author.object(), Parents: []plumbing.Hash{ours.Hash, theirs.Hash}, AllowEmptyCommits: true})
	if err != nil {
		return Merge{}, err
	}
	if err := c.push(ctx, target); err != nil {
		return Merge{}, err
	}
	return Merge{Commit: h.String()}, nil
}

// applyChanges writes into the worktree (checked out at ours) the files theirs changed since the merge
// base, refusing a file ours changed differently.
func (c *clone) applyChanges(ours, theirs *object.Commit, branch, target string) error {
	bases, err := ours.MergeBase(theirs)
	if err != nil || len(bases) == 0 {
		return fmt.Errorf("%s and %s have no common history: %w", branch, target, err)
	}
	baseTree, err := bases[0].Tree()
	if err != nil {
		return err
	}
	ourChanges, err := changedFiles(baseTree, ours)
	if err != nil {
		return err
	}
	theirChanges, err := changedFiles(baseTree, theirs)
	if err != nil {
		return err
	}
	for p, theirFile := range theirChanges {
		if ourFile, changed := ourChanges[p]; changed && !sameFile(ourFile, theirFile) {
			return fmt.Errorf("%w: %s and %s both changed %s: merge them by hand", ErrConflict, branch, target, p)
		}
		if theirFile == nil {
			if _, err := c.wt.Remove(p); err != nil {
				return err
			}
			continue
		}
		if theirFile.Mode == filemode.Submodule {
			return fmt.Errorf("%s changes the submodule %s: merge it by hand", branch, p)
		}
		blob, err := theirFile.Blob.Reader()
		if err != nil {
			return err
		}
		content, err := io.ReadAll(blob)
		_ = blob.Close()
		if err != nil {
			return err
		}
		if err := writeFile(c.wt, p, content); err != nil {
			return err
		}
	}
	return nil
}

// changedFiles lists the files of commit that differ from base: path -> the file (nil when deleted).
func changedFiles(base *object.Tree, commit *object.Commit) (map[string]*object.File, error) {
	tree, err := commit.Tree()
	if err != nil {
		return nil, err
	}
	changes, err := object.DiffTree(base, tree)
	if err != nil {
		return nil, err
	}
	out := map[string]*object.File{}
	for _, ch := range changes {
		_, to, err := ch.Files()
		if err != nil {
			return nil, err
		}
		p := ch.To.Name
		if to == nil {
			p = ch.From.Name
		}
		out[p] = to
	}
	return out, nil
}

func sameFile(a, b *object.File) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Hash == b.Hash && a.Mode == b.Mode
}
