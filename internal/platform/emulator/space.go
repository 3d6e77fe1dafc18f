package emulator

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/governor-dev/governor/internal/platform/retool"

	"github.com/google/uuid"
)

// space is one Space's state.
type space struct {
	id, name, domain string
	parent           *space
	created, updated time.Time
	copySSO          bool
	tokens           []string
	groups           map[int64]*group
	defaultGroups    map[string]int64 // admin, editor, viewer, All Users
	users            []*user
	userIDs          map[string]*user
	userEmails       map[string]*user // by lower-case email
	invites          []*invite
	folders          map[string]*folder
	roots            map[string]string // folder type -> root folder id
	apps             []*app
	workflows        []*workflow
	resources        []*resource
	grants           map[int64]map[objectKey]string
	settings         scSettings
	config           *scConfig
	releases         map[string][]release // by app uuid
}

type objectKey struct{ typ, id string }

// The wire types are the client's: one definition of Retool's JSON, held
// to the OpenAPI description from both sides in tests.
type group = retool.Group

type groupMember = retool.GroupMember

type user = retool.User

type invite struct {
	inviteOut
	groupIDs []int64
}

type inviteOut = retool.UserInvite

type inviteGroup = retool.UserInviteGroup

type folder = retool.Folder

type app = retool.App

type workflow = retool.Workflow

type resource = retool.Resource

type scSettings = retool.SourceControlSettings

type scConfig = retool.SourceControlConfig

type release = retool.Release

type spaceOut = retool.Space

// isDefault reports whether g is one of Retool's default groups, which
// cannot be renamed or deleted (names are unique in a Space).
func isDefault(g *group) bool {
	for i := range defaultGroups {
		if defaultGroups[i].Name == g.Name {
			return true
		}
	}
	return false
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func newUUID() string { return uuid.NewString() }

// Retool's default groups, with the levels and flags a fresh instance has.
var defaultGroups = []group{
	{Name: "admin", UniversalAppAccess: levelOwn, UniversalResourceAccess: levelOwn, UniversalWorkflowAccess: levelOwn, UniversalQueryLibraryAccess: levelEdit,
		UserListAccess: true, AuditLogAccess: true, UnpublishedReleaseAccess: true, UsageAnalyticsAccess: true, ThemeAccess: true, AccountDetailsAccess: true},
	{Name: "editor", UniversalAppAccess: levelEdit, UniversalResourceAccess: levelOwn, UniversalWorkflowAccess: levelEdit, UniversalQueryLibraryAccess: levelEdit,
		UserListAccess: true, UnpublishedReleaseAccess: true, AccountDetailsAccess: true},
	{Name: "viewer", UniversalAppAccess: levelUse, UniversalResourceAccess: levelUse, UniversalWorkflowAccess: levelUse, UniversalQueryLibraryAccess: levelUse,
		UserListAccess: true, AccountDetailsAccess: true},
	{Name: "All Users", UniversalAppAccess: levelEdit, UniversalResourceAccess: levelOwn, UniversalWorkflowAccess: levelEdit, UniversalQueryLibraryAccess: levelEdit,
		AccountDetailsAccess: true},
}

// Object kinds (folder types and grant objects) and access levels.
const (
	kindApp      = "app"
	kindWorkflow = "workflow"
	kindResource = "resource"
	kindFolder   = "folder"

	levelNone = "none"
	levelUse  = "use"
	levelEdit = "edit"
	levelOwn  = "own"
)

const (
	groupAdmin    = "admin"
	groupAllUsers = "All Users"
)

// newSpace creates a Space with Retool's default groups, root folders and
// settings, and registers it by domain. The caller holds s.mu (or is New).
func (s *Server) newSpace(name, domain string, parent *space) *space {
	now := s.now()
	sp := &space{
		id: "org_" + randomHex(16), name: name, domain: domain, parent: parent,
		created: now, updated: now,
		groups: map[int64]*group{}, defaultGroups: map[string]int64{},
		folders: map[string]*folder{}, roots: map[string]string{},
		grants: map[int64]map[objectKey]string{}, releases: map[string][]release{},
		userIDs: map[string]*user{}, userEmails: map[string]*user{},
	}
	for _, g := range defaultGroups {
		s.ids.group++
		g.ID, g.LegacyID = s.ids.group, s.ids.group
		g.Members, g.UserInvites = []groupMember{}, []inviteOut{}
		g.CreatedAt, g.UpdatedAt = stamp(now), stamp(now)
		sp.groups[g.ID] = &g
		sp.defaultGroups[g.Name] = g.ID
	}
	for _, t := range []string{kindApp, kindWorkflow, kindResource} {
		root := s.addFolder(sp, "root", t, nil, true)
		if t != kindResource {
			s.addFolder(sp, "archive", t, &root.ID, true)
		}
	}
	s.spaces[domain] = sp
	return sp
}

// addFolder adds a folder; app and workflow folders share a sequence,
// resource folders have their own (as in Retool).
func (s *Server) addFolder(sp *space, name, typ string, parent *string, system bool) *folder {
	var n int64
	if typ == kindResource {
		s.ids.resourceFolder++
		n = s.ids.resourceFolder
	} else {
		s.ids.folder++
		n = s.ids.folder
	}
	id := fmt.Sprintf("%s_%d", typ, n)
	now := stamp(s.now())
	f := &folder{ID: id, LegacyID: id, Name: name, ParentFolderID: parent, IsSystemFolder: system, FolderType: typ, CreatedAt: now, UpdatedAt: now}
	sp.folders[id] = f
	if parent == nil && name == "root" && system {
		sp.roots[typ] = id
	}
	return f
}

// folderPath finds or creates the folder at path ("finance/reports") under
// the type's root folder, returning its id.
func (s *Server) folderPath(sp *space, typ, path string) string {
	cur := sp.roots[typ]
	for _, part := range strings.Split(strings.Trim(path, "/"), "/") {
		if part == "" {
			continue
		}
		var next string
		for _, f := range sp.folders {
			if f.FolderType == typ && f.ParentFolderID != nil && *f.ParentFolderID == cur && f.Name == part {
				next = f.ID
				break
			}
		}
		if next == "" {
			parent := cur
			next = s.addFolder(sp, part, typ, &parent, false).ID
		}
		cur = next
	}
	return cur
}

func (sp *space) userByID(id string) *user { return sp.userIDs[id] }

func (sp *space) userByEmail(email string) *user { return sp.userEmails[strings.ToLower(email)] }

// addUser creates a user (a sign-in) in All Users and claims the pending
// invites of that email.
func (s *Server) addUser(sp *space, email string) *user {
	if u := sp.userByEmail(email); u != nil {
		return u
	}
	s.ids.user++
	now := s.now()
	u := &user{ID: "user_" + randomHex(16), LegacyID: s.ids.user, CreatedAt: stamp(now), Email: email, Active: true,
		Metadata: map[string]any{}, UserType: "default"}
	sp.users = append(sp.users, u)
	sp.userIDs[u.ID], sp.userEmails[strings.ToLower(email)] = u, u
	sp.setMember(sp.groups[sp.defaultGroups[groupAllUsers]], u, false, now)
	for _, inv := range sp.invites {
		if inv.ClaimedBy == nil && strings.EqualFold(inv.InvitedEmail, email) {
			id, at := u.ID, stamp(now)
			inv.ClaimedBy, inv.ClaimedAt = &id, &at
			for _, gid := range inv.groupIDs {
				if g := sp.groups[gid]; g != nil {
					sp.setMember(g, u, false, now)
				}
			}
		}
	}
	return u
}

// setMember adds u to g or updates is_group_admin.
func (sp *space) setMember(g *group, u *user, admin bool, now time.Time) {
	for i := range g.Members {
		if g.Members[i].ID == u.ID {
			if g.Members[i].IsGroupAdmin != admin {
				g.Members[i].IsGroupAdmin = admin
				g.UpdatedAt = stamp(now)
			}
			return
		}
	}
	g.Members = append(g.Members, groupMember{ID: u.ID, Email: u.Email, IsGroupAdmin: admin})
	g.UpdatedAt = stamp(now)
}

// view renders a group: its pending invites and its members' admin status.
func (sp *space) view(g *group) group {
	out := *g
	out.Members = append([]groupMember{}, g.Members...)
	out.UserInvites = []inviteOut{}
	for _, inv := range sp.invites {
		if inv.ClaimedBy != nil {
			continue
		}
		for _, id := range inv.groupIDs {
			if id == g.ID {
				out.UserInvites = append(out.UserInvites, sp.inviteView(inv))
			}
		}
	}
	return out
}

func (sp *space) inviteView(inv *invite) inviteOut {
	out := inv.inviteOut
	out.Groups = []inviteGroup{}
	for _, id := range inv.groupIDs {
		if g := sp.groups[id]; g != nil {
			out.Groups = append(out.Groups, inviteGroup{ID: g.ID, LegacyID: g.LegacyID, Name: g.Name})
		}
	}
	return out
}

func (sp *space) userView(u *user) user {
	out := *u
	admin := sp.groups[sp.defaultGroups[groupAdmin]]
	for _, m := range admin.Members {
		if m.ID == u.ID {
			out.IsAdmin = true
		}
	}
	return out
}

func (sp *space) spaceView(withDomain bool) spaceOut {
	out := spaceOut{ID: sp.id, Name: sp.name, Domain: sp.domain, CreatedAt: stamp(sp.created), UpdatedAt: stamp(sp.updated)}
	if !withDomain {
		out.Domain = ""
	}
	return out
}

func (sp *space) sortedGroups() []group {
	ids := make([]int64, 0, len(sp.groups))
	for id := range sp.groups {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	out := make([]group, 0, len(ids))
	for _, id := range ids {
		out = append(out, sp.view(sp.groups[id]))
	}
	return out
}

// objectExists reports whether a grant's object is in the Space.
func (sp *space) objectExists(k objectKey) bool {
	switch k.typ {
	case kindFolder:
		return sp.folders[k.id] != nil
	case kindApp:
		return sp.app(k.id) != nil
	case kindResource:
		for _, r := range sp.resources {
			if r.ID == k.id {
				return true
			}
		}
	}
	return false
}

func (sp *space) app(id string) *app {
	for _, a := range sp.apps {
		if strings.EqualFold(a.ID, id) {
			return a
		}
	}
	return nil
}

// dropGrants removes every grant on an object.
func (sp *space) dropGrants(k objectKey) {
	for _, gs := range sp.grants {
		delete(gs, k)
	}
}
