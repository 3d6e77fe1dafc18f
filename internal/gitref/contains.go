package gitref

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// Contains reports whether commit (a full sha) is on branch of the repository at repoURL: its tip or an
// ancestor of it, as after a pull request that brought it in was merged. The branch is read from the
// cached listing; its history is fetched only when its tip is not the commit, and the answer for a tip
// is kept (history does not change under a commit). Errors are as Resolve's.
func (r *Resolver) Contains(ctx context.Context, repoURL string, creds Credentials, branch, commit string) (bool, error) {
	rm, err := r.remoteFor(repoURL, creds, branch)
	if err != nil {
		return false, err
	}
	if !fullSHA.MatchString(commit) {
		return false, rm.fail(ReasonInvalid, fmt.Sprintf("%q is not a full commit sha", commit), nil)
	}
	name := plumbing.NewBranchReferenceName(branch)
	if err := name.Validate(); err != nil {
		return false, rm.fail(ReasonInvalid, fmt.Sprintf("not a valid branch name: %v", err), nil)
	}
	l, err := r.listing(ctx, rm)
	if err != nil {
		return false, err
	}
	tip, ok := l.refs[name]
	if !ok {
		return false, rm.fail(ReasonRefNotFound, "no branch of that name", nil)
	}
	want := plumbing.NewHash(strings.ToLower(commit))
	if tip == want {
		return true, nil
	}
	key := rm.key + "\x00" + tip.String() + "\x00" + want.String()
	if found, ok := r.cachedAncestor(key); ok {
		return found, nil
	}
	v, err := r.detached(ctx, "contains\x00"+key, func(c context.Context) (any, error) {
		if found, ok := r.cachedAncestor(key); ok {
			return found, nil
		}
		sto, err := r.fetch(c, rm, []plumbing.Hash{tip}, false)
		if err != nil {
			return nil, err
		}
		head, err := object.GetCommit(sto, tip)
		if err != nil {
			return nil, fmt.Errorf("the tip of %s was not sent: %w", branch, err)
		}
		found := false
		iter := object.NewCommitPreorderIter(head, nil, nil)
		err = iter.ForEach(func(c *object.Commit) error {
			if c.Hash == want {
				found = true
				return storer.ErrStop
			}
			return nil
		})
		if err != nil && !errors.Is(err, plumbing.ErrObjectNotFound) {
			return nil, err
		}
		r.mu.Lock()
		if len(r.ancestors) >= maxCached {
			clear(r.ancestors)
		}
		r.ancestors[key] = found
		r.mu.Unlock()
		return found, nil
	})
	if err != nil {
		return false, r.wrap(rm, err)
	}
	return v.(bool), nil
}

func (r *Resolver) cachedAncestor(key string) (found, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	found, ok = r.ancestors[key]
	return found, ok
}
