package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/governor-dev/governor/internal/gitref"
)

// Releases, as a Retool instance with source control makes them: creating
// one pushes a branch holding the element's release artifact to the Space's
// repository and answers the branch, its commit and the URL of its pull
// request; the release is listed (and becomes the app's release_version)
// once that commit is on the Space's default branch, which the emulator
// checks with go-git whenever the Space is read.
//
// The Space's repository is <Options.GitBaseURL>/<org>/<repo>.git, org and
// repo being those of the Space's source control configuration; the push
// authenticates with the configuration's token.

// The element types of the release endpoints.
const (
	elementPage     = "PAGE"
	elementWorkflow = "WORKFLOW"
)

// pendingRelease is a release whose branch is not merged yet.
type pendingRelease struct {
	elementID, elementType string
	rel                    release
	branch, commit         string
}

// releaseBook holds, per Space, the releases awaiting their merge.
type releaseBook struct {
	pending map[*space][]*pendingRelease
	// resolver checks merges; its listing is not cached, so a merge is seen at once.
	resolver *gitref.Resolver
}

// pushTimeout bounds one push or merge check.
const pushTimeout = 30 * time.Second

// semverRe is a release version Retool takes: plain X.Y.Z.
var semverRe = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$`)

func (s *Server) releaseRoutes() {
	s.api("GET /source_control/releases/{elementUuid}", "Source Control > Releases > Read", s.listReleases)
	s.api("POST /source_control/releases/{elementUuid}", "Source Control > Releases > Write", s.createRelease)
	// Deprecated by Retool, still answered: the element is an app.
	s.api("GET /source_control/releases/apps/{appUuid}", "Source Control > Releases > Read", s.listReleases)
	s.api("POST /source_control/releases/apps/{appUuid}", "Source Control > Releases > Write", s.createRelease)
	s.releases = releaseBook{pending: map[*space][]*pendingRelease{}, resolver: gitref.NewResolver(gitref.Options{CacheTTL: -1})}
}

// element finds the request's element: {elementUuid} with the elementType
// query parameter, or the deprecated {appUuid}. It returns its id, type and
// name.
func (s *Server) element(sp *space, r *http.Request) (id, typ, name string, status int, body any) {
	if id = r.PathValue("appUuid"); id != "" {
		typ = elementPage
	} else {
		id, typ = r.PathValue("elementUuid"), r.URL.Query().Get("elementType")
		if err := enumErr("elementType", typ, []string{elementPage, elementWorkflow}); err != nil {
			status, body = badBody(err)
			return "", "", "", status, body
		}
	}
	switch typ {
	case elementPage:
		if a := sp.app(id); a != nil {
			return id, typ, a.Name, 0, nil
		}
		status, body = fail(http.StatusNotFound, "App %s not found", id)
	default:
		for _, w := range sp.workflows {
			if w.ID == id {
				return id, typ, w.Name, 0, nil
			}
		}
		status, body = fail(http.StatusNotFound, "Workflow %s not found", id)
	}
	return "", "", "", status, body
}

func (s *Server) listReleases(sp *space, r *http.Request, _ []byte) (int, any) {
	id, _, _, st, b := s.element(sp, r)
	if id == "" {
		return st, b
	}
	return ok(append([]release{}, sp.releases[id]...)) // merges are pulled before every read (handleAPI)
}

func (s *Server) createRelease(sp *space, r *http.Request, body []byte) (int, any) {
	id, typ, name, st, b := s.element(sp, r)
	if id == "" {
		return st, b
	}
	var in struct {
		ReleaseVersion     string `json:"release_version"`
		ReleaseDescription string `json:"release_description"`
		CommitMessage      string `json:"commit_message"`
	}
	if err := decode(body, &in, false); err != nil {
		return badBody(err)
	}
	if !semverRe.MatchString(in.ReleaseVersion) {
		return fail(http.StatusBadRequest, "release_version must be a version X.Y.Z, got %q", in.ReleaseVersion)
	}
	if sp.config == nil {
		return fail(http.StatusBadRequest, "Source control is not configured for this space: a release is pushed to the repository")
	}
	if s.gitBaseURL == "" {
		return fail(http.StatusBadRequest, "This instance reaches no git server: start the emulator with a git base URL (--git-base-url) to push releases")
	}
	s.pullReleases(r.Context(), sp)
	for _, rel := range sp.releases[id] {
		if rel.ReleaseVersion == in.ReleaseVersion {
			return fail(http.StatusBadRequest, "Release %s of %s already exists", in.ReleaseVersion, name)
		}
	}
	for _, p := range s.releases.pending[sp] {
		if p.elementID == id && p.rel.ReleaseVersion == in.ReleaseVersion {
			return fail(http.StatusBadRequest, "Release %s of %s already exists on branch %s, not merged yet", in.ReleaseVersion, name, p.branch)
		}
	}
	now := s.now()
	dir := "apps"
	if typ == elementWorkflow {
		dir = "workflows"
	}
	artifact, _ := json.MarshalIndent(map[string]string{
		"uuid": id, "name": name, "type": typ, "release_version": in.ReleaseVersion,
		"release_description": in.ReleaseDescription, "released_at": stamp(now),
	}, "", "  ")
	branch := "release/" + branchSafe(name) + "/" + in.ReleaseVersion
	msg := in.CommitMessage
	if msg == "" {
		msg = fmt.Sprintf("Release %s %s", name, in.ReleaseVersion)
	}
	ctx, cancel := context.WithTimeout(r.Context(), pushTimeout)
	defer cancel()
	creds, err := s.gitCredentials(sp)
	if err != nil {
		return fail(http.StatusBadRequest, "Source control credentials: %v", err)
	}
	files := map[string][]byte{fmt.Sprintf("dist/%s/%s/%s.json", dir, id, in.ReleaseVersion): append(artifact, '\n')}
	author := gitref.Signature{Name: "Retool", Email: "retool@" + sp.domain, When: now}
	sha, err := gitref.PushBranch(ctx, s.repositoryURL(sp), creds, sp.config.DefaultBranch, branch, files, msg, author)
	for n := 2; errors.Is(err, gitref.ErrBranchExists) && n <= 20; n++ { // a name taken by an earlier run: the next free one
		b := fmt.Sprintf("%s-%d", branch, n)
		if sha, err = gitref.PushBranch(ctx, s.repositoryURL(sp), creds, sp.config.DefaultBranch, b, files, msg, author); err == nil {
			branch = b
		}
	}
	if err != nil {
		return fail(http.StatusBadRequest, "Could not push the release branch: %v", err)
	}
	s.releases.pending[sp] = append(s.releases.pending[sp], &pendingRelease{elementID: id, elementType: typ, branch: branch, commit: sha,
		rel: release{ReleaseVersion: in.ReleaseVersion, ReleaseDescription: in.ReleaseDescription, CreatedAt: stamp(now)}})
	return ok(map[string]string{"commit_sha": sha, "branch_name": branch, "url": pullRequestURL(sp.config, branch)})
}

// pullReleases lists the Space's pending releases whose commit is now on the
// default branch, and makes each the live release of its app. A repository
// it cannot read leaves them pending.
func (s *Server) pullReleases(ctx context.Context, sp *space) {
	pending := s.releases.pending[sp]
	if len(pending) == 0 || sp.config == nil {
		return
	}
	creds, err := s.gitCredentials(sp)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, pushTimeout)
	defer cancel()
	left := pending[:0]
	for _, p := range pending {
		merged, err := s.releases.resolver.Contains(ctx, s.repositoryURL(sp), creds, sp.config.DefaultBranch, p.commit)
		if err != nil || !merged {
			left = append(left, p)
			continue
		}
		sp.releases[p.elementID] = append(sp.releases[p.elementID], p.rel)
		if a := sp.app(p.elementID); a != nil && p.elementType == elementPage {
			a.ReleaseVersion, a.UpdatedAt = p.rel.ReleaseVersion, stamp(s.now())
		}
	}
	s.releases.pending[sp] = left
}

// repositoryURL is the Space's repository as the emulator reaches it.
func (s *Server) repositoryURL(sp *space) string {
	return strings.TrimRight(s.gitBaseURL, "/") + "/" + strings.Trim(sp.config.Org, "/") + "/" + sp.config.Repo + ".git"
}

// pushTokenKeys are the keys of a source control configuration that may
// hold the token a push authenticates with, in the order they are tried.
var pushTokenKeys = []string{"personal_access_token", "project_access_token", gitref.KeyToken, "app_password", "https_password"}

// gitCredentials are the configuration's token, sent as Retool sends it
// (basic auth); none for a file:// repository.
func (s *Server) gitCredentials(sp *space) (gitref.Credentials, error) {
	if strings.HasPrefix(s.gitBaseURL, "file:") {
		return gitref.Credentials{}, nil
	}
	for _, k := range pushTokenKeys {
		if v, ok := sp.config.Config[k].(string); ok && v != "" {
			return gitref.CredentialsFromSecret(map[string][]byte{gitref.KeyToken: []byte(v)})
		}
	}
	return gitref.Credentials{}, nil
}

var unsafeBranchChars = regexp.MustCompile(`[^a-z0-9._-]+`)

// branchSafe turns an element's name into a branch name's segment.
func branchSafe(name string) string {
	s := strings.Trim(unsafeBranchChars.ReplaceAllString(strings.ToLower(name), "-"), "-.")
	if s == "" {
		return "element"
	}
	return s
}

// pullRequestURL is where the provider opens a pull request of branch into
// the default branch, as Retool answers it.
func pullRequestURL(c *scConfig, branch string) string {
	org, repo, base := c.Org, c.Repo, c.DefaultBranch
	q := url.QueryEscape
	switch c.Provider {
	case "GitLab":
		return fmt.Sprintf("https://gitlab.com/%s/%s/-/merge_requests/new?merge_request%%5Bsource_branch%%5D=%s&merge_request%%5Btarget_branch%%5D=%s",
			org, repo, q(branch), q(base))
	case "Bitbucket":
		return fmt.Sprintf("https://bitbucket.org/%s/%s/pull-requests/new?source=%s&dest=%s", org, repo, q(branch), q(base))
	case "Azure Repos":
		return fmt.Sprintf("https://dev.azure.com/%s/_git/%s/pullrequestcreate?sourceRef=%s&targetRef=%s", org, repo, q(branch), q(base))
	case "AWS CodeCommit":
		return fmt.Sprintf("https://console.aws.amazon.com/codesuite/codecommit/repositories/%s/pull-requests/new/refs/heads/%s/.../refs/heads/%s",
			repo, base, branch)
	}
	return fmt.Sprintf("https://github.com/%s/%s/compare/%s...%s?expand=1", org, repo, base, branch)
}

// PullReleases makes the Space see the merges of its releases' branches at
// once (a Space otherwise looks when it is read through the API).
func (h *Space) PullReleases(ctx context.Context) {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	h.s.pullReleases(ctx, h.sp)
}
