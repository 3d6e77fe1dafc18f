// Package gitref resolves a Release's ref (tag, branch or commit) to a commit of a remote git repository
// with go-git, without a git binary. Remote listings are cached briefly per repository and credentials,
// and concurrent callers share one listing.
package gitref

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/governor-dev/governor/internal/gitref/gitserver"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/sideband"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
	"github.com/go-git/go-git/v5/plumbing/transport/server"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"github.com/go-git/go-git/v5/storage/memory"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
	"golang.org/x/sync/singleflight"
)

// RefKind is what a ref named.
type RefKind string

const (
	KindTag    RefKind = "Tag"
	KindBranch RefKind = "Branch"
	KindCommit RefKind = "Commit"
)

// Resolution is a ref resolved to a commit.
type Resolution struct {
	// Commit is the full sha of the commit (annotated tags are peeled).
	Commit string
	Kind   RefKind
	// Name is the full ref name (refs/tags/v1.4.0, refs/heads/main), or the sha for a commit.
	Name string
}

// Options configure a Resolver.
type Options struct {
	// CacheTTL is how long a listing (and a commit found to exist) is reused; default 30s, negative: no cache.
	CacheTTL time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Timeout bounds one remote operation (listing or fetch); default 30s.
	Timeout time.Duration
}

// Stats count the remote operations a Resolver made.
type Stats struct {
	// Listings is the number of remote ref listings.
	Listings int64
	// Fetches is the number of object fetches (to check a commit, or peel a tag the server did not peel).
	Fetches int64
}

// Resolver resolves refs; it is safe for concurrent use.
type Resolver struct {
	ttl     time.Duration
	now     func() time.Time
	timeout time.Duration

	group singleflight.Group

	mu        sync.Mutex
	listings  map[string]*listing
	commits   map[string]time.Time     // repoKey|sha -> expiry of "exists"
	peeled    map[string]plumbing.Hash // repoKey|object -> commit (immutable)
	ancestors map[string]bool          // repoKey|tip|commit -> commit is tip or an ancestor (immutable)

	listCount  atomic.Int64
	fetchCount atomic.Int64
}

type listing struct {
	expires time.Time
	err     error
	refs    map[plumbing.ReferenceName]plumbing.Hash // refs/heads/* and refs/tags/*
	peeled  map[plumbing.ReferenceName]plumbing.Hash // annotated tags, as the server peeled them
	// anyWant: the server gives any reachable object, not only the tips it advertised.
	anyWant bool
}

// maxCached bounds each cache map; past it, expired entries are dropped (and all of them if none expired).
const maxCached = 4096

// NewResolver returns a Resolver.
func NewResolver(opts Options) *Resolver {
	r := &Resolver{ttl: opts.CacheTTL, now: opts.Now, timeout: opts.Timeout,
		listings: map[string]*listing{}, commits: map[string]time.Time{}, peeled: map[string]plumbing.Hash{},
		ancestors: map[string]bool{}}
	if r.ttl == 0 {
		r.ttl = 30 * time.Second
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.timeout <= 0 {
		r.timeout = 30 * time.Second
	}
	return r
}

// Stats returns the counts of remote operations so far.
func (r *Resolver) Stats() Stats {
	return Stats{Listings: r.listCount.Load(), Fetches: r.fetchCount.Load()}
}

const (
	schemeFile = "file"
	schemeSSH  = "ssh"
)

// inProcess serves file:// repositories with go-git's own server, so that no git binary is needed.
var inProcess = server.NewClient(gitserver.LocalLoader{})

var (
	fullSHA  = regexp.MustCompile(`^[0-9a-fA-F]{40}$`)
	shortSHA = regexp.MustCompile(`^[0-9a-fA-F]{7,39}$`)
)

// remote is one repository reached with one set of credentials.
type remote struct {
	ep      *transport.Endpoint
	auth    transport.AuthMethod
	key     string // cache key: repository and credentials identity
	display string // URL without password
	ref     string
}

func (rm *remote) fail(reason Reason, detail string, err error) error {
	return &Error{Reason: reason, Repository: rm.display, Ref: rm.ref, Detail: detail, Err: err}
}

// Resolve resolves ref in the repository at repoURL: a tag, then a branch of that name; a full ref name
// (refs/tags/..., refs/heads/...); a full commit sha, checked to exist; or an abbreviated sha of a tag
// or branch tip. Errors are *Error or *CredentialsError: see IsNotFound, IsAuthError, IsTransient.
func (r *Resolver) Resolve(ctx context.Context, repoURL string, creds Credentials, ref string) (Resolution, error) {
	rm, err := r.remoteFor(repoURL, creds, ref)
	if err != nil {
		return Resolution{}, err
	}
	if err := checkRef(ref); err != nil {
		return Resolution{}, rm.fail(ReasonInvalid, err.Error(), nil)
	}
	l, err := r.listing(ctx, rm)
	if err != nil {
		return Resolution{}, err
	}

	if fullSHA.MatchString(ref) {
		sha := plumbing.NewHash(strings.ToLower(ref))
		if err := r.commitExists(ctx, rm, l, sha); err != nil {
			return Resolution{}, err
		}
		return Resolution{Commit: sha.String(), Kind: KindCommit, Name: sha.String()}, nil
	}

	var names []plumbing.ReferenceName
	switch {
	case strings.HasPrefix(ref, "refs/tags/"), strings.HasPrefix(ref, "refs/heads/"):
		names = []plumbing.ReferenceName{plumbing.ReferenceName(ref)}
	case strings.HasPrefix(ref, "refs/"):
		return Resolution{}, rm.fail(ReasonInvalid, "only tags (refs/tags/...) and branches (refs/heads/...) are resolved", nil)
	default:
		names = []plumbing.ReferenceName{plumbing.NewTagReferenceName(ref), plumbing.NewBranchReferenceName(ref)}
	}
	for _, name := range names {
		target, ok := l.refs[name]
		if !ok {
			continue
		}
		if name.IsBranch() {
			return Resolution{Commit: target.String(), Kind: KindBranch, Name: name.String()}, nil
		}
		commit, err := r.peel(ctx, rm, l, name, target)
		if err != nil {
			return Resolution{}, err
		}
		return Resolution{Commit: commit.String(), Kind: KindTag, Name: name.String()}, nil
	}

	if shortSHA.MatchString(ref) {
		return r.abbreviated(ctx, rm, l, strings.ToLower(ref))
	}
	return Resolution{}, rm.fail(ReasonRefNotFound, "no tag or branch of that name", nil)
}

// sshAuth bounds the SSH connection's setup by the resolver's timeout.
type sshAuth struct {
	*gitssh.PublicKeys
	timeout time.Duration
}

func (a sshAuth) ClientConfig() (*ssh.ClientConfig, error) {
	cfg, err := a.PublicKeys.ClientConfig()
	if err == nil {
		cfg.Timeout = a.timeout
	}
	return cfg, err
}

func (r *Resolver) remoteFor(repoURL string, creds Credentials, ref string) (*remote, error) {
	if strings.TrimSpace(repoURL) == "" {
		return nil, &Error{Reason: ReasonInvalid, Ref: ref, Detail: "the repository URL is empty"}
	}
	ep, err := transport.NewEndpoint(repoURL)
	if err != nil {
		// err quotes the URL, password included: leave it out
		return nil, &Error{Reason: ReasonInvalid, Ref: ref, Detail: fmt.Sprintf("repository URL %q is not a git URL", redactURL(repoURL))}
	}
	shown := *ep
	shown.Password = ""
	rm := &remote{ep: ep, display: shown.String(), ref: ref}
	switch ep.Protocol {
	case schemeFile, "http", "https", schemeSSH, "git":
	default:
		return nil, rm.fail(ReasonInvalid, fmt.Sprintf("unsupported URL scheme %q (use https, ssh or file)", ep.Protocol), nil)
	}
	if ep.Protocol == schemeFile && ep.Path == "" {
		return nil, rm.fail(ReasonInvalid, "the file URL has no path", nil)
	}
	if rm.auth, err = creds.authFor(ep); err != nil {
		return nil, rm.fail(ReasonAuth, "", err)
	}
	if pk, ok := rm.auth.(*gitssh.PublicKeys); ok {
		rm.auth = sshAuth{PublicKeys: pk, timeout: r.timeout}
	}
	ep.CaBundle = creds.caBundle
	rm.key = ep.String() + "\x00" + creds.Identity()
	return rm, nil
}

// checkRef refuses refs git would refuse, so junk never reaches a server.
func checkRef(ref string) error {
	if ref == "" {
		return errors.New("the ref is empty")
	}
	if len(ref) > 255 {
		return errors.New("the ref is longer than 255 characters")
	}
	if fullSHA.MatchString(ref) {
		return nil
	}
	name := ref
	if !strings.HasPrefix(ref, "refs/") {
		name = "refs/tags/" + ref
	}
	if err := plumbing.ReferenceName(name).Validate(); err != nil {
		return fmt.Errorf("not a valid ref name: %w", err)
	}
	return nil
}

func (*Resolver) transportFor(ep *transport.Endpoint) (transport.Transport, error) {
	switch ep.Protocol {
	case schemeFile:
		return inProcess, nil
	}
	return client.NewClient(ep)
}

// session opens an upload-pack session and reads the advertised refs.
func (r *Resolver) session(ctx context.Context, rm *remote) (transport.UploadPackSession, *packp.AdvRefs, error) {
	tr, err := r.transportFor(rm.ep)
	if err != nil {
		return nil, nil, rm.fail(ReasonInvalid, "", err)
	}
	sess, err := tr.NewUploadPackSession(rm.ep, rm.auth)
	if err != nil {
		return nil, nil, rm.transportError(err)
	}
	ar, err := sess.AdvertisedReferencesContext(ctx)
	if err != nil {
		_ = sess.Close()
		if errors.Is(err, transport.ErrEmptyRemoteRepository) {
			return nil, packp.NewAdvRefs(), nil
		}
		return nil, nil, rm.transportError(err)
	}
	return sess, ar, nil
}

func (rm *remote) transportError(err error) error {
	reason := classify(err)
	detail := ""
	var keyErr *knownhosts.KeyError
	switch {
	case reason == ReasonUnreachable && errors.Is(err, context.DeadlineExceeded):
		detail = "timed out"
	case errors.As(err, &keyErr) || strings.Contains(err.Error(), "knownhosts:"):
		detail = "the server's SSH host key is not in the credentials' known_hosts"
	}
	return rm.fail(reason, detail, err)
}

// detached runs f with a context that outlives the caller's (a shared call must not fail because its first
// caller gave up) but is bounded by the timeout; the caller waits only as long as its own context allows.
func (r *Resolver) detached(ctx context.Context, key string, f func(context.Context) (any, error)) (any, error) {
	ch := r.group.DoChan(key, func() (any, error) {
		c, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.timeout)
		defer cancel()
		// Not every transport heeds the context (an SSH handshake does not): past the timeout, the call is
		// left to finish alone so that the key is free for the next caller.
		type result struct {
			v   any
			err error
		}
		done := make(chan result, 1)
		go func() {
			v, err := f(c)
			done <- result{v, err}
		}()
		select {
		case res := <-done:
			return res.v, res.err
		case <-c.Done():
			return nil, c.Err()
		}
	})
	select {
	case res := <-ch:
		return res.Val, res.Err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// listing returns the refs of the repository, from the cache while it is fresh.
func (r *Resolver) listing(ctx context.Context, rm *remote) (*listing, error) {
	if l := r.cachedListing(rm.key); l != nil {
		return l, l.rebind(rm)
	}
	v, err := r.detached(ctx, "list\x00"+rm.key, func(c context.Context) (any, error) {
		if l := r.cachedListing(rm.key); l != nil {
			return l, nil
		}
		l := r.list(c, rm)
		if r.ttl > 0 {
			r.mu.Lock()
			prune(r.listings, r.now(), func(l *listing) time.Time { return l.expires })
			r.listings[rm.key] = l
			r.mu.Unlock()
		}
		return l, nil
	})
	if err != nil {
		return nil, &Error{Reason: ReasonUnreachable, Repository: rm.display, Ref: rm.ref, Err: err}
	}
	l := v.(*listing)
	return l, l.rebind(rm)
}

// rebind returns the listing's error as seen by this caller (its ref).
func (l *listing) rebind(rm *remote) error {
	var e *Error
	if errors.As(l.err, &e) {
		c := *e
		c.Ref = rm.ref
		return &c
	}
	return l.err
}

func (r *Resolver) cachedListing(key string) *listing {
	r.mu.Lock()
	defer r.mu.Unlock()
	if l, ok := r.listings[key]; ok && r.now().Before(l.expires) {
		return l
	}
	return nil
}

func (r *Resolver) list(ctx context.Context, rm *remote) *listing {
	r.listCount.Add(1)
	l := &listing{expires: r.now().Add(r.ttl),
		refs: map[plumbing.ReferenceName]plumbing.Hash{}, peeled: map[plumbing.ReferenceName]plumbing.Hash{}}
	sess, ar, err := r.session(ctx, rm)
	if err != nil {
		l.err = err
		return l
	}
	if sess != nil {
		_ = sess.Close()
	}
	for name, h := range ar.References {
		n := plumbing.ReferenceName(name)
		if n.IsBranch() || n.IsTag() {
			l.refs[n] = h
		}
	}
	for name, h := range ar.Peeled {
		if n := plumbing.ReferenceName(name); n.IsTag() {
			l.peeled[n] = h
		}
	}
	l.anyWant = rm.ep.Protocol == schemeFile || ar.Capabilities.Supports(capability.AllowReachableSHA1InWant)
	return l
}

// peel returns the commit a tag points to: as the server peeled it, or, if it did not (go-git's own
// server does not), by fetching the tag's object. Object ids are immutable, so peels are kept.
func (r *Resolver) peel(ctx context.Context, rm *remote, l *listing, name plumbing.ReferenceName, target plumbing.Hash) (plumbing.Hash, error) {
	if c, ok := l.peeled[name]; ok {
		return c, nil
	}
	if len(l.peeled) > 0 {
		return target, nil // the server peels annotated tags: this one is lightweight
	}
	key := rm.key + "\x00" + target.String()
	if c, ok := r.cachedPeel(key); ok {
		return c, nil
	}
	v, err := r.detached(ctx, "peel\x00"+key, func(c context.Context) (any, error) {
		if commit, ok := r.cachedPeel(key); ok { // peeled by a call that just ended
			return commit, nil
		}
		sto, err := r.fetch(c, rm, []plumbing.Hash{target}, true)
		if err != nil {
			return nil, err
		}
		commit, err := peelObject(sto, target)
		if err != nil {
			return nil, err
		}
		r.mu.Lock() // kept before the call ends, so that no caller fetches it again
		if len(r.peeled) >= maxCached {
			clear(r.peeled)
		}
		r.peeled[key] = commit
		r.mu.Unlock()
		return commit, nil
	})
	var notCommit errNotCommit
	if errors.As(err, &notCommit) {
		return plumbing.ZeroHash, rm.fail(ReasonRefNotFound, fmt.Sprintf("tag %s does not point to a commit: %v", name, err), nil)
	}
	if err != nil {
		return plumbing.ZeroHash, r.wrap(rm, err)
	}
	return v.(plumbing.Hash), nil
}

func (r *Resolver) cachedPeel(key string) (plumbing.Hash, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.peeled[key]
	return c, ok
}

func (r *Resolver) wrap(rm *remote, err error) error {
	var e *Error
	if errors.As(err, &e) {
		c := *e
		c.Ref = rm.ref
		return &c
	}
	return rm.fail(ReasonUnreachable, "", err)
}

// peelObject follows tag objects to the commit.
func peelObject(sto *memory.Storage, h plumbing.Hash) (plumbing.Hash, error) {
	for range 10 {
		obj, err := sto.EncodedObject(plumbing.AnyObject, h)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("object %s was not sent: %w", h, err)
		}
		switch obj.Type() {
		case plumbing.CommitObject:
			return h, nil
		case plumbing.TagObject:
			tag, err := object.DecodeTag(sto, obj)
			if err != nil {
				return plumbing.ZeroHash, err
			}
			h = tag.Target
		default:
			return plumbing.ZeroHash, errNotCommit{h, obj.Type()}
		}
	}
	return plumbing.ZeroHash, fmt.Errorf("tag %s: too many nested tags", h)
}

type errNotCommit struct {
	h plumbing.Hash
	t plumbing.ObjectType
}

func (e errNotCommit) Error() string { return fmt.Sprintf("object %s is a %s, not a commit", e.h, e.t) }

// commitExists checks that sha is a commit of the repository: a tip or peeled tag of the listing, or
// fetched from the server (depth 1 where the server allows it).
func (r *Resolver) commitExists(ctx context.Context, rm *remote, l *listing, sha plumbing.Hash) error {
	if l.isTip(sha) {
		return nil
	}
	key := rm.key + "\x00" + sha.String()
	if r.commitKnown(key) {
		return nil
	}
	wants := []plumbing.Hash{sha}
	if !l.anyWant {
		// The server gives only what it advertised: fetch every tip and look for the commit.
		wants = wants[:0]
		seen := map[plumbing.Hash]bool{}
		for _, h := range l.refs {
			if !seen[h] {
				seen[h] = true
				wants = append(wants, h)
			}
		}
		if len(wants) == 0 {
			return rm.fail(ReasonRefNotFound, "the repository is empty", nil)
		}
	}
	_, err := r.detached(ctx, "commit\x00"+key, func(c context.Context) (any, error) {
		if r.commitKnown(key) { // found by a call that just ended
			return nil, nil
		}
		sto, err := r.fetch(c, rm, wants, true)
		if err != nil {
			if notOurRef(err) {
				return nil, rm.fail(ReasonRefNotFound, "no commit with that sha", nil)
			}
			return nil, err
		}
		obj, err := sto.EncodedObject(plumbing.AnyObject, sha)
		if err != nil {
			return nil, rm.fail(ReasonRefNotFound, "no commit with that sha", nil)
		}
		if obj.Type() != plumbing.CommitObject {
			return nil, rm.fail(ReasonRefNotFound, errNotCommit{sha, obj.Type()}.Error(), nil)
		}
		if r.ttl > 0 {
			r.mu.Lock()
			prune(r.commits, r.now(), func(t time.Time) time.Time { return t })
			r.commits[key] = r.now().Add(r.ttl)
			r.mu.Unlock()
		}
		return nil, nil
	})
	if err != nil {
		return r.wrap(rm, err)
	}
	return nil
}

func (r *Resolver) commitKnown(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	exp, ok := r.commits[key]
	return ok && r.now().Before(exp)
}

// isTip reports whether sha is known, from the listing alone, to be the commit of a branch or tag.
func (l *listing) isTip(sha plumbing.Hash) bool {
	for name, h := range l.refs {
		switch {
		case name.IsBranch() && h == sha:
			return true
		case l.peeled[name] == sha:
			return true
		case len(l.peeled) > 0 && h == sha && l.peeled[name].IsZero():
			return true // a lightweight tag, from a server that peels annotated ones
		}
	}
	return false
}

// notOurRef reports a server refusing a want it does not have (git: "not our ref"; go-git: object not found).
func notOurRef(err error) bool {
	return errors.Is(err, plumbing.ErrObjectNotFound) || strings.Contains(err.Error(), "not our ref")
}

// abbreviated resolves an abbreviated sha against the tips and peeled tags of the listing.
func (r *Resolver) abbreviated(ctx context.Context, rm *remote, l *listing, prefix string) (Resolution, error) {
	found := map[plumbing.Hash]bool{}
	for name, h := range l.refs {
		if name.IsTag() {
			c, err := r.peel(ctx, rm, l, name, h)
			if err != nil {
				return Resolution{}, err
			}
			h = c
		}
		if strings.HasPrefix(h.String(), prefix) {
			found[h] = true
		}
	}
	switch len(found) {
	case 0:
		return Resolution{}, rm.fail(ReasonRefNotFound,
			"no tag or branch of that name, and no tag or branch tip with that abbreviated sha (give the full 40-character sha of other commits)", nil)
	case 1:
		for h := range found {
			return Resolution{Commit: h.String(), Kind: KindCommit, Name: h.String()}, nil
		}
	}
	return Resolution{}, rm.fail(ReasonInvalid, fmt.Sprintf("abbreviated sha matches %d commits: give more characters", len(found)), nil)
}

// fetch fetches wants and what they reach into memory: with shallow, to depth 1 where the server
// allows it; otherwise their whole history.
func (r *Resolver) fetch(ctx context.Context, rm *remote, wants []plumbing.Hash, shallow bool) (sto *memory.Storage, err error) {
	r.fetchCount.Add(1)
	sess, ar, err := r.session(ctx, rm)
	if err != nil {
		return nil, err
	}
	if sess == nil {
		return nil, rm.fail(ReasonRefNotFound, "the repository is empty", nil)
	}
	defer func() {
		if cerr := sess.Close(); err == nil && cerr != nil {
			err = rm.transportError(cerr)
		}
	}()
	req := packp.NewUploadPackRequestFromCapabilities(ar.Capabilities)
	req.Wants = wants
	if shallow && ar.Capabilities.Supports(capability.Shallow) {
		req.Depth = packp.DepthCommits(1)
		if err := req.Capabilities.Set(capability.Shallow); err != nil {
			return nil, err
		}
	}
	if ar.Capabilities.Supports(capability.NoProgress) {
		if err := req.Capabilities.Set(capability.NoProgress); err != nil {
			return nil, err
		}
	}
	resp, err := sess.UploadPack(ctx, req)
	if err != nil {
		if notOurRef(err) {
			return nil, err
		}
		return nil, rm.transportError(err)
	}
	defer func() { _ = resp.Close() }()
	var pack io.Reader = resp
	switch {
	case req.Capabilities.Supports(capability.Sideband64k):
		pack = sideband.NewDemuxer(sideband.Sideband64k, resp)
	case req.Capabilities.Supports(capability.Sideband):
		pack = sideband.NewDemuxer(sideband.Sideband, resp)
	}
	sto = memory.NewStorage()
	if err := packfile.UpdateObjectStorage(sto, pack); err != nil {
		if notOurRef(err) {
			return nil, err
		}
		return nil, rm.transportError(err)
	}
	return sto, nil
}

// prune drops expired entries of a cache map that reached maxCached, and all of them if none expired.
func prune[V any](m map[string]V, now time.Time, expiry func(V) time.Time) {
	if len(m) < maxCached {
		return
	}
	for k, v := range m {
		if !now.Before(expiry(v)) {
			delete(m, k)
		}
	}
	if len(m) >= maxCached {
		clear(m)
	}
}

// redactURL hides a password in a URL that failed to parse.
func redactURL(s string) string {
	if i := strings.Index(s, "@"); i >= 0 {
		if j := strings.Index(s, "://"); j >= 0 && j < i {
			return s[:j+3] + "***" + s[i:]
		}
	}
	return s
}
