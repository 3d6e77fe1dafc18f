// Package syncer makes one environment's instance hold a Space's projected
// state through the Retool API client: it observes what the instance holds
// (within a request budget), plans with internal/platform and applies the
// plan, remembering what it learnt so that the next pass reads less.
package syncer

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/platform"
	"github.com/governor-dev/governor/internal/platform/retool"
)

// grantTypes are the object types a group's grants are read for.
var grantTypes = []platform.ObjectType{platform.ObjectFolder, platform.ObjectApp, platform.ObjectResource}

// findUsersOneByOne is how many unknown members are looked up by email one
// at a time; more than that and every user is listed instead.
const findUsersOneByOne = 20

// Memory is what a syncer knows of one instance's Space between passes: the
// grants of each group as last read or written, and where the periodic
// grant reads stopped. It is safe for concurrent use.
type Memory struct {
	mu     sync.Mutex
	grants map[int64]map[platform.ObjectRef]string
	cursor int
}

// NewMemory returns an empty memory (a first pass reads everything it may).
func NewMemory() *Memory { return &Memory{grants: map[int64]map[platform.ObjectRef]string{}} }

func (m *Memory) known(id int64) (map[platform.ObjectRef]string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g, ok := m.grants[id]
	if !ok {
		return nil, false
	}
	out := make(map[platform.ObjectRef]string, len(g))
	for k, v := range g {
		out[k] = v
	}
	return out, true
}

func (m *Memory) set(id int64, grants map[platform.ObjectRef]string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.grants[id] = grants
}

func (m *Memory) update(id int64, f func(map[platform.ObjectRef]string)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g, ok := m.grants[id]
	if !ok {
		return // unknown: the next read fills it
	}
	f(g)
}

func (m *Memory) forget(id int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.grants, id)
}

// ObserveOptions bound what a pass reads.
type ObserveOptions struct {
	// GrantReads is how many groups' grants are read from the instance this
	// pass (each costs one request per object type); the others are taken
	// from Memory. Groups Memory knows nothing of are read first; the rest
	// in turn, so that every group is verified within a few passes.
	// Negative: read every group.
	GrantReads int
}

// Observe reads what the instance holds of the Space, as much as d needs.
func Observe(ctx context.Context, c *retool.Client, d platform.Desired, mem *Memory, opts ObserveOptions) (platform.Observed, error) {
	var o platform.Observed
	groups, err := c.ListGroups(ctx)
	if err != nil {
		return o, err
	}
	o.Users = map[string]string{}
	for _, g := range groups {
		og := platform.ObservedGroup{ID: g.ID, Name: g.Name, Settings: settingsOf(g)}
		for _, m := range g.Members {
			email := access.EmailKey(m.Email)
			og.Members = append(og.Members, platform.ObservedMember{UserID: m.ID, Email: email, GroupAdmin: m.IsGroupAdmin})
			o.Users[email] = m.ID
		}
		o.Groups = append(o.Groups, og)
	}
	if err := observeUsers(ctx, c, d, &o); err != nil {
		return o, err
	}
	var folders, apps, resources bool
	for _, g := range d.Groups {
		for _, gr := range g.Grants {
			switch gr.Type {
			case platform.ObjectFolder:
				folders = true
			case platform.ObjectApp:
				apps = true
			case platform.ObjectResource:
				resources = true
			}
		}
	}
	if folders {
		fs, err := c.ListFolders(ctx)
		if err != nil {
			return o, err
		}
		for _, f := range fs {
			parent := ""
			if f.ParentFolderID != nil {
				parent = *f.ParentFolderID
			}
			o.Folders = append(o.Folders, platform.Folder{ID: f.ID, Name: f.Name, ParentID: parent, Type: f.FolderType, System: f.IsSystemFolder})
		}
	}
	if apps {
		as, err := c.ListApps(ctx)
		if err != nil {
			return o, err
		}
		o.Apps = make(map[string]string, len(as))
		for _, a := range as {
			o.Apps[a.Name] = a.ID
		}
	}
	if resources {
		rs, err := c.ListResources(ctx)
		if err != nil {
			return o, err
		}
		o.Resources = make(map[string]string, len(rs))
		for _, r := range rs {
			o.Resources[r.DisplayName] = r.ID
		}
	}
	settings, err := c.GetSourceControlSettings(ctx)
	if err != nil {
		return o, err
	}
	o.Locked = settings.VersionControlLocked
	if d.SourceControl != nil {
		cfg, err := c.GetSourceControlConfig(ctx)
		if err != nil {
			return o, err
		}
		if cfg != nil {
			o.SourceControl = &platform.SourceControl{Provider: cfg.Provider, Org: cfg.Org, Repo: cfg.Repo, Branch: cfg.DefaultBranch}
		}
	}
	return o, observeGrants(ctx, c, d, &o, mem, opts)
}

// observeUsers finds the accounts of declared members that no group lists,
// and the open invitations of those without one.
func observeUsers(ctx context.Context, c *retool.Client, d platform.Desired, o *platform.Observed) error {
	var unknown []string
	seen := map[string]bool{}
	for _, g := range d.Groups {
		for _, m := range g.Members {
			if _, ok := o.Users[m.Email]; !ok && !seen[m.Email] {
				seen[m.Email] = true
				unknown = append(unknown, m.Email)
			}
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	if len(unknown) <= findUsersOneByOne {
		for _, email := range unknown {
			u, err := c.FindUserByEmail(ctx, email)
			if err != nil {
				return err
			}
			if u != nil {
				o.Users[email] = u.ID
			}
		}
	} else {
		users, err := c.ListUsers(ctx)
		if err != nil {
			return err
		}
		for _, u := range users {
			o.Users[access.EmailKey(u.Email)] = u.ID
		}
	}
	accountless := slices.ContainsFunc(unknown, func(email string) bool { _, ok := o.Users[email]; return !ok })
	if !accountless {
		return nil
	}
	// Some members have no account: their open invitations say whether
	// they are invited already.
	invites, err := c.ListUserInvites(ctx)
	if err != nil {
		return err
	}
	o.Invited = map[string]bool{}
	for _, inv := range invites {
		if inv.ClaimedAt == nil {
			o.Invited[access.EmailKey(inv.InvitedEmail)] = true
		}
	}
	return nil
}

// observeGrants fills the grants of the groups that declared groups match:
// read from the instance within the budget, else from memory.
func observeGrants(ctx context.Context, c *retool.Client, d platform.Desired, o *platform.Observed, mem *Memory, opts ObserveOptions) error {
	declared := map[string]bool{}
	for _, g := range d.Groups {
		declared[g.PlatformName] = true
	}
	var fresh, known []int
	for i, g := range o.Groups {
		if !declared[g.Name] {
			continue
		}
		if grants, ok := mem.known(g.ID); ok {
			o.Groups[i].Grants = grants
			known = append(known, i)
		} else {
			fresh = append(fresh, i)
		}
	}
	budget := opts.GrantReads
	if budget < 0 {
		budget = len(fresh) + len(known)
	}
	read := func(i int) error {
		g := &o.Groups[i]
		grants := map[platform.ObjectRef]string{}
		for _, t := range grantTypes {
			objs, err := c.ListObjects(ctx, g.ID, string(t))
			if err != nil {
				return err
			}
			for _, obj := range objs {
				grants[platform.ObjectRef{Type: platform.ObjectType(obj.Type), ID: obj.ID}] = obj.AccessLevel
			}
		}
		g.Grants = grants
		mem.set(g.ID, grants)
		return nil
	}
	for _, i := range fresh {
		if budget == 0 {
			break
		}
		if err := read(i); err != nil {
			return err
		}
		budget--
	}
	if budget == 0 || len(known) == 0 {
		return nil
	}
	mem.mu.Lock()
	start := mem.cursor % len(known)
	mem.mu.Unlock()
	n := min(budget, len(known))
	for k := 0; k < n; k++ {
		if err := read(known[(start+k)%len(known)]); err != nil {
			return err
		}
	}
	mem.mu.Lock()
	mem.cursor = start + n
	mem.mu.Unlock()
	return nil
}

func settingsOf(g retool.Group) platform.GroupSettings {
	return platform.GroupSettings{
		UniversalApp: g.UniversalAppAccess, UniversalWorkflow: g.UniversalWorkflowAccess,
		UniversalResource: g.UniversalResourceAccess, UniversalQueryLibrary: g.UniversalQueryLibraryAccess,
		UserList: g.UserListAccess, AuditLog: g.AuditLogAccess, UnpublishedRelease: g.UnpublishedReleaseAccess,
		UsageAnalytics: g.UsageAnalyticsAccess, Theme: g.ThemeAccess, AccountDetails: g.AccountDetailsAccess,
	}
}

// Result is what applying a plan did.
type Result struct {
	// GroupIDs maps PermissionGroups to their group ids in the instance.
	GroupIDs map[string]int64
	// Created holds the group ids this pass created.
	Created map[int64]bool
	// Grants are the plan's grants with every object resolved (folders
	// created this pass included).
	Grants []platform.PlannedGrant
	// Writes counts the calls made.
	Writes int
}

// Credentials are the provider settings written with the source control
// configuration (Retool's names: personal_access_token, app_id, ...).
type Credentials map[string]any

// Apply runs the plan's calls in order. It stops at the first failure and
// returns what was done so far; the next pass plans the rest.
func Apply(ctx context.Context, c *retool.Client, p platform.Plan, o platform.Observed, mem *Memory, creds Credentials) (Result, error) {
	res := Result{GroupIDs: map[string]int64{}, Created: map[int64]bool{}}
	for name, id := range p.GroupIDs {
		res.GroupIDs[name] = id
	}
	folders := map[string]string{} // type/path -> id, created this pass
	tree := platform.NewFolderIndex(o.Folders)
	groupID := func(op platform.Op) int64 {
		if op.GroupID != 0 {
			return op.GroupID
		}
		return res.GroupIDs[op.Group]
	}
	for _, op := range p.Ops {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		err := applyOne(ctx, c, op, &res, folders, tree, groupID, mem, creds)
		if err != nil {
			return res, fmt.Errorf("%s: %w", strings.Join(strings.Fields(op.String()), " "), err)
		}
		res.Writes++
	}
	for _, g := range p.Grants {
		if g.GroupID == 0 {
			g.GroupID = res.GroupIDs[g.Group]
		}
		if g.Object.ID == "" && g.FolderPath != "" {
			g.Object = platform.ObjectRef{Type: platform.ObjectFolder, ID: folders[platform.FolderType(g.FolderKind)+"/"+g.FolderPath]}
		}
		res.Grants = append(res.Grants, g)
	}
	return res, nil
}

//nolint:gocyclo // one case per call of the plan
func applyOne(ctx context.Context, c *retool.Client, op platform.Op, res *Result, folders map[string]string,
	tree *platform.FolderIndex, groupID func(platform.Op) int64, mem *Memory, creds Credentials) error {
	switch op.Kind {
	case platform.OpSetLock:
		s, err := c.GetSourceControlSettings(ctx)
		if err != nil {
			return err
		}
		s.VersionControlLocked = *op.Locked
		_, err = c.UpdateSourceControlSettings(ctx, s)
		return err
	case platform.OpSetSourceControl:
		sc := op.SourceControl
		_, err := c.PutSourceControlConfig(ctx, retool.SourceControlConfig{Provider: sc.Provider, Org: sc.Org, Repo: sc.Repo, DefaultBranch: sc.Branch, Config: creds})
		return err
	case platform.OpCreateFolder:
		typ := platform.FolderType(op.FolderKind)
		parent, name := "", op.FolderPath
		if i := strings.LastIndex(op.FolderPath, "/"); i >= 0 {
			parent, name = op.FolderPath[:i], op.FolderPath[i+1:]
		}
		parentID := tree.Root(typ)
		if parent != "" {
			parentID = folders[typ+"/"+parent]
			if parentID == "" {
				parentID, _ = tree.Lookup(typ, parent)
			}
		}
		f, err := c.CreateFolder(ctx, name, parentID, typ)
		if err != nil {
			return err
		}
		folders[typ+"/"+op.FolderPath] = f.ID
		return nil
	case platform.OpCreateGroup:
		s := op.Settings
		in := retool.GroupCreate{Name: op.GroupName,
			UniversalAppAccess: s.UniversalApp, UniversalWorkflowAccess: s.UniversalWorkflow,
			UniversalResourceAccess: s.UniversalResource, UniversalQueryLibraryAccess: s.UniversalQueryLibrary,
			UserListAccess: s.UserList, AuditLogAccess: s.AuditLog, UnpublishedReleaseAccess: s.UnpublishedRelease,
			UsageAnalyticsAccess: s.UsageAnalytics, ThemeAccess: s.Theme, AccountDetailsAccess: s.AccountDetails}
		for _, m := range op.Members {
			in.Members = append(in.Members, retool.MemberInput{ID: m.UserID, IsGroupAdmin: m.GroupAdmin})
		}
		g, err := c.CreateGroup(ctx, in)
		if err != nil {
			return err
		}
		res.GroupIDs[op.Group] = g.ID
		res.Created[g.ID] = true
		mem.set(g.ID, map[platform.ObjectRef]string{})
		return nil
	case platform.OpUpdateGroup:
		u := op.Update
		_, err := c.UpdateGroup(ctx, op.GroupID, retool.GroupUpdate{Name: u.Name,
			UniversalAppAccess: u.UniversalApp, UniversalWorkflowAccess: u.UniversalWorkflow,
			UniversalResourceAccess: u.UniversalResource, UniversalQueryLibraryAccess: u.UniversalQueryLibrary,
			UserListAccess: u.UserList, AuditLogAccess: u.AuditLog, UnpublishedReleaseAccess: u.UnpublishedRelease,
			UsageAnalyticsAccess: u.UsageAnalytics, ThemeAccess: u.Theme, AccountDetailsAccess: u.AccountDetails})
		return err
	case platform.OpAddMembers:
		in := make([]retool.MemberInput, len(op.Members))
		for i, m := range op.Members {
			in[i] = retool.MemberInput{ID: m.UserID, IsGroupAdmin: m.GroupAdmin}
		}
		_, err := c.AddGroupMembers(ctx, op.GroupID, in)
		return err
	case platform.OpRemoveMember:
		return c.RemoveGroupMember(ctx, op.GroupID, op.Member.UserID)
	case platform.OpInvite:
		_, err := c.CreateUserInvite(ctx, op.Member.Email, []int64{groupID(op)})
		return err
	case platform.OpGrant:
		id := groupID(op)
		obj := op.Object
		if obj.ID == "" {
			obj.ID = folders[platform.FolderType(op.FolderKind)+"/"+op.FolderPath]
			if obj.ID == "" {
				obj.ID, _ = tree.Lookup(platform.FolderType(op.FolderKind), op.FolderPath)
			}
		}
		if err := c.Grant(ctx, id, retool.ObjectRef{Type: string(obj.Type), ID: obj.ID}, op.Level); err != nil {
			return err
		}
		mem.update(id, func(g map[platform.ObjectRef]string) { g[obj] = op.Level })
		return nil
	case platform.OpRevoke:
		if err := c.Revoke(ctx, op.GroupID, retool.ObjectRef{Type: string(op.Object.Type), ID: op.Object.ID}); err != nil && !retool.IsNotFound(err) {
			return err
		}
		mem.update(op.GroupID, func(g map[platform.ObjectRef]string) { delete(g, op.Object) })
		return nil
	case platform.OpDeleteGroup:
		if err := c.DeleteGroup(ctx, op.GroupID); err != nil && !retool.IsNotFound(err) {
			return err
		}
		mem.forget(op.GroupID)
		return nil
	}
	return fmt.Errorf("unknown call %q", op.Kind)
}
