package emulator

import (
	"fmt"
	"sort"
	"strconv"
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
	personalRoot     string            // the app folder holding users' drafts
	apps             []*app
	workflows        []*workflow
	resources        []*resource
	grants           map[subjectKey]map[objectKey]string
	settings         scSettings
	config           *scConfig
	sso              map[string]any       // /sso/config, secrets encrypted; nil: none
	releases         map[string][]release // by app uuid
}

type objectKey struct{ typ, id string }

// subjectKey is the subject of a grant: a group (id its number) or a user
// (id user_<hex>).
type subjectKey struct{ typ, id string }

func groupSubject(id int64) subjectKey { return subjectKey{subjectGroup, strconv.FormatInt(id, 10)} }

func userSubject(id string) subjectKey { return subjectKey{subjectUser, id} }

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

	subjectGroup = "group"
	subjectUser  = "user"

	// kindFile is the type of the file root folder: outside the folder_type
	// enum of Retool's document, but real instances list it.
	kindFile = "file"
)

// defaultSettings are the source control settings of a new Space, as
// Retool's document gives their defaults.
var defaultSettings = scSettings{AutoBranchNamingEnabled: true, AutoCleanupBranchesEnabled: true}

// newSpace creates a Space with Retool's default groups, root folders and
// settings, and registers it by domain. The caller holds s.mu (or is New).
func (s *Server) newSpace(name, domain string, parent *space) *space {
	now := s.now()
	sp := &space{
		id: "org_" + randomHex(16), name: name, domain: domain, parent: parent,
		created: now, updated: now,
		groups: map[int64]*group{}, defaultGroups: map[string]int64{},
		folders: map[string]*folder{}, roots: map[string]string{},
		grants: map[subjectKey]map[objectKey]string{}, releases: map[string][]release{},
		userIDs: map[string]*user{}, userEmails: map[string]*user{},
		settings: defaultSettings,
	}
	for _, g := range defaultGroups {
		s.ids.group++
		g.ID, g.LegacyID = s.ids.group, s.ids.group
		g.Members, g.UserInvites = []groupMember{}, []inviteOut{}
		g.CreatedAt, g.UpdatedAt = stamp(now), stamp(now)
		sp.groups[g.ID] = &g
		sp.defaultGroups[g.Name] = g.ID
	}
	// The system folders in the order a recorded instance made them (app_1
	// root, app_2 archive, app_3 personalRoot, workflow_4 root, workflow_5
	// archive, file_6 root; resource_1 root).
	appRoot := s.addFolder(sp, "root", kindApp, nil, true)
	s.addFolder(sp, "archive", kindApp, &appRoot.ID, true)
	sp.personalRoot = s.addFolder(sp, "personalRoot", kindApp, nil, true).ID
	wfRoot := s.addFolder(sp, "root", kindWorkflow, nil, true)
	s.addFolder(sp, "archive", kindWorkflow, &wfRoot.ID, true)
	s.addFolder(sp, "root", kindFile, nil, true)
	s.addFolder(sp, "root", kindResource, nil, true)
	s.spaces[domain] = sp
	return sp
}

// addFolder adds a folder; app, workflow and file folders share a sequence,
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

// newUser describes a user to create.
type newUser struct {
	email, firstName, lastName string
	// inactive: an account that is deactivated (or never signed in): most
	// users of a real instance. It claims no invite and has no drafts.
	inactive bool
}

// addUser creates a user (a sign-in) in All Users; an active user gets
// drafts and trash folders and claims the unexpired invites of the email.
func (s *Server) addUser(sp *space, in newUser) *user {
	if u := sp.userByEmail(in.email); u != nil {
		return u
	}
	s.ids.user++
	now := s.now()
	u := &user{ID: "user_" + randomHex(16), LegacyID: s.ids.user, CreatedAt: stamp(now), Email: in.email, Active: !in.inactive,
		Metadata: map[string]any{}, UserType: "default"}
	if in.firstName != "" {
		u.FirstName = &in.firstName
	}
	if in.lastName != "" {
		u.LastName = &in.lastName
	}
	sp.users = append(sp.users, u)
	sp.userIDs[u.ID], sp.userEmails[strings.ToLower(in.email)] = u, u
	sp.setMember(sp.groups[sp.defaultGroups[groupAllUsers]], u, false, now)
	if in.inactive {
		return u
	}
	at := stamp(now)
	u.LastActive = &at
	drafts := s.addFolder(sp, fmt.Sprintf("(%d) %s's Drafts", u.LegacyID, displayName(u)), kindApp, &sp.personalRoot, true)
	s.addFolder(sp, fmt.Sprintf("(%d) %s's Trash", u.LegacyID, displayName(u)), kindApp, &drafts.ID, true)
	for _, inv := range sp.invites {
		if inv.ClaimedBy == nil && strings.EqualFold(inv.InvitedEmail, in.email) && !sp.expired(inv, now) {
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

// displayName is how Retool names a user's drafts: first and last name, or
// the email.
func displayName(u *user) string {
	var parts []string
	for _, p := range []*string{u.FirstName, u.LastName} {
		if p != nil && *p != "" {
			parts = append(parts, *p)
		}
	}
	if len(parts) == 0 {
		return u.Email
	}
	return strings.Join(parts, " ")
}

// inviteTTL is how long an invite link is valid.
const inviteTTL = 7 * 24 * time.Hour

// expired reports whether an invite's link has expired at now.
func (sp *space) expired(inv *invite, now time.Time) bool {
	t, err := time.Parse(time.RFC3339Nano, inv.ExpiresAt)
	return err == nil && !now.Before(t)
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
func (sp *space) view(g *group, now time.Time) group {
	out := *g
	out.Members = append([]groupMember{}, g.Members...)
	out.UserInvites = []inviteOut{}
	for _, inv := range sp.invites {
		if inv.ClaimedBy != nil || sp.expired(inv, now) {
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

func (sp *space) sortedGroups(now time.Time) []group {
	ids := make([]int64, 0, len(sp.groups))
	for id := range sp.groups {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	out := make([]group, 0, len(ids))
	for _, id := range ids {
		out = append(out, sp.view(sp.groups[id], now))
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
		return sp.resource(k.id) != nil
	case kindWorkflow:
		return sp.workflow(k.id) != nil
	}
	return false
}

// resource finds a resource by id or name (grants name either).
func (sp *space) resource(id string) *resource {
	for _, r := range sp.resources {
		if strings.EqualFold(r.ID, id) || r.DisplayName == id {
			return r
		}
	}
	return nil
}

func (sp *space) workflow(id string) *workflow {
	for _, w := range sp.workflows {
		if strings.EqualFold(w.ID, id) {
			return w
		}
	}
	return nil
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
