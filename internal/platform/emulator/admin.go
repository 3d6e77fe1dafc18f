package emulator

import (
	"fmt"
	"net/http"
	"strings"
)

// adminRoutes registers /emulator/v1: what an admin does in Retool's UI and
// Retool's API cannot, and the request statistics. They need the admin
// Space's token, and are neither rate limited nor counted.
func (s *Server) adminRoutes() {
	s.emu("POST /emulator/v1/spaces/{domain}/tokens", s.mintToken)
	s.emu("POST /emulator/v1/spaces/{domain}/apps", s.seedObject(kindApp))
	s.emu("POST /emulator/v1/spaces/{domain}/workflows", s.seedObject(kindWorkflow))
	s.emu("POST /emulator/v1/spaces/{domain}/resources", s.seedObject(kindResource))
	s.emu("POST /emulator/v1/spaces/{domain}/users", s.seedUser)
	s.emu("GET /emulator/v1/stats", func(*space, *http.Request, []byte) (int, any) {
		return http.StatusOK, s.statsLocked()
	})
	s.emu("POST /emulator/v1/stats/reset", func(*space, *http.Request, []byte) (int, any) {
		s.stats = Stats{Requests: map[string]int{}}
		s.window = nil
		return http.StatusNoContent, nil
	})
	s.mux.HandleFunc("/emulator/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, errorBody{Message: "Not found: " + r.Method + " " + r.URL.Path}, nil)
	})
}

func (s *Server) emu(pattern string, h handler) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(r)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, errorBody{Message: "cannot read the request body"}, nil)
			return
		}
		st, out := s.handleEmu(r, body, h)
		writeJSON(w, st, out, nil)
	})
}

func (s *Server) handleEmu(r *http.Request, body []byte, h handler) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tokens[bearer(r)]; t == nil || t.space != s.admin {
		return fail(http.StatusUnauthorized, "Unauthorized: /emulator/v1 needs the admin space's token")
	}
	var sp *space
	if d := r.PathValue("domain"); d != "" {
		if sp = s.spaces[strings.ToLower(d)]; sp == nil {
			return fail(http.StatusNotFound, "No space has the domain %s", d)
		}
	}
	st, out := h(sp, r, body)
	if st < http.StatusBadRequest && r.Method != http.MethodGet {
		s.saveErr = s.saveLocked()
	}
	return st, out
}

func (s *Server) statsLocked() Stats {
	out := Stats{Requests: make(map[string]int, len(s.stats.Requests)), Throttled: s.stats.Throttled, MaxPerMinute: s.stats.MaxPerMinute}
	for k, v := range s.stats.Requests {
		out.Requests[k] = v
	}
	return out
}

func (s *Server) mintToken(sp *space, _ *http.Request, body []byte) (int, any) {
	var in struct {
		Scopes []string `json:"scopes"`
	}
	if len(strings.TrimSpace(string(body))) > 0 {
		if err := decode(body, &in, true); err != nil {
			return badBody(err)
		}
	}
	return http.StatusOK, map[string]string{"token": s.newToken(sp, in.Scopes)}
}

func (s *Server) newToken(sp *space, scopes []string) string {
	t := randomToken()
	tok := &token{space: sp}
	if scopes != nil {
		tok.scopes = map[string]bool{}
		for _, sc := range scopes {
			tok.scopes[sc] = true
		}
	}
	s.tokens[t] = tok
	sp.tokens = append(sp.tokens, t)
	return t
}

func (s *Server) seedObject(kind string) handler {
	return func(sp *space, _ *http.Request, body []byte) (int, any) {
		var in struct {
			Name   string `json:"name"`
			Folder string `json:"folder"`
			Type   string `json:"type"`
		}
		if err := decode(body, &in, true); err != nil {
			return badBody(err)
		}
		if in.Name == "" {
			return fail(http.StatusBadRequest, "name is required")
		}
		obj, err := s.addObject(sp, kind, in.Name, in.Folder, in.Type)
		if err != nil {
			return fail(http.StatusConflict, "%v", err)
		}
		return http.StatusOK, obj
	}
}

// addObject creates an app, workflow or resource in the folder at path
// (created when missing); resources are typed restapi unless typ says.
func (s *Server) addObject(sp *space, kind, name, path, typ string) (any, error) {
	folderID := s.folderPath(sp, kind, path)
	now := stamp(s.now())
	switch kind {
	case kindApp:
		for _, a := range sp.apps {
			if a.Name == name && a.FolderID == folderID {
				return nil, fmt.Errorf("an app named %q exists in that folder", name)
			}
		}
		a := &app{ID: newUUID(), Name: name, FolderID: folderID, CreatedAt: now, UpdatedAt: now}
		sp.apps = append(sp.apps, a)
		return *a, nil
	case kindWorkflow:
		w := &workflow{ID: newUUID(), Name: name, FolderID: folderID, CreatedAt: now, UpdatedAt: now}
		sp.workflows = append(sp.workflows, w)
		return *w, nil
	default:
		for _, r := range sp.resources {
			if r.DisplayName == name {
				return nil, fmt.Errorf("a resource named %q exists", name)
			}
		}
		if typ == "" {
			typ = "restapi"
		}
		r := &resource{ID: newUUID(), Type: typ, DisplayName: name, FolderID: &folderID, CreatedAt: now, UpdatedAt: now}
		sp.resources = append(sp.resources, r)
		return *r, nil
	}
}

// seedUser creates a user: by default one who signed in; with "active":
// false, an account that is deactivated (or never signed in). A user who
// exists is answered as is.
func (s *Server) seedUser(sp *space, _ *http.Request, body []byte) (int, any) {
	var in struct {
		Email     string `json:"email"`
		FirstName string `json:"first_name"`
		LastName  string `json:"last_name"`
		Active    *bool  `json:"active"`
	}
	if err := decode(body, &in, true); err != nil {
		return badBody(err)
	}
	if !strings.Contains(in.Email, "@") {
		return fail(http.StatusBadRequest, "email must be an email address, got %q", in.Email)
	}
	u := s.addUser(sp, newUser{email: in.Email, firstName: in.FirstName, lastName: in.LastName, inactive: in.Active != nil && !*in.Active})
	return http.StatusOK, sp.userView(u)
}

// Space is a handle on one emulated Space, for tests.
type Space struct {
	s  *Server
	sp *space
}

// Object is an app, workflow or resource created through a Space handle.
type Object struct {
	ID       string
	Name     string
	FolderID string
}

// Space returns the Space of domain ("" for the admin Space), or nil.
func (s *Server) Space(domain string) *Space {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp := s.admin
	if domain != "" {
		sp = s.spaces[strings.ToLower(domain)]
	}
	if sp == nil {
		return nil
	}
	return &Space{s: s, sp: sp}
}

// ID is the Space's id (org_<hex>).
func (h *Space) ID() string { return h.sp.id }

// Domain is the Space's domain.
func (h *Space) Domain() string { return h.sp.domain }

// Token returns the Space's first token, minting one if it has none.
func (h *Space) Token() string {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	if len(h.sp.tokens) > 0 {
		return h.sp.tokens[0]
	}
	defer h.s.saved()
	return h.s.newToken(h.sp, nil)
}

// MintToken mints a token for the Space; with scopes ("Groups > Read", ...)
// it holds only those.
func (h *Space) MintToken(scopes ...string) string {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	if len(scopes) == 0 {
		scopes = nil
	}
	defer h.s.saved()
	return h.s.newToken(h.sp, scopes)
}

// AddUser signs a user in (JIT): the user joins All Users, gets drafts and
// trash folders and claims the unexpired invites of the email. It returns
// the user's id.
func (h *Space) AddUser(email string) string {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	defer h.s.saved()
	return h.s.addUser(h.sp, newUser{email: email}).ID
}

// AddInactiveUser adds a user who is deactivated (or never signed in), as
// most users of a real instance are: in All Users, reaching nothing. It
// returns the user's id.
func (h *Space) AddInactiveUser(email string) string {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	defer h.s.saved()
	return h.s.addUser(h.sp, newUser{email: email, inactive: true}).ID
}

// AddApp creates an app in the app folder at path ("finance/reports").
func (h *Space) AddApp(name, path string) (Object, error) { return h.add(kindApp, name, path) }

// AddWorkflow creates a workflow in the workflow folder at path.
func (h *Space) AddWorkflow(name, path string) (Object, error) {
	return h.add(kindWorkflow, name, path)
}

// AddResource creates a resource in the resource folder at path.
func (h *Space) AddResource(name, path string) (Object, error) {
	return h.add(kindResource, name, path)
}

func (h *Space) add(kind, name, path string) (Object, error) {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	defer h.s.saved()
	obj, err := h.s.addObject(h.sp, kind, name, path, "")
	if err != nil {
		return Object{}, err
	}
	switch o := obj.(type) {
	case app:
		return Object{ID: o.ID, Name: o.Name, FolderID: o.FolderID}, nil
	case workflow:
		return Object{ID: o.ID, Name: o.Name, FolderID: o.FolderID}, nil
	case resource:
		return Object{ID: o.ID, Name: o.DisplayName, FolderID: *o.FolderID}, nil
	}
	return Object{}, fmt.Errorf("unknown kind %s", kind)
}

// ReleaseVersion is the live release of the Space's app named appName (""
// when it has none, or there is no such app).
func (h *Space) ReleaseVersion(appName string) string {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	for _, a := range h.sp.apps {
		if a.Name == appName {
			return a.ReleaseVersion
		}
	}
	return ""
}

// Deploy makes version the live release of the Space's app named appName,
// as a read-only instance does when it pulls a branch holding that release.
// It reports whether the app exists.
func (h *Space) Deploy(appName, version string) bool {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	for _, a := range h.sp.apps {
		if a.Name == appName {
			a.ReleaseVersion, a.UpdatedAt = version, stamp(h.s.now())
			h.s.saved()
			return true
		}
	}
	return false
}

// saved saves the state after a change through a handle. The caller holds
// s.mu.
func (s *Server) saved() { s.saveErr = s.saveLocked() }
