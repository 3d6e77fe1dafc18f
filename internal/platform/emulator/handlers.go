package emulator

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

var (
	folderIDRe = regexp.MustCompile(`^(app|workflow|resource|agent|library)_([0-9]\d*)$`)
	userIDRe   = regexp.MustCompile(`^user_[a-z0-9]+$`)
	semverRe   = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$`)
	levels     = []string{levelNone, levelUse, levelEdit, levelOwn}
	grantLevel = []string{levelUse, levelEdit, levelOwn}
	qlLevels   = []string{levelNone, levelUse, levelEdit}
)

func (s *Server) routes() {
	s.api("GET /groups", "Groups > Read", s.listGroups)
	s.api("POST /groups", "Groups > Write", s.createGroup)
	s.api("GET /groups/{groupId}", "Groups > Read", s.getGroup)
	s.api("PATCH /groups/{groupId}", "Groups > Write", s.patchGroup)
	s.api("DELETE /groups/{groupId}", "Groups > Write", s.deleteGroup)
	s.api("POST /groups/{groupId}/members", "Groups > Write", s.addMembers)
	s.api("DELETE /groups/{groupId}/members/{userSid}", "Groups > Write", s.removeMember)
	s.api("GET /users", "Users > Read", s.listUsers)
	s.api("GET /user_invites", "Users > Read", s.listInvites)
	s.api("POST /user_invites", "Users > Write", s.createInvite)
	s.api("GET /folders", "Folders > Read", s.listFolders)
	s.api("POST /folders", "Folders > Write", s.createFolder)
	s.api("GET /folders/{folderId}", "Folders > Read", s.getFolder)
	s.api("DELETE /folders/{folderId}", "Folders > Write", s.deleteFolder)
	s.api("GET /apps", "Apps > Read", s.listApps)
	s.api("GET /workflows", "Workflows > Read", s.listWorkflows)
	s.api("GET /resources", "Resources > Read", s.listResources)
	s.api("POST /permissions/listObjects", "Permissions > Read", s.listObjects)
	s.api("POST /permissions/grant", "Permissions > Write", s.grant)
	s.api("POST /permissions/revoke", "Permissions > Write", s.revoke)
	s.api("GET /source_control/settings", "Source Control > Read", s.getSettings)
	s.api("PUT /source_control/settings", "Source Control > Write", s.putSettings)
	s.api("GET /source_control/config", "Source Control > Read", s.getConfig)
	s.api("POST /source_control/config", "Source Control > Write", s.postConfig)
	s.api("PUT /source_control/config", "Source Control > Write", s.putConfig)
	s.api("GET /spaces", "Spaces > Read", s.listSpaces)
	s.api("POST /spaces", "Spaces > Write", s.createSpace)
	s.api("GET /spaces/{spaceId}", "Spaces > Read", s.getSpace)
	s.api("DELETE /spaces/{spaceId}", "Spaces > Write", s.deleteSpace)
	s.releaseRoutes()
	s.mux.HandleFunc(apiPrefix+"/", func(w http.ResponseWriter, r *http.Request) { s.serveAPI(w, r, "", nil) })
	s.adminRoutes()
}

type one struct {
	Success bool `json:"success"`
	Data    any  `json:"data"`
}

type many struct {
	Success    bool    `json:"success"`
	Data       any     `json:"data"`
	TotalCount int     `json:"total_count"`
	NextToken  *string `json:"next_token"`
	HasMore    bool    `json:"has_more"`
}

func ok(data any) (int, any) { return http.StatusOK, one{Success: true, Data: data} }

func all[T any](items []T) (int, any) {
	if items == nil {
		items = []T{}
	}
	return http.StatusOK, many{Success: true, Data: items, TotalCount: len(items)}
}

type cursor struct {
	Offset int `json:"offset"`
}

// paged answers a list that takes limit and next_token: without limit,
// every item.
func paged[T any](r *http.Request, items []T) (int, any) {
	q := r.URL.Query()
	if items == nil {
		items = []T{}
	}
	if q.Get("limit") == "" {
		if q.Get("next_token") != "" {
			return fail(http.StatusBadRequest, "next_token is only valid with limit")
		}
		return all(items)
	}
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit < 1 || limit > 100 {
		return fail(http.StatusBadRequest, "limit must be an integer from 1 to 100, got %q", q.Get("limit"))
	}
	offset := 0
	if t := q.Get("next_token"); t != "" {
		raw, err := base64.RawURLEncoding.DecodeString(t)
		var c cursor
		if err != nil || json.Unmarshal(raw, &c) != nil || c.Offset < 0 || c.Offset > len(items) {
			return fail(http.StatusBadRequest, "next_token %q is not valid", t)
		}
		offset = c.Offset
	}
	end := min(offset+limit, len(items))
	out := many{Success: true, Data: items[offset:end], TotalCount: len(items)}
	if end < len(items) {
		b, _ := json.Marshal(cursor{Offset: end})
		tok := base64.RawURLEncoding.EncodeToString(b)
		out.NextToken, out.HasMore = &tok, true
	}
	return http.StatusOK, out
}

// decode reads a JSON body into v; strict refuses unknown fields (where
// Retool's schema has additionalProperties: false).
func decode(body []byte, v any, strict bool) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return fmt.Errorf("the request body is empty")
	}
	d := json.NewDecoder(bytes.NewReader(body))
	if strict {
		d.DisallowUnknownFields()
	}
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("invalid body: %v", err)
	}
	return nil
}

func badBody(err error) (int, any) { return fail(http.StatusBadRequest, "%v", err) }

func enumErr(field, v string, allowed []string) error {
	if slices.Contains(allowed, v) {
		return nil
	}
	return fmt.Errorf("%s must be one of %s, got %q", field, strings.Join(allowed, ", "), v)
}

// ---- groups

func (s *Server) listGroups(sp *space, _ *http.Request, _ []byte) (int, any) {
	return all(sp.sortedGroups())
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
	return ok(sp.view(g))
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
	return ok(sp.view(g))
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
	next.UpdatedAt = stamp(s.now())
	*g = next
	return ok(sp.view(g))
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
	delete(sp.grants, g.ID)
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
	users, admins, err := members(sp, in.Members)
	if err != nil {
		return badBody(err)
	}
	now := s.now()
	for i, u := range users {
		sp.setMember(g, u, admins[i], now)
	}
	return ok(sp.view(g))
}

func (s *Server) removeMember(sp *space, r *http.Request, _ []byte) (int, any) {
	g, st, b := s.groupOf(sp, r)
	if g == nil {
		return st, b
	}
	uid := r.PathValue("userSid")
	i := slices.IndexFunc(g.Members, func(m groupMember) bool { return m.ID == uid })
	if i < 0 {
		return fail(http.StatusNotFound, "User %s is not a member of group %d", uid, g.ID)
	}
	g.Members = slices.Delete(g.Members, i, i+1)
	g.UpdatedAt = stamp(s.now())
	return ok(sp.view(g))
}

// ---- users and invites

func (s *Server) listUsers(sp *space, r *http.Request, _ []byte) (int, any) {
	q := r.URL.Query()
	out := []user{}
	for _, u := range sp.users {
		if e := q.Get("email"); e != "" && !strings.EqualFold(u.Email, e) {
			continue
		}
		if f := q.Get("first_name"); f != "" && (u.FirstName == nil || *u.FirstName != f) {
			continue
		}
		if l := q.Get("last_name"); l != "" && (u.LastName == nil || *u.LastName != l) {
			continue
		}
		out = append(out, sp.userView(u))
	}
	return paged(r, out)
}

func (s *Server) listInvites(sp *space, _ *http.Request, _ []byte) (int, any) {
	out := make([]inviteOut, 0, len(sp.invites))
	for _, inv := range sp.invites {
		out = append(out, sp.inviteView(inv))
	}
	return all(out)
}

func (s *Server) createInvite(sp *space, _ *http.Request, body []byte) (int, any) {
	var in struct {
		Email           string         `json:"email"`
		DefaultGroupIDs []int64        `json:"defaultGroupIds"`
		Metadata        map[string]any `json:"metadata"`
	}
	if err := decode(body, &in, true); err != nil {
		return badBody(err)
	}
	if at := strings.IndexByte(in.Email, '@'); at < 1 || at == len(in.Email)-1 {
		return fail(http.StatusBadRequest, "email must be an email address, got %q", in.Email)
	}
	if sp.userByEmail(in.Email) != nil {
		return fail(http.StatusBadRequest, "A user with email %s already exists", in.Email)
	}
	for _, id := range in.DefaultGroupIDs {
		if sp.groups[id] == nil {
			return fail(http.StatusBadRequest, "defaultGroupIds: group %d does not exist", id)
		}
	}
	if in.Metadata == nil {
		in.Metadata = map[string]any{}
	}
	s.ids.invite++
	now := s.now()
	typ := "default"
	inv := &invite{inviteOut: inviteOut{ID: s.ids.invite, LegacyID: s.ids.invite, InvitedBy: "api", InvitedEmail: in.Email,
		ExpiresAt: stamp(now.Add(7 * 24 * time.Hour)), UserType: &typ, Metadata: in.Metadata, CreatedAt: stamp(now),
		InviteLink: "https://" + sp.domain + "/user/invite/" + randomHex(12)}, groupIDs: slices.Clone(in.DefaultGroupIDs)}
	sp.invites = append(sp.invites, inv)
	return ok(sp.inviteView(inv))
}

// ---- folders

func (s *Server) listFolders(sp *space, _ *http.Request, _ []byte) (int, any) {
	out := make([]folder, 0, len(sp.folders))
	for _, id := range sortedKeys(sp.folders) {
		out = append(out, *sp.folders[id])
	}
	return all(out)
}

func (s *Server) folderOf(sp *space, r *http.Request) (*folder, int, any) {
	id := r.PathValue("folderId")
	if !folderIDRe.MatchString(id) {
		st, b := fail(http.StatusBadRequest, "folderId must look like app_<n>, workflow_<n> or resource_<n>, got %q", id)
		return nil, st, b
	}
	f := sp.folders[id]
	if f == nil {
		st, b := fail(http.StatusNotFound, "Folder %s not found", id)
		return nil, st, b
	}
	return f, 0, nil
}

func (s *Server) getFolder(sp *space, r *http.Request, _ []byte) (int, any) {
	f, st, b := s.folderOf(sp, r)
	if f == nil {
		return st, b
	}
	return ok(*f)
}

func (s *Server) createFolder(sp *space, _ *http.Request, body []byte) (int, any) {
	var in struct {
		Name           string  `json:"name"`
		ParentFolderID *string `json:"parent_folder_id"`
		FolderType     string  `json:"folder_type"`
	}
	if err := decode(body, &in, false); err != nil {
		return badBody(err)
	}
	if in.Name == "" {
		return fail(http.StatusBadRequest, "name is required")
	}
	if err := enumErr("folder_type", in.FolderType, []string{kindApp, kindWorkflow, kindResource}); err != nil {
		return badBody(err)
	}
	parent := sp.roots[in.FolderType]
	if in.ParentFolderID != nil {
		parent = *in.ParentFolderID
	}
	p := sp.folders[parent]
	if p == nil {
		return fail(http.StatusUnprocessableEntity, "Parent folder %s does not exist", parent)
	}
	if p.FolderType != in.FolderType {
		return fail(http.StatusUnprocessableEntity, "Parent folder %s is a %s folder, not a %s folder", parent, p.FolderType, in.FolderType)
	}
	for _, f := range sp.folders {
		if f.ParentFolderID != nil && *f.ParentFolderID == parent && f.Name == in.Name {
			return fail(http.StatusConflict, "Folder with name %q already exists in %s", in.Name, parent)
		}
	}
	return ok(*s.addFolder(sp, in.Name, in.FolderType, &parent, false))
}

func (s *Server) deleteFolder(sp *space, r *http.Request, _ []byte) (int, any) {
	f, st, b := s.folderOf(sp, r)
	if f == nil {
		return st, b
	}
	if f.IsSystemFolder {
		return fail(http.StatusBadRequest, "Folder %s is a system folder and cannot be deleted", f.ID)
	}
	recursive := r.URL.Query().Get("recursive") == "true" && f.FolderType == kindApp
	if !recursive && sp.folderUsed(f.ID) {
		return fail(http.StatusBadRequest, "Folder %s is not empty", f.ID)
	}
	sp.removeFolder(f.ID)
	return http.StatusNoContent, nil
}

func (sp *space) folderUsed(id string) bool {
	for _, f := range sp.folders {
		if f.ParentFolderID != nil && *f.ParentFolderID == id {
			return true
		}
	}
	for _, a := range sp.apps {
		if a.FolderID == id {
			return true
		}
	}
	for _, w := range sp.workflows {
		if w.FolderID == id {
			return true
		}
	}
	for _, r := range sp.resources {
		if r.FolderID != nil && *r.FolderID == id {
			return true
		}
	}
	return false
}

// removeFolder deletes a folder, its subfolders and its apps.
func (sp *space) removeFolder(id string) {
	for _, f := range sp.folders {
		if f.ParentFolderID != nil && *f.ParentFolderID == id {
			sp.removeFolder(f.ID)
		}
	}
	sp.apps = slices.DeleteFunc(sp.apps, func(a *app) bool {
		if a.FolderID == id {
			sp.dropGrants(objectKey{kindApp, a.ID})
			return true
		}
		return false
	})
	delete(sp.folders, id)
	sp.dropGrants(objectKey{kindFolder, id})
}

// ---- apps, workflows, resources

func (s *Server) listApps(sp *space, _ *http.Request, _ []byte) (int, any) {
	out := make([]app, 0, len(sp.apps))
	for _, a := range sp.apps {
		out = append(out, *a)
	}
	return all(out)
}

func (s *Server) listWorkflows(sp *space, _ *http.Request, _ []byte) (int, any) {
	out := make([]workflow, 0, len(sp.workflows))
	for _, w := range sp.workflows {
		out = append(out, *w)
	}
	return all(out)
}

func (s *Server) listResources(sp *space, r *http.Request, _ []byte) (int, any) {
	out := make([]resource, 0, len(sp.resources))
	t := r.URL.Query().Get("resource_type")
	for _, res := range sp.resources {
		if t == "" || res.Type == t {
			out = append(out, *res)
		}
	}
	return paged(r, out)
}

// ---- permissions

type subjectIn struct {
	Type string          `json:"type"`
	ID   json.RawMessage `json:"id"`
}

type objectIn struct {
	Type  string `json:"type"`
	ID    string `json:"id"`
	AppID string `json:"appId,omitempty"`
}

type accessOut struct {
	Type        string `json:"type"`
	ID          string `json:"id"`
	AccessLevel string `json:"access_level"`
}

// subjectGroup resolves a subject: the emulator grants to groups.
func subjectGroup(sp *space, sub *subjectIn) (*group, int, any) {
	if sub == nil {
		st, b := fail(http.StatusBadRequest, "subject is required")
		return nil, st, b
	}
	if sub.Type != "group" {
		st, b := fail(http.StatusBadRequest, "subject.type %q is not supported by the emulator (only group)", sub.Type)
		return nil, st, b
	}
	var id int64
	if json.Unmarshal(sub.ID, &id) != nil {
		st, b := fail(http.StatusBadRequest, "subject.id must be a group's number, got %s", string(sub.ID))
		return nil, st, b
	}
	g := sp.groups[id]
	if g == nil {
		st, b := fail(http.StatusNotFound, "Group %d not found", id)
		return nil, st, b
	}
	return g, 0, nil
}

func (sp *space) objectsOf(groupID int64, typ string) []accessOut {
	out := []accessOut{}
	for k, lvl := range sp.grants[groupID] {
		if k.typ == typ {
			out = append(out, accessOut{Type: k.typ, ID: k.id, AccessLevel: lvl})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (s *Server) listObjects(sp *space, _ *http.Request, body []byte) (int, any) {
	var in struct {
		Subject                *subjectIn `json:"subject"`
		ObjectType             string     `json:"object_type"`
		IncludeInheritedAccess bool       `json:"include_inherited_access"`
	}
	if err := decode(body, &in, true); err != nil {
		return badBody(err)
	}
	if err := enumErr("object_type", in.ObjectType, []string{kindFolder, kindApp, kindResource, "resource_configuration"}); err != nil {
		return badBody(err)
	}
	g, st, b := subjectGroup(sp, in.Subject)
	if g == nil {
		return st, b
	}
	return all(sp.objectsOf(g.ID, in.ObjectType))
}

func (s *Server) objectOf(sp *space, obj *objectIn) (objectKey, int, any) {
	if obj == nil {
		st, b := fail(http.StatusBadRequest, "object is required")
		return objectKey{}, st, b
	}
	switch obj.Type {
	case kindFolder, kindApp, kindResource:
	case "screen", "resource_configuration":
		st, b := fail(http.StatusBadRequest, "object.type %q is not supported by the emulator", obj.Type)
		return objectKey{}, st, b
	default:
		st, b := fail(http.StatusBadRequest, "object.type must be one of folder, app, screen, resource, resource_configuration, got %q", obj.Type)
		return objectKey{}, st, b
	}
	if obj.Type == kindFolder && !folderIDRe.MatchString(obj.ID) {
		st, b := fail(http.StatusBadRequest, "object.id of a folder must look like app_<n>, got %q", obj.ID)
		return objectKey{}, st, b
	}
	k := objectKey{obj.Type, obj.ID}
	if obj.Type == kindApp {
		if a := sp.app(obj.ID); a != nil {
			k.id = a.ID
		}
	}
	if !sp.objectExists(k) {
		st, b := fail(http.StatusNotFound, "The %s %s does not exist", obj.Type, obj.ID)
		return objectKey{}, st, b
	}
	return k, 0, nil
}

func (s *Server) grant(sp *space, _ *http.Request, body []byte) (int, any) {
	var in struct {
		Subject     *subjectIn `json:"subject"`
		Object      *objectIn  `json:"object"`
		AccessLevel string     `json:"access_level"`
	}
	if err := decode(body, &in, true); err != nil {
		return badBody(err)
	}
	if err := enumErr("access_level", in.AccessLevel, grantLevel); err != nil {
		return badBody(err)
	}
	g, st, b := subjectGroup(sp, in.Subject)
	if g == nil {
		return st, b
	}
	k, st, b := s.objectOf(sp, in.Object)
	if st != 0 {
		return st, b
	}
	if sp.grants[g.ID] == nil {
		sp.grants[g.ID] = map[objectKey]string{}
	}
	sp.grants[g.ID][k] = in.AccessLevel
	return all(sp.objectsOf(g.ID, k.typ))
}

func (s *Server) revoke(sp *space, _ *http.Request, body []byte) (int, any) {
	var in struct {
		Subject *subjectIn `json:"subject"`
		Object  *objectIn  `json:"object"`
	}
	if err := decode(body, &in, true); err != nil {
		return badBody(err)
	}
	g, st, b := subjectGroup(sp, in.Subject)
	if g == nil {
		return st, b
	}
	k, st, b := s.objectOf(sp, in.Object)
	if st != 0 {
		return st, b
	}
	delete(sp.grants[g.ID], k)
	return all(sp.objectsOf(g.ID, k.typ))
}

// ---- source control

func (s *Server) getSettings(sp *space, _ *http.Request, _ []byte) (int, any) {
	return ok(sp.settings)
}

func (s *Server) putSettings(sp *space, _ *http.Request, body []byte) (int, any) {
	var in struct {
		Settings *struct {
			AutoBranchNamingEnabled          *bool   `json:"auto_branch_naming_enabled"`
			CustomPullRequestTemplateEnabled *bool   `json:"custom_pull_request_template_enabled"`
			CustomPullRequestTemplate        *string `json:"custom_pull_request_template"`
			VersionControlLocked             *bool   `json:"version_control_locked"`
			ForceUUIDMapping                 *bool   `json:"force_uuid_mapping"`
			AutoCleanupBranchesEnabled       *bool   `json:"auto_cleanup_branches_enabled"`
		} `json:"settings"`
	}
	if err := decode(body, &in, true); err != nil {
		return badBody(err)
	}
	if in.Settings == nil {
		return fail(http.StatusBadRequest, "settings is required")
	}
	st := &sp.settings
	for _, f := range []struct {
		in  *bool
		out *bool
	}{
		{in.Settings.AutoBranchNamingEnabled, &st.AutoBranchNamingEnabled},
		{in.Settings.CustomPullRequestTemplateEnabled, &st.CustomPullRequestTemplateEnabled},
		{in.Settings.VersionControlLocked, &st.VersionControlLocked},
		{in.Settings.ForceUUIDMapping, &st.ForceUUIDMapping},
		{in.Settings.AutoCleanupBranchesEnabled, &st.AutoCleanupBranchesEnabled},
	} {
		if f.in != nil {
			*f.out = *f.in
		}
	}
	if in.Settings.CustomPullRequestTemplate != nil {
		st.CustomPullRequestTemplate = *in.Settings.CustomPullRequestTemplate
	}
	return ok(*st)
}

// secrets are the provider credentials Retool answers encrypted.
var secrets = []string{"private_key", "personal_access_token", "project_access_token", "access_key_id", "secret_access_key",
	"https_password", "app_password", "token"}

var providers = []string{"GitHub", "GitLab", "AWS CodeCommit", "Bitbucket", "Azure Repos"}

func configView(c *scConfig) scConfig {
	out := *c
	out.Config = map[string]any{}
	for k, v := range c.Config {
		if slices.Contains(secrets, k) {
			v = "---encrypted-on-server---"
		}
		out.Config[k] = v
	}
	return out
}

func (s *Server) getConfig(sp *space, _ *http.Request, _ []byte) (int, any) {
	if sp.config == nil {
		return fail(http.StatusNotFound, "Source control is not configured for this space")
	}
	return ok(configView(sp.config))
}

func decodeConfig(body []byte) (*scConfig, error) {
	var in struct {
		Config *struct {
			scConfig
			Config map[string]any `json:"config"`
		} `json:"config"`
	}
	if err := decode(body, &in, true); err != nil {
		return nil, err
	}
	c := in.Config
	if c == nil {
		return nil, fmt.Errorf("config is required")
	}
	if err := enumErr("config.provider", c.Provider, providers); err != nil {
		return nil, err
	}
	for field, v := range map[string]string{"config.org": c.Org, "config.repo": c.Repo, "config.default_branch": c.DefaultBranch} {
		if v == "" {
			return nil, fmt.Errorf("%s is required", field)
		}
	}
	if c.Config == nil {
		return nil, fmt.Errorf("config.config (the provider's credentials) is required")
	}
	out := c.scConfig
	out.Config = c.Config
	return &out, nil
}

func (s *Server) postConfig(sp *space, _ *http.Request, body []byte) (int, any) {
	c, err := decodeConfig(body)
	if err != nil {
		return badBody(err)
	}
	if sp.config != nil {
		return fail(http.StatusConflict, "Source control configuration already exists")
	}
	sp.config = c
	return ok(configView(c))
}

func (s *Server) putConfig(sp *space, _ *http.Request, body []byte) (int, any) {
	c, err := decodeConfig(body)
	if err != nil {
		return badBody(err)
	}
	created := sp.config == nil
	sp.config = c
	st, b := ok(configView(c))
	if created {
		st = http.StatusCreated
	}
	return st, b
}

// ---- spaces

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
		now := s.now()
		for _, email := range in.Options.UsersToCopyAsAdmins {
			u := s.addUser(c, email)
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
