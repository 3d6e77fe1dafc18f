package syncer_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/governor-dev/governor/internal/platform/retool"
)

// fake is an in-memory instance's Space with faults to inject: no HTTP.
type fake struct {
	mu        sync.Mutex
	nextID    int64
	groups    []retool.Group
	users     []retool.User
	folders   []retool.Folder
	apps      []retool.App
	resources []retool.Resource
	grants    map[int64]map[retool.ObjectRef]string
	// userGrants are grants whose subject is a user, by user id.
	userGrants map[string]map[retool.ObjectRef]string
	settings   retool.SourceControlSettings
	// sso is the SSO configuration as sent (secrets in clear, unlike
	// Retool's answers: the tests read what was sent).
	sso    *retool.SSOConfig
	counts map[string]int
	calls  []string
	// fault, when set, is asked before each call (n counts the calls of
	// that name, from 1): a non-nil err fails the call, before its effect,
	// or after it when lost is set (the answer never arrived).
	fault func(call string, n int) (err error, lost bool)
}

func newFake() *fake {
	f := &fake{nextID: 100, grants: map[int64]map[retool.ObjectRef]string{}, userGrants: map[string]map[retool.ObjectRef]string{}, counts: map[string]int{}}
	for i, name := range []string{"admin", "editor", "viewer", "All Users"} {
		f.groups = append(f.groups, retool.Group{ID: int64(i + 1), Name: name})
	}
	for _, e := range []string{"alice@example.com", "bob@example.com", "root@example.com"} {
		f.users = append(f.users, retool.User{ID: "user_" + strings.Split(e, "@")[0], Email: e, Active: true})
	}
	root := func(typ string) retool.Folder {
		return retool.Folder{ID: typ + "_root", Name: "root", FolderType: typ, IsSystemFolder: true}
	}
	f.folders = []retool.Folder{root("app"), root("workflow"), root("resource")}
	f.apps = []retool.App{{ID: "app-ledger", Name: "ledger"}}
	f.resources = []retool.Resource{{ID: "res-ledger-db", DisplayName: "ledger-db"}}
	return f
}

// enter counts a call and returns its injected failure.
func (f *fake) enter(call string) (error, bool) {
	f.counts[call]++
	f.calls = append(f.calls, call)
	if f.fault == nil {
		return nil, false
	}
	return f.fault(call, f.counts[call])
}

func (f *fake) writes() int {
	n := 0
	for _, c := range f.calls {
		if !strings.HasPrefix(c, "List") && !strings.HasPrefix(c, "Get") && c != "FindUserByEmail" {
			n++
		}
	}
	return n
}

func (f *fake) group(id int64) *retool.Group {
	for i := range f.groups {
		if f.groups[i].ID == id {
			return &f.groups[i]
		}
	}
	return nil
}

func (f *fake) groupNamed(name string) *retool.Group {
	for i := range f.groups {
		if f.groups[i].Name == name {
			return &f.groups[i]
		}
	}
	return nil
}

func (f *fake) email(userID string) string {
	for _, u := range f.users {
		if u.ID == userID {
			return u.Email
		}
	}
	return ""
}

func notFound(method, path string) error {
	return &retool.APIError{Status: 404, Method: method, Path: path, Message: "not found"}
}

func (f *fake) ListGroups(context.Context) ([]retool.Group, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err, _ := f.enter("ListGroups"); err != nil {
		return nil, err
	}
	out := make([]retool.Group, len(f.groups))
	for i, g := range f.groups {
		g.Members = slices.Clone(g.Members)
		out[i] = g
	}
	return out, nil
}

func (f *fake) ListUsers(context.Context) ([]retool.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err, _ := f.enter("ListUsers"); err != nil {
		return nil, err
	}
	return slices.Clone(f.users), nil
}

func (f *fake) FindUserByEmail(_ context.Context, email string) (*retool.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err, _ := f.enter("FindUserByEmail"); err != nil {
		return nil, err
	}
	for _, u := range f.users {
		if strings.EqualFold(u.Email, email) {
			return &u, nil
		}
	}
	return nil, nil
}

func (f *fake) ListUserInvites(context.Context) ([]retool.UserInvite, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err, _ := f.enter("ListUserInvites"); err != nil {
		return nil, err
	}
	return nil, nil
}

func (f *fake) ListFolders(context.Context) ([]retool.Folder, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err, _ := f.enter("ListFolders"); err != nil {
		return nil, err
	}
	return slices.Clone(f.folders), nil
}

func (f *fake) ListApps(context.Context) ([]retool.App, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err, _ := f.enter("ListApps"); err != nil {
		return nil, err
	}
	return slices.Clone(f.apps), nil
}

func (f *fake) ListResources(context.Context) ([]retool.Resource, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err, _ := f.enter("ListResources"); err != nil {
		return nil, err
	}
	return slices.Clone(f.resources), nil
}

func (f *fake) ListObjects(_ context.Context, groupID int64, objectType string) ([]retool.ObjectAccess, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err, _ := f.enter("ListObjects"); err != nil {
		return nil, err
	}
	if f.group(groupID) == nil {
		return nil, notFound("POST", "/permissions/listObjects")
	}
	var out []retool.ObjectAccess
	for ref, level := range f.grants[groupID] {
		if ref.Type == objectType {
			out = append(out, retool.ObjectAccess{Type: ref.Type, ID: ref.ID, AccessLevel: level})
		}
	}
	return out, nil
}

func (f *fake) ListObjectsOf(ctx context.Context, sub retool.Subject, objectType string) ([]retool.ObjectAccess, error) {
	if sub.Type == retool.SubjectGroup {
		id, err := strconv.ParseInt(sub.ID, 10, 64)
		if err != nil {
			return nil, err
		}
		return f.ListObjects(ctx, id, objectType)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err, _ := f.enter("ListObjectsOf"); err != nil {
		return nil, err
	}
	if f.email(sub.ID) == "" {
		return nil, notFound("POST", "/permissions/listObjects")
	}
	var out []retool.ObjectAccess
	for ref, level := range f.userGrants[sub.ID] {
		if ref.Type == objectType {
			out = append(out, retool.ObjectAccess{Type: ref.Type, ID: ref.ID, AccessLevel: level})
		}
	}
	return out, nil
}

func (f *fake) GetSourceControlSettings(context.Context) (retool.SourceControlSettings, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err, _ := f.enter("GetSourceControlSettings"); err != nil {
		return retool.SourceControlSettings{}, err
	}
	return f.settings, nil
}

func (f *fake) GetSourceControlConfig(context.Context) (*retool.SourceControlConfig, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err, _ := f.enter("GetSourceControlConfig"); err != nil {
		return nil, err
	}
	return nil, nil
}

func (f *fake) UpdateSourceControlSettings(_ context.Context, s retool.SourceControlSettings) (retool.SourceControlSettings, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	err, lost := f.enter("UpdateSourceControlSettings")
	if err != nil && !lost {
		return retool.SourceControlSettings{}, err
	}
	f.settings = s
	return s, err
}

func (f *fake) PutSourceControlConfig(_ context.Context, cfg retool.SourceControlConfig) (retool.SourceControlConfig, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err, _ := f.enter("PutSourceControlConfig"); err != nil {
		return retool.SourceControlConfig{}, err
	}
	return cfg, nil
}

func (f *fake) CreateFolder(_ context.Context, name, parentID, folderType string) (retool.Folder, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	err, lost := f.enter("CreateFolder")
	if err != nil && !lost {
		return retool.Folder{}, err
	}
	f.nextID++
	fo := retool.Folder{ID: fmt.Sprintf("%s_%d", folderType, f.nextID), Name: name, ParentFolderID: &parentID, FolderType: folderType}
	f.folders = append(f.folders, fo)
	return fo, err
}

func (f *fake) CreateGroup(_ context.Context, in retool.GroupCreate) (retool.Group, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	err, lost := f.enter("CreateGroup")
	if err != nil && !lost {
		return retool.Group{}, err
	}
	f.nextID++
	g := retool.Group{ID: f.nextID, Name: in.Name, UniversalAppAccess: in.UniversalAppAccess, UniversalResourceAccess: in.UniversalResourceAccess,
		UniversalWorkflowAccess: in.UniversalWorkflowAccess, UniversalQueryLibraryAccess: in.UniversalQueryLibraryAccess,
		UserListAccess: in.UserListAccess, AuditLogAccess: in.AuditLogAccess, UnpublishedReleaseAccess: in.UnpublishedReleaseAccess,
		UsageAnalyticsAccess: in.UsageAnalyticsAccess, ThemeAccess: in.ThemeAccess, AccountDetailsAccess: in.AccountDetailsAccess}
	for _, m := range in.Members {
		g.Members = append(g.Members, retool.GroupMember{ID: m.ID, Email: f.email(m.ID), IsGroupAdmin: m.IsGroupAdmin})
	}
	f.groups = append(f.groups, g)
	return g, err
}

func (f *fake) UpdateGroup(_ context.Context, id int64, u retool.GroupUpdate) (retool.Group, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err, _ := f.enter("UpdateGroup"); err != nil {
		return retool.Group{}, err
	}
	g := f.group(id)
	if g == nil {
		return retool.Group{}, notFound("PATCH", "/groups")
	}
	str := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	flag := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	str(&g.Name, u.Name)
	str(&g.UniversalAppAccess, u.UniversalAppAccess)
	str(&g.UniversalResourceAccess, u.UniversalResourceAccess)
	str(&g.UniversalWorkflowAccess, u.UniversalWorkflowAccess)
	str(&g.UniversalQueryLibraryAccess, u.UniversalQueryLibraryAccess)
	flag(&g.UserListAccess, u.UserListAccess)
	flag(&g.AuditLogAccess, u.AuditLogAccess)
	flag(&g.UnpublishedReleaseAccess, u.UnpublishedReleaseAccess)
	flag(&g.UsageAnalyticsAccess, u.UsageAnalyticsAccess)
	flag(&g.ThemeAccess, u.ThemeAccess)
	flag(&g.AccountDetailsAccess, u.AccountDetailsAccess)
	return *g, nil
}

func (f *fake) AddGroupMembers(_ context.Context, id int64, members []retool.MemberInput) (retool.Group, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err, _ := f.enter("AddGroupMembers"); err != nil {
		return retool.Group{}, err
	}
	g := f.group(id)
	if g == nil {
		return retool.Group{}, notFound("POST", "/groups/members")
	}
	for _, m := range members {
		i := slices.IndexFunc(g.Members, func(x retool.GroupMember) bool { return x.ID == m.ID })
		if i >= 0 {
			g.Members[i].IsGroupAdmin = m.IsGroupAdmin
			continue
		}
		g.Members = append(g.Members, retool.GroupMember{ID: m.ID, Email: f.email(m.ID), IsGroupAdmin: m.IsGroupAdmin})
	}
	return *g, nil
}

func (f *fake) RemoveGroupMember(_ context.Context, id int64, userID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err, _ := f.enter("RemoveGroupMember"); err != nil {
		return err
	}
	if g := f.group(id); g != nil {
		g.Members = slices.DeleteFunc(g.Members, func(m retool.GroupMember) bool { return m.ID == userID })
	}
	return nil
}

func (f *fake) CreateUserInvite(_ context.Context, email string, _ []int64) (retool.UserInvite, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err, _ := f.enter("CreateUserInvite"); err != nil {
		return retool.UserInvite{}, err
	}
	return retool.UserInvite{InvitedEmail: email}, nil
}

func (f *fake) Grant(_ context.Context, groupID int64, obj retool.ObjectRef, level string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	err, lost := f.enter("Grant")
	if err != nil && !lost {
		return err
	}
	if f.group(groupID) == nil {
		return notFound("POST", "/permissions/grant")
	}
	if f.grants[groupID] == nil {
		f.grants[groupID] = map[retool.ObjectRef]string{}
	}
	f.grants[groupID][obj] = level
	return err
}

func (f *fake) Revoke(_ context.Context, groupID int64, obj retool.ObjectRef) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err, _ := f.enter("Revoke"); err != nil {
		return err
	}
	delete(f.grants[groupID], obj)
	return nil
}

func (f *fake) RevokeFrom(ctx context.Context, sub retool.Subject, obj retool.ObjectRef) error {
	if sub.Type == retool.SubjectGroup {
		id, err := strconv.ParseInt(sub.ID, 10, 64)
		if err != nil {
			return err
		}
		return f.Revoke(ctx, id, obj)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err, _ := f.enter("RevokeFrom"); err != nil {
		return err
	}
	if _, ok := f.userGrants[sub.ID][obj]; !ok {
		return notFound("POST", "/permissions/revoke")
	}
	delete(f.userGrants[sub.ID], obj)
	return nil
}

func (f *fake) DeleteGroup(_ context.Context, id int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err, _ := f.enter("DeleteGroup"); err != nil {
		return err
	}
	if f.group(id) == nil {
		return notFound("DELETE", "/groups")
	}
	f.groups = slices.DeleteFunc(f.groups, func(g retool.Group) bool { return g.ID == id })
	delete(f.grants, id)
	return nil
}

func (f *fake) GetSSOConfig(context.Context) (*retool.SSOConfig, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err, _ := f.enter("GetSSOConfig"); err != nil {
		return nil, err
	}
	if f.sso == nil {
		return nil, nil
	}
	// Retool answers the secrets encrypted.
	cfg := f.sso.WithoutSecrets()
	if f.sso.OIDCClientSecret != "" {
		cfg.OIDCClientSecret = retool.EncryptedSecret
	}
	return &cfg, nil
}

func (f *fake) SetSSOConfig(_ context.Context, cfg retool.SSOConfig) (retool.SSOConfig, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err, _ := f.enter("SetSSOConfig"); err != nil {
		return retool.SSOConfig{}, err
	}
	f.sso = &cfg
	return cfg, nil
}

func (f *fake) DeleteSSOConfig(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err, _ := f.enter("DeleteSSOConfig"); err != nil {
		return err
	}
	f.sso = nil
	return nil
}
