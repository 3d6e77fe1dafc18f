package emulator

import (
	"net/http"
	"strings"
)

// Spaces (/spaces).

func (s *Server) listSpaces(sp *space, _ *http.Request, _ []byte) (int, any) {
	out := []spaceOut{}
	for _, d := range sortedKeys(s.spaces) {
		if c := s.spaces[d]; c.parent == sp {
			out = append(out, c.spaceView(true))
		}
	}
	return all(out)
}

func (s *Server) createSpace(sp *space, _ *http.Request, body []byte) (int, any) {
	var in struct {
		Name    string `json:"name"`
		Domain  string `json:"domain"`
		Options *struct {
			CopySSOSettings               bool     `json:"copy_sso_settings"`
			CopyBrandingAndThemesSettings bool     `json:"copy_branding_and_themes_settings"`
			UsersToCopyAsAdmins           []string `json:"users_to_copy_as_admins"`
			CreateAdminUser               bool     `json:"create_admin_user"`
		} `json:"options"`
	}
	if err := decode(body, &in, true); err != nil {
		return badBody(err)
	}
	if in.Name == "" || in.Domain == "" {
		return fail(http.StatusBadRequest, "name and domain are required")
	}
	if sp != s.admin {
		return fail(http.StatusForbidden, "Spaces can only be created from the admin space")
	}
	domain := strings.ToLower(in.Domain)
	if s.spaces[domain] != nil {
		return fail(http.StatusConflict, "The domain %s is already used by a space", in.Domain)
	}
	c := s.newSpace(in.Name, domain, sp)
	if in.Options != nil {
		c.copySSO = in.Options.CopySSOSettings
		if c.copySSO {
			c.sso = copySSO(sp)
		}
		now := s.now()
		for _, email := range in.Options.UsersToCopyAsAdmins {
			u := s.addUser(c, newUser{email: email})
			c.setMember(c.groups[c.defaultGroups[groupAdmin]], u, false, now)
		}
	}
	return ok(c.spaceView(false))
}

func (s *Server) childSpace(sp *space, r *http.Request) (*space, int, any) {
	id := r.PathValue("spaceId")
	for _, c := range s.spaces {
		if c.id == id && c.parent == sp {
			return c, 0, nil
		}
	}
	st, b := fail(http.StatusNotFound, "Space %s not found", id)
	return nil, st, b
}

func (s *Server) getSpace(sp *space, r *http.Request, _ []byte) (int, any) {
	c, st, b := s.childSpace(sp, r)
	if c == nil {
		return st, b
	}
	return ok(c.spaceView(true))
}

func (s *Server) deleteSpace(sp *space, r *http.Request, _ []byte) (int, any) {
	c, st, b := s.childSpace(sp, r)
	if c == nil {
		return st, b
	}
	delete(s.spaces, c.domain)
	for _, t := range c.tokens {
		delete(s.tokens, t)
	}
	return http.StatusNoContent, nil
}

// putSpace renames a child Space or moves it to another domain.
func (s *Server) putSpace(sp *space, r *http.Request, body []byte) (int, any) {
	c, st, b := s.childSpace(sp, r)
	if c == nil {
		return st, b
	}
	var in struct {
		Name   string `json:"name"`
		Domain string `json:"domain"`
	}
	if err := decode(body, &in, false); err != nil {
		return badBody(err)
	}
	if in.Name == "" || in.Domain == "" {
		return fail(http.StatusUnprocessableEntity, "name and domain are required")
	}
	domain := strings.ToLower(in.Domain)
	if other := s.spaces[domain]; other != nil && other != c {
		return fail(http.StatusUnprocessableEntity, "The domain %s is already used by a space", in.Domain)
	}
	delete(s.spaces, c.domain)
	c.name, c.domain, c.updated = in.Name, domain, s.now()
	s.spaces[domain] = c
	return ok(c.spaceView(true))
}
