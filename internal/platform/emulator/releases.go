package emulator

import (
	"fmt"
	"net/http"
	"regexp"
)

// App releases (/source_control/releases).

var semverRe = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$`)

// releaseRoutes registers the release operations.
func (s *Server) releaseRoutes() {
	s.api("GET /source_control/releases/apps/{appUuid}", "Source Control > Releases > Read", s.listReleases)
	s.api("POST /source_control/releases/apps/{appUuid}", "Source Control > Releases > Write", s.createRelease)
}

func (s *Server) appOf(sp *space, r *http.Request) (*app, int, any) {
	id := r.PathValue("appUuid")
	a := sp.app(id)
	if a == nil {
		st, b := fail(http.StatusNotFound, "App %s not found", id)
		return nil, st, b
	}
	return a, 0, nil
}

func (s *Server) listReleases(sp *space, r *http.Request, _ []byte) (int, any) {
	a, st, b := s.appOf(sp, r)
	if a == nil {
		return st, b
	}
	out := append([]release{}, sp.releases[a.ID]...)
	return ok(out)
}

func (s *Server) createRelease(sp *space, r *http.Request, body []byte) (int, any) {
	a, st, b := s.appOf(sp, r)
	if a == nil {
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
		return fail(http.StatusBadRequest, "release_version must be a version x.y.z, got %q", in.ReleaseVersion)
	}
	if sp.config == nil {
		return fail(http.StatusBadRequest, "Source control is not configured for this space: a release is pushed to the repository")
	}
	for _, rel := range sp.releases[a.ID] {
		if rel.ReleaseVersion == in.ReleaseVersion {
			return fail(http.StatusBadRequest, "Release %s of app %s already exists", in.ReleaseVersion, a.ID)
		}
	}
	now := s.now()
	sp.releases[a.ID] = append(sp.releases[a.ID], release{ReleaseVersion: in.ReleaseVersion, ReleaseDescription: in.ReleaseDescription, CreatedAt: stamp(now)})
	a.ReleaseVersion, a.UpdatedAt = in.ReleaseVersion, stamp(now)
	branch := fmt.Sprintf("release/%s/%s", a.Name, in.ReleaseVersion)
	return ok(map[string]string{
		"commit_sha":  randomHex(20),
		"url":         fmt.Sprintf("https://example.invalid/%s/%s/tree/%s", sp.config.Org, sp.config.Repo, branch),
		"branch_name": branch,
	})
}
