package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Permission groups and their members (/groups).

func (s *Server) listGroups(sp *space, _ *http.Request, _ []byte) (int, any) {
	return all(sp.sortedGroups(s.now()))
}

func (s *Server) groupOf(sp *space, r *http.Request) (*group, int, any) {
	raw := r.PathValue("groupId")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		st, b := fail(http.StatusBadRequest, "groupId must be a number, got %q", raw)
		return nil, st, b
	}
	g := sp.groups[id]
	if g == nil {
		st, b := fail(http.StatusNotFound, "Group %d not found", id)
		return nil, st, b
	}
	return g, 0, nil
}

func (s *Server) getGroup(sp *space, r *http.Request, _ []byte) (int, any) {
	g, st, b := s.groupOf(sp, r)
	if g == nil {
		return st, b
	}
	return ok(sp.view(g, s.now()))
}

type memberIn struct {
	ID           *string `json:"id"`
	IsGroupAdmin *bool   `json:"is_group_admin"`
}

// members validates members input: every user exists in the Space.
func members(sp *space, in []memberIn) ([]*user, []bool, error) {
	users := make([]*user, 0, len(in))
	admins := make([]bool, 0, len(in))
	for i, m := range in {
		if m.ID == nil || m.IsGroupAdmin == nil {
			return nil, nil, fmt.Errorf("members[%d]: id and is_group_admin are required", i)
		}
		if !userIDRe.MatchString(*m.ID) {
			return nil, nil, fmt.Errorf("members[%d].id must match user_([a-z0-9]+), got %q", i, *m.ID)
		}
		u := sp.userByID(*m.ID)
		if u == nil {
			return nil, nil, fmt.Errorf("members[%d]: user %s does not exist", i, *m.ID)
		}
		users, admins = append(users, u), append(admins, *m.IsGroupAdmin)
	}
	return users, admins, nil
}

type groupIn struct {
	Name                        *string    `json:"name"`
	Members                     []memberIn `json:"members"`
	UniversalAppAccess          *string    `json:"universal_app_access"`
	UniversalResourceAccess     *string    `json:"universal_resource_access"`
	UniversalWorkflowAccess     *string    `json:"universal_workflow_access"`
	UniversalQueryLibraryAccess *string    `json:"universal_query_library_access"`
	UserListAccess              *bool      `json:"user_list_access"`
	AuditLogAccess              *bool      `json:"audit_log_access"`
	UnpublishedReleaseAccess    *bool      `json:"unpublished_release_access"`
	UsageAnalyticsAccess        *bool      `json:"usage_analytics_access"`
	ThemeAccess                 *bool      `json:"theme_access"`
	AccountDetailsAccess        *bool      `json:"account_details_access"`
	LandingPageAppID            *string    `json:"landing_page_app_id"`
}

func (sp *space) nameTaken(name string, except int64) bool {
	for _, g := range sp.groups {
		if g.ID != except && strings.EqualFold(g.Name, name) {
			return true
		}
	}
	return false
}

func (s *Server) createGroup(sp *space, _ *http.Request, body []byte) (int, any) {
	var in groupIn
	if err := decode(body, &in, false); err != nil {
		return badBody(err)
	}
	if in.Name == nil || *in.Name == "" {
		return fail(http.StatusBadRequest, "name is required")
	}
	if sp.nameTaken(*in.Name, 0) {
		return fail(http.StatusConflict, "A group named %q already exists", *in.Name)
	}
	now := s.now()
	g := &group{Name: *in.Name, UniversalAppAccess: levelNone, UniversalResourceAccess: levelNone, UniversalWorkflowAccess: levelNone,
		UniversalQueryLibraryAccess: levelNone, Members: []groupMember{}, CreatedAt: stamp(now), UpdatedAt: stamp(now)}
	if err := applyGroup(g, in); err != nil {
		return badBody(err)
	}
	users, admins, err := members(sp, in.Members)
	if err != nil {
		return badBody(err)
	}
	s.ids.group++
	g.ID, g.LegacyID = s.ids.group, s.ids.group
	for i, u := range users {
		sp.setMember(g, u, admins[i], now)
	}
	g.UpdatedAt = stamp(now)
	sp.groups[g.ID] = g
	return ok(sp.view(g, s.now()))
}

// applyGroup sets the levels and flags present in in.
func applyGroup(g *group, in groupIn) error {
	for _, l := range []struct {
		field string
		in    *string
		out   *string
		allow []string
	}{
		{"universal_app_access", in.UniversalAppAccess, &g.UniversalAppAccess, levels},
		{"universal_resource_access", in.UniversalResourceAccess, &g.UniversalResourceAccess, levels},
		{"universal_workflow_access", in.UniversalWorkflowAccess, &g.UniversalWorkflowAccess, levels},
		{"universal_query_library_access", in.UniversalQueryLibraryAccess, &g.UniversalQueryLibraryAccess, qlLevels},
	} {
		if l.in == nil {
			continue
		}
		if err := enumErr(l.field, *l.in, l.allow); err != nil {
			return err
		}
		*l.out = *l.in
	}
	for _, f := range []struct {
		in  *bool
		out *bool
	}{
		{in.UserListAccess, &g.UserListAccess}, {in.AuditLogAccess, &g.AuditLogAccess},
		{in.UnpublishedReleaseAccess, &g.UnpublishedReleaseAccess}, {in.UsageAnalyticsAccess, &g.UsageAnalyticsAccess},
		{in.ThemeAccess, &g.ThemeAccess}, {in.AccountDetailsAccess, &g.AccountDetailsAccess},
	} {
		if f.in != nil {
			*f.out = *f.in
		}
	}
	if in.LandingPageAppID != nil {
		v := *in.LandingPageAppID
		g.LandingPageAppID = &v
	}
	return nil
}

type patchIn struct {
	Operations []struct {
		Op    string          `json:"op"`
		Path  string          `json:"path"`
		Value json.RawMessage `json:"value"`
	} `json:"operations"`
}

func (s *Server) patchGroup(sp *space, r *http.Request, body []byte) (int, any) {
	g, st, b := s.groupOf(sp, r)
	if g == nil {
		return st, b
	}
	var p patchIn
	if err := decode(body, &p, true); err != nil {
		return badBody(err)
	}
	if p.Operations == nil {
		return fail(http.StatusBadRequest, "operations is required")
	}
	// Build one groupIn from the operations, then apply it all or nothing.
	var in groupIn
	fields := map[string]any{
		"/name": &in.Name, "/universal_app_access": &in.UniversalAppAccess, "/universal_resource_access": &in.UniversalResourceAccess,
		"/universal_workflow_access": &in.UniversalWorkflowAccess, "/universal_query_library_access": &in.UniversalQueryLibraryAccess,
		"/user_list_access": &in.UserListAccess, "/audit_log_access": &in.AuditLogAccess,
		"/unpublished_release_access": &in.UnpublishedReleaseAccess, "/usage_analytics_access": &in.UsageAnalyticsAccess,
		"/theme_access": &in.ThemeAccess, "/account_details_access": &in.AccountDetailsAccess, "/landing_page_app_id": &in.LandingPageAppID,
	}
	for i, op := range p.Operations {
		if op.Op != "replace" && op.Op != "add" {
			return fail(http.StatusBadRequest, "operations[%d].op %q is not supported on %s", i, op.Op, op.Path)
		}
		dst, known := fields[op.Path]
		if !known {
			return fail(http.StatusBadRequest, "operations[%d].path %q is not a field of a group that can be changed", i, op.Path)
		}
		if len(op.Value) == 0 || json.Unmarshal(op.Value, dst) != nil {
			return fail(http.StatusBadRequest, "operations[%d].value does not fit %s", i, op.Path)
		}
	}
	if in.Name != nil {
		if *in.Name == "" {
			return fail(http.StatusBadRequest, "name must not be empty")
		}
		if isDefault(g) && *in.Name != g.Name {
			return fail(http.StatusBadRequest, "The default group %q cannot be renamed", g.Name)
		}
		if sp.nameTaken(*in.Name, g.ID) {
			return fail(http.StatusConflict, "A group named %q already exists", *in.Name)
		}
	}
	next := *g
	if err := applyGroup(&next, in); err != nil {
		return badBody(err)
	}
	if in.Name != nil {
		next.Name = *in.Name
	}
	if g.Name == groupAdmin && !sameAccess(*g, next) {
		return fail(http.StatusBadRequest, "The permissions of the admin group cannot be changed")
	}
	next.UpdatedAt = stamp(s.now())
	*g = next
	return ok(sp.view(g, s.now()))
}

func (s *Server) deleteGroup(sp *space, r *http.Request, _ []byte) (int, any) {
	g, st, b := s.groupOf(sp, r)
	if g == nil {
		return st, b
	}
	if isDefault(g) {
		return fail(http.StatusBadRequest, "The default group %q cannot be deleted", g.Name)
	}
	delete(sp.groups, g.ID)
	delete(sp.grants, groupSubject(g.ID))
	for _, inv := range sp.invites {
		inv.groupIDs = slices.DeleteFunc(inv.groupIDs, func(id int64) bool { return id == g.ID })
	}
	return http.StatusNoContent, nil
}

func (s *Server) addMembers(sp *space, r *http.Request, body []byte) (int, any) {
	g, st, b := s.groupOf(sp, r)
	if g == nil {
		return st, b
	}
	var in struct {
		Members []memberIn `json:"members"`
	}
	if err := decode(body, &in, false); err != nil {
		return badBody(err)
	}
	if in.Members == nil {
		return fail(http.StatusBadRequest, "members is required")
	}
	if g.Name == groupAllUsers {
		return fail(http.StatusBadRequest, allUsersFixed)
	}
	users, admins, err := members(sp, in.Members)
	if err != nil {
		return badBody(err)
	}
	now := s.now()
	for i, u := range users {
		sp.setMember(g, u, admins[i], now)
	}
	return ok(sp.view(g, s.now()))
}

func (s *Server) removeMember(sp *space, r *http.Request, _ []byte) (int, any) {
	g, st, b := s.groupOf(sp, r)
	if g == nil {
		return st, b
	}
	if g.Name == groupAllUsers {
		return fail(http.StatusBadRequest, allUsersFixed)
	}
	uid := r.PathValue("userSid")
	i := slices.IndexFunc(g.Members, func(m groupMember) bool { return m.ID == uid })
	if i < 0 {
		return fail(http.StatusNotFound, "User %s is not a member of group %d", uid, g.ID)
	}
	g.Members = slices.Delete(g.Members, i, i+1)
	g.UpdatedAt = stamp(s.now())
	return ok(sp.view(g, s.now()))
}

// allUsersFixed is the refusal of a change to All Users' members: the group
// holds every user of the Space.
const allUsersFixed = "The members of the All Users group cannot be changed: every user of the space is in it"

// sameAccess reports whether two groups grant the same levels and flags.
func sameAccess(a, b group) bool {
	return a.UniversalAppAccess == b.UniversalAppAccess && a.UniversalResourceAccess == b.UniversalResourceAccess &&
		a.UniversalWorkflowAccess == b.UniversalWorkflowAccess && a.UniversalQueryLibraryAccess == b.UniversalQueryLibraryAccess &&
		a.UserListAccess == b.UserListAccess && a.AuditLogAccess == b.AuditLogAccess &&
		a.UnpublishedReleaseAccess == b.UnpublishedReleaseAccess && a.UsageAnalyticsAccess == b.UsageAnalyticsAccess &&
		a.ThemeAccess == b.ThemeAccess && a.AccountDetailsAccess == b.AccountDetailsAccess
}
