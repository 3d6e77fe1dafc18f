// Package gitserver serves local git repositories over git's smart HTTP
// protocol, with go-git's server behind net/http (no git binary): for
// `governor dev` and tests. Like the git servers people use, and unlike
// go-git's own, it advertises peeled tags and lets clients fetch any
// reachable commit. It is read-only unless Options.Push allows pushes.
package gitserver

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/format/pktline"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/server"
)

// Options configure a Server.
type Options struct {
	// Repositories maps a URL path ("/acme/apps.git") to a repository's
	// directory (bare or not).
	Repositories map[string]string
	// Username and Password, when Username is set, are required as basic
	// auth; otherwise anyone may read (and push, with Push).
	Username, Password string
	// Push accepts pushes (git-receive-pack): an emulated Retool pushing
	// release branches, a person merging one. Default: read-only.
	Push bool
}

// Server is an http.Handler serving the repositories; safe for concurrent use.
type Server struct {
	opts     Options
	upload   transport.Transport
	listings atomic.Int64
}

// New returns a Server.
func New(opts Options) *Server {
	return &Server{opts: opts, upload: server.NewServer(LocalLoader{})}
}

// Listings is the number of ref listings (GET .../info/refs) served.
func (s *Server) Listings() int64 { return s.listings.Load() }

// LocalLoader opens a local repository, bare or not (go-git's filesystem
// loader reads a non-bare repository's worktree as if it were its .git
// directory). It serves this server and gitref's file:// remotes.
type LocalLoader struct{}

// Load opens the repository at the endpoint's path.
func (LocalLoader) Load(ep *transport.Endpoint) (storer.Storer, error) {
	repo, err := git.PlainOpen(ep.Path)
	if err != nil {
		if errors.Is(err, git.ErrRepositoryNotExists) {
			return nil, transport.ErrRepositoryNotFound
		}
		return nil, err
	}
	return repo.Storer, nil
}

// ServeHTTP answers GET <repo>/info/refs?service=git-upload-pack and
// POST <repo>/git-upload-pack; with Push, also
// GET <repo>/info/refs?service=git-receive-pack and POST <repo>/git-receive-pack.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.opts.Username != "" && !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
		http.Error(w, "authentication required", http.StatusUnauthorized)
		return
	}
	var dir, op string
	for path, d := range s.opts.Repositories {
		if rest, ok := strings.CutPrefix(r.URL.Path, strings.TrimSuffix(path, "/")+"/"); ok {
			dir, op = d, rest
		}
	}
	if dir == "" {
		http.NotFound(w, r)
		return
	}
	if r.URL.Query().Get("service") == transport.ReceivePackServiceName || op == "git-receive-pack" {
		s.receive(w, r, dir, op)
		return
	}
	sess, err := s.upload.NewUploadPackSession(&transport.Endpoint{Protocol: "file", Path: dir}, nil)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer func() { _ = sess.Close() }()
	switch {
	case r.Method == http.MethodGet && op == "info/refs":
		s.listings.Add(1)
		s.advertise(w, r, sess, dir)
	case r.Method == http.MethodPost && op == "git-upload-pack":
		uploadPack(w, r, sess)
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) authorized(r *http.Request) bool {
	u, p, ok := r.BasicAuth()
	return ok && subtle.ConstantTimeCompare([]byte(u), []byte(s.opts.Username)) == 1 &&
		subtle.ConstantTimeCompare([]byte(p), []byte(s.opts.Password)) == 1
}

func (s *Server) advertise(w http.ResponseWriter, r *http.Request, sess transport.UploadPackSession, dir string) {
	if svc := r.URL.Query().Get("service"); svc != "" && svc != transport.UploadPackServiceName {
		http.Error(w, "only "+transport.UploadPackServiceName+" and "+transport.ReceivePackServiceName+" are served", http.StatusForbidden)
		return
	}
	ar, err := sess.AdvertisedReferencesContext(r.Context())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	ar.Prefix = [][]byte{[]byte("# service=" + transport.UploadPackServiceName), pktline.Flush}
	_ = ar.Capabilities.Add(capability.AllowReachableSHA1InWant)
	if repo, err := git.PlainOpen(dir); err == nil {
		for name, h := range ar.References {
			if tag, err := object.GetTag(repo.Storer, h); err == nil && strings.HasPrefix(name, "refs/tags/") {
				ar.Peeled[name] = tag.Target
			}
		}
	}
	w.Header().Set("Content-Type", "application/x-git-upload-pack-advertisement")
	w.Header().Set("Cache-Control", "no-cache")
	_ = ar.Encode(w)
}

func uploadPack(w http.ResponseWriter, r *http.Request, sess transport.UploadPackSession) {
	req := packp.NewUploadPackRequest()
	if err := req.Decode(r.Body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/x-git-upload-pack-result")
	resp, err := sess.UploadPack(r.Context(), req)
	if err != nil {
		// git answers a want it does not have with an error line.
		want := ""
		if len(req.Wants) > 0 {
			want = req.Wants[0].String()
		}
		_ = pktline.NewEncoder(w).Encodef("ERR upload-pack: not our ref %s\n", want)
		return
	}
	defer func() { _ = resp.Close() }()
	_ = resp.Encode(w)
}

// receive serves a push: the advertisement of git-receive-pack and the
// reference update request, which go-git's server applies to the repository.
func (s *Server) receive(w http.ResponseWriter, r *http.Request, dir, op string) {
	if !s.opts.Push {
		http.Error(w, "the repository is read-only: pushes are refused", http.StatusForbidden)
		return
	}
	sess, err := s.upload.NewReceivePackSession(&transport.Endpoint{Protocol: "file", Path: dir}, nil)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer func() { _ = sess.Close() }()
	switch {
	case r.Method == http.MethodGet && op == "info/refs":
		ar, err := sess.AdvertisedReferencesContext(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		ar.Prefix = [][]byte{[]byte("# service=" + transport.ReceivePackServiceName), pktline.Flush}
		w.Header().Set("Content-Type", "application/x-git-receive-pack-advertisement")
		w.Header().Set("Cache-Control", "no-cache")
		_ = ar.Encode(w)
	case r.Method == http.MethodPost && op == "git-receive-pack":
		req := packp.NewReferenceUpdateRequest()
		if err := req.Decode(r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		status, err := sess.ReceivePack(r.Context(), req)
		w.Header().Set("Content-Type", "application/x-git-receive-pack-result")
		if status != nil {
			_ = status.Encode(w)
			return
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	default:
		http.NotFound(w, r)
	}
}
