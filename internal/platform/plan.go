package platform

import (
	"fmt"
	"sort"
	"strings"

	"github.com/governor-dev/governor/internal/access"
)

// Mode is what the plan may remove from an instance.
type Mode string

// The modes (the Space's spec.platform.mode).
const (
	// Additive creates and updates what is declared, and removes only what
	// Governor itself created.
	Additive Mode = "Additive"
	// Authoritative also removes the groups, members and grants in the Space
	// that nothing declares (Retool's default groups are never deleted).
	Authoritative Mode = "Authoritative"
)

// Ownership is what Governor remembers of an instance: the ids it recorded
// in the status of groups and rules.
type Ownership struct {
	// GroupIDs maps PermissionGroup names to the group id recorded for them.
	GroupIDs map[string]int64
	// CreatedGroups are the group ids Governor created.
	CreatedGroups map[int64]bool
	// CreatedGrants are the grants Governor made, as GrantID(group, object).
	CreatedGrants map[string]bool
}

// GrantID names a group's grant on an object.
func GrantID(group int64, obj ObjectRef) string { return fmt.Sprintf("%d/%s", group, obj) }

// Options shape a plan.
type Options struct {
	Mode Mode
	// InviteMissingMembers invites members without an account instead of
	// listing them as pending.
	InviteMissingMembers bool
	Ownership            Ownership
}

// OpKind is the kind of an API call.
type OpKind string

// The calls a plan is made of, in the order a plan runs them.
const (
	OpSetLock          OpKind = "SetLock"
	OpSetSourceControl OpKind = "SetSourceControl"
	OpCreateFolder     OpKind = "CreateFolder"
	OpCreateGroup      OpKind = "CreateGroup"
	OpUpdateGroup      OpKind = "UpdateGroup"
	OpAddMembers       OpKind = "AddMembers"
	OpRemoveMember     OpKind = "RemoveMember"
	OpInvite           OpKind = "Invite"
	OpGrant            OpKind = "Grant"
	OpRevoke           OpKind = "Revoke"
	OpDeleteGroup      OpKind = "DeleteGroup"
)

// Op is one API call of a plan. Group ids are 0 for a group the plan itself
// creates (the applier uses the id the create returned, by Group); a Grant
// on a folder the plan creates carries its FolderPath instead of an id.
type Op struct {
	Kind OpKind
	// Group is the PermissionGroup ("" for Space-level calls and undeclared groups).
	Group string
	// GroupName is the group's name in the instance; GroupID its id.
	GroupName string
	GroupID   int64
	// Settings of a created group; Update holds only what changes.
	Settings *GroupSettings
	Update   *SettingsUpdate
	Members  []MemberRef
	// Member is the member removed or invited.
	Member MemberRef
	// Object and Level of a grant or revoke; FolderPath/FolderKind for a
	// folder created by this plan (then Object.ID is "").
	Object     ObjectRef
	FolderPath string
	FolderKind access.Kind
	Level      string
	// Rule gives the grant.
	Rule string
	// Folder is the folder to create (path and kind in FolderPath/FolderKind).
	Locked        *bool
	SourceControl *SourceControl
}

// MemberRef is a member by user id and email.
type MemberRef struct {
	UserID, Email string
	GroupAdmin    bool
}

// SettingsUpdate holds the group fields that change (nil: unchanged).
type SettingsUpdate struct {
	Name                                                                          *string
	UniversalApp, UniversalWorkflow, UniversalResource, UniversalQueryLibrary     *string
	UserList, AuditLog, UnpublishedRelease, UsageAnalytics, Theme, AccountDetails *bool
}

// Plan is the ordered list of calls that makes an instance hold Desired,
// and what cannot be placed yet.
type Plan struct {
	Space, Environment, Revision string
	Ops                          []Op
	// Pending names what could not be placed: members without an account,
	// apps and resources the instance does not have.
	Pending []string
	// Drift names what the instance holds in the Space that nothing declares.
	Drift []string
	// NotExpressible names what the platform's API cannot hold.
	NotExpressible []string
	// Unverified counts groups whose grants were not read this time.
	Unverified int
	// GroupIDs maps the declared groups the instance already has to their ids.
	GroupIDs map[string]int64
	// Grants maps each rule to the objects its grants are on, by group id
	// (0 for a group this plan creates) and object; folders this plan creates
	// appear with an empty id (see Op.FolderPath).
	Grants []PlannedGrant
}

// PlannedGrant is a declared grant resolved to an object of the instance.
type PlannedGrant struct {
	Rule, Group string
	GroupID     int64
	Object      ObjectRef
	FolderPath  string
	FolderKind  access.Kind
	// Made is set when the plan writes the grant (it did not already hold).
	Made bool
}

// Writes counts the plan's API calls.
func (p Plan) Writes() int { return len(p.Ops) }

// NewPlan computes the calls that turn o into d.
func NewPlan(d Desired, o Observed, opts Options) Plan {
	p := Plan{Space: d.Space, Environment: d.Environment, Revision: d.Revision, NotExpressible: d.NotExpressible, GroupIDs: map[string]int64{}}
	pl := planner{d: d, o: o, opts: opts, p: &p, folders: NewFolderIndex(o.Folders)}
	pl.space()
	pl.groups()
	pl.order()
	return p
}

type planner struct {
	d       Desired
	o       Observed
	opts    Options
	p       *Plan
	folders *FolderIndex
}

func (pl *planner) add(op Op) { pl.p.Ops = append(pl.p.Ops, op) }

func (pl *planner) space() {
	if pl.o.Locked != pl.d.Locked {
		locked := pl.d.Locked
		pl.add(Op{Kind: OpSetLock, Locked: &locked})
	}
	if sc := pl.d.SourceControl; sc != nil && (pl.o.SourceControl == nil || *pl.o.SourceControl != *sc) {
		pl.add(Op{Kind: OpSetSourceControl, SourceControl: sc})
	}
}

func (pl *planner) groups() {
	byID := map[int64]*ObservedGroup{}
	byName := map[string]*ObservedGroup{}
	for i := range pl.o.Groups {
		g := &pl.o.Groups[i]
		byID[g.ID] = g
		if _, dup := byName[g.Name]; !dup {
			byName[g.Name] = g
		}
	}
	matched := map[int64]bool{}
	for i := range pl.d.Groups {
		dg := &pl.d.Groups[i]
		var og *ObservedGroup
		if id, ok := pl.opts.Ownership.GroupIDs[dg.Name]; ok && byID[id] != nil && dg.Builtin == access.Custom {
			og = byID[id]
		} else if g := byName[dg.PlatformName]; g != nil && !matched[g.ID] {
			og = g
		}
		if og == nil {
			pl.createGroup(dg)
			continue
		}
		matched[og.ID] = true
		pl.p.GroupIDs[dg.Name] = og.ID
		pl.updateGroup(dg, og)
	}
	for i := range pl.o.Groups {
		og := &pl.o.Groups[i]
		if matched[og.ID] || IsBuiltinGroupName(og.Name) {
			continue
		}
		if pl.opts.Mode == Authoritative || pl.opts.Ownership.CreatedGroups[og.ID] {
			pl.add(Op{Kind: OpDeleteGroup, GroupName: og.Name, GroupID: og.ID})
			continue
		}
		pl.p.Drift = append(pl.p.Drift, fmt.Sprintf("group %q", og.Name))
	}
}

func (pl *planner) createGroup(dg *DesiredGroup) {
	if dg.Builtin != access.Custom && dg.Builtin != access.AllUsers || dg.Settings == nil {
		pl.p.Pending = append(pl.p.Pending, fmt.Sprintf("group %s: the instance has no default group %q", dg.Name, dg.PlatformName))
		return
	}
	members, invites := pl.resolveMembers(dg)
	pl.add(Op{Kind: OpCreateGroup, Group: dg.Name, GroupName: dg.PlatformName, Settings: dg.Settings, Members: members})
	for _, m := range invites {
		pl.add(Op{Kind: OpInvite, Group: dg.Name, GroupName: dg.PlatformName, Member: m})
	}
	for _, g := range dg.Grants {
		pl.grant(dg, 0, g, nil, true)
	}
}

func (pl *planner) updateGroup(dg *DesiredGroup, og *ObservedGroup) {
	managed := pl.opts.Mode == Authoritative || pl.opts.Ownership.CreatedGroups[og.ID]
	if dg.Settings != nil {
		if u := settingsUpdate(dg, og); u != nil {
			pl.add(Op{Kind: OpUpdateGroup, Group: dg.Name, GroupName: og.Name, GroupID: og.ID, Update: u})
		}
	}
	if dg.Builtin != access.AllUsers {
		pl.members(dg, og, managed)
	}
	if og.Grants == nil {
		// Unread grants: what is declared is still resolved, so that rules
		// can record it, but nothing is written or revoked.
		pl.p.Unverified++
		for _, g := range dg.Grants {
			pl.grant(dg, og.ID, g, nil, false)
		}
		return
	}
	seen := map[ObjectRef]bool{}
	for _, g := range dg.Grants {
		if ref, ok := pl.grant(dg, og.ID, g, og.Grants, true); ok {
			seen[ref] = true
		}
	}
	refs := make([]ObjectRef, 0, len(og.Grants))
	for ref := range og.Grants {
		if !seen[ref] {
			refs = append(refs, ref)
		}
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].String() < refs[j].String() })
	for _, ref := range refs {
		if managed || pl.opts.Ownership.CreatedGrants[GrantID(og.ID, ref)] {
			pl.add(Op{Kind: OpRevoke, Group: dg.Name, GroupName: og.Name, GroupID: og.ID, Object: ref})
			continue
		}
		pl.p.Drift = append(pl.p.Drift, fmt.Sprintf("group %q: grant on %s", og.Name, ref))
	}
}

// grant resolves a declared grant and, when write is set, plans it unless
// held already has it at its level. It reports the object the grant is on
// when the object exists.
func (pl *planner) grant(dg *DesiredGroup, groupID int64, g Grant, held map[ObjectRef]string, write bool) (ObjectRef, bool) {
	pg := PlannedGrant{Rule: g.Rule, Group: dg.Name, GroupID: groupID}
	var ref ObjectRef
	switch g.Type {
	case ObjectFolder:
		id, missing := pl.folders.resolve(FolderType(g.Kind), g.Name)
		if id == "" {
			if !write {
				return ObjectRef{}, false
			}
			for _, m := range missing {
				pl.add(Op{Kind: OpCreateFolder, FolderPath: m, FolderKind: g.Kind})
			}
			pg.FolderPath, pg.FolderKind, pg.Made = g.Name, g.Kind, true
			pl.p.Grants = append(pl.p.Grants, pg)
			pl.add(Op{Kind: OpGrant, Group: dg.Name, GroupName: dg.PlatformName, GroupID: groupID,
				Object: ObjectRef{Type: ObjectFolder}, FolderPath: g.Name, FolderKind: g.Kind, Level: g.Level, Rule: g.Rule})
			return ObjectRef{}, false
		}
		ref = ObjectRef{Type: ObjectFolder, ID: id}
	default:
		names := pl.o.Apps
		if g.Type == ObjectResource {
			names = pl.o.Resources
		}
		id, ok := names[g.Name]
		if !ok {
			pl.p.Pending = append(pl.p.Pending, fmt.Sprintf("AccessRule %s: %s %q not found in the instance", g.Rule, g.Type, g.Name))
			return ObjectRef{}, false
		}
		ref = ObjectRef{Type: g.Type, ID: id}
	}
	pg.Object = ref
	if write && held[ref] != g.Level {
		pg.Made = true
		pl.add(Op{Kind: OpGrant, Group: dg.Name, GroupName: dg.PlatformName, GroupID: groupID, Object: ref, Level: g.Level, Rule: g.Rule})
	}
	pl.p.Grants = append(pl.p.Grants, pg)
	return ref, true
}

// resolveMembers maps dg's members to users, planning invitations or
// reporting pending members for those without an account.
func (pl *planner) resolveMembers(dg *DesiredGroup) (members, invites []MemberRef) {
	for _, m := range dg.Members {
		id, ok := pl.o.Users[m.Email]
		switch {
		case ok:
			members = append(members, MemberRef{UserID: id, Email: m.Email, GroupAdmin: m.GroupAdmin})
		case pl.o.Invited[m.Email]:
			pl.p.Pending = append(pl.p.Pending, fmt.Sprintf("group %s: member %s is invited and has not signed in yet", dg.Name, m.Email))
		case pl.opts.InviteMissingMembers:
			invites = append(invites, MemberRef{Email: m.Email, GroupAdmin: m.GroupAdmin})
		default:
			pl.p.Pending = append(pl.p.Pending, fmt.Sprintf("group %s: member %s has no account in the instance yet", dg.Name, m.Email))
		}
	}
	return members, invites
}

func (pl *planner) members(dg *DesiredGroup, og *ObservedGroup, managed bool) {
	have := make(map[string]ObservedMember, len(og.Members))
	for _, m := range og.Members {
		have[access.EmailKey(m.Email)] = m
	}
	want, invites := pl.resolveMembers(dg)
	var add []MemberRef
	declared := make(map[string]bool, len(dg.Members))
	for _, m := range dg.Members {
		declared[m.Email] = true
	}
	for _, m := range want {
		if h, ok := have[m.Email]; !ok || h.GroupAdmin != m.GroupAdmin {
			add = append(add, m)
		}
	}
	if len(add) > 0 {
		pl.add(Op{Kind: OpAddMembers, Group: dg.Name, GroupName: og.Name, GroupID: og.ID, Members: add})
	}
	for _, m := range invites {
		pl.add(Op{Kind: OpInvite, Group: dg.Name, GroupName: og.Name, GroupID: og.ID, Member: m})
	}
	for _, m := range og.Members {
		if declared[access.EmailKey(m.Email)] {
			continue
		}
		if managed {
			pl.add(Op{Kind: OpRemoveMember, Group: dg.Name, GroupName: og.Name, GroupID: og.ID, Member: MemberRef{UserID: m.UserID, Email: m.Email}})
			continue
		}
		pl.p.Drift = append(pl.p.Drift, fmt.Sprintf("group %q: member %s", og.Name, m.Email))
	}
}

func settingsUpdate(dg *DesiredGroup, og *ObservedGroup) *SettingsUpdate {
	u := &SettingsUpdate{}
	changed := false
	str := func(want, have string) *string {
		if want == have {
			return nil
		}
		changed = true
		return &want
	}
	flag := func(want, have bool) *bool {
		if want == have {
			return nil
		}
		changed = true
		return &want
	}
	w, h := dg.Settings, og.Settings
	if dg.Builtin == access.Custom {
		u.Name = str(dg.PlatformName, og.Name)
	}
	u.UniversalApp = str(w.UniversalApp, h.UniversalApp)
	u.UniversalWorkflow = str(w.UniversalWorkflow, h.UniversalWorkflow)
	u.UniversalResource = str(w.UniversalResource, h.UniversalResource)
	u.UniversalQueryLibrary = str(w.UniversalQueryLibrary, h.UniversalQueryLibrary)
	u.UserList = flag(w.UserList, h.UserList)
	u.AuditLog = flag(w.AuditLog, h.AuditLog)
	u.UnpublishedRelease = flag(w.UnpublishedRelease, h.UnpublishedRelease)
	u.UsageAnalytics = flag(w.UsageAnalytics, h.UsageAnalytics)
	u.Theme = flag(w.Theme, h.Theme)
	u.AccountDetails = flag(w.AccountDetails, h.AccountDetails)
	if !changed {
		return nil
	}
	return u
}

// opOrder runs Space settings first, then folders and groups (creates before
// the members, grants and revokes that may name them), deletes last.
var opOrder = map[OpKind]int{
	OpSetLock: 0, OpSetSourceControl: 1, OpCreateFolder: 2, OpCreateGroup: 3, OpUpdateGroup: 4,
	OpAddMembers: 5, OpInvite: 6, OpRemoveMember: 7, OpGrant: 8, OpRevoke: 9, OpDeleteGroup: 10,
}

func (pl *planner) order() {
	// Folders are created once each, parents first.
	seen := map[string]bool{}
	ops := pl.p.Ops[:0]
	for _, op := range pl.p.Ops {
		if op.Kind == OpCreateFolder {
			key := FolderType(op.FolderKind) + "/" + op.FolderPath
			if seen[key] {
				continue
			}
			seen[key] = true
		}
		ops = append(ops, op)
	}
	sort.SliceStable(ops, func(i, j int) bool {
		a, b := ops[i], ops[j]
		if opOrder[a.Kind] != opOrder[b.Kind] {
			return opOrder[a.Kind] < opOrder[b.Kind]
		}
		if a.Kind == OpCreateFolder {
			return strings.Count(a.FolderPath, "/") < strings.Count(b.FolderPath, "/")
		}
		return false
	})
	pl.p.Ops = ops
	sort.Strings(pl.p.Pending)
	sort.Strings(pl.p.Drift)
}

// FolderIndex finds folders by path under each type's system root folder.
type FolderIndex struct {
	byPath map[string]string // type/path -> id
	roots  map[string]string // type -> root folder id
}

// NewFolderIndex indexes an instance's folders.
func NewFolderIndex(folders []Folder) *FolderIndex {
	byID := make(map[string]Folder, len(folders))
	for _, f := range folders {
		byID[f.ID] = f
	}
	t := &FolderIndex{byPath: make(map[string]string, len(folders)), roots: map[string]string{}}
	for _, f := range folders {
		if f.System {
			if f.ParentID == "" {
				t.roots[f.Type] = f.ID
			}
			continue
		}
		if path, ok := folderPath(f, byID); ok {
			if _, dup := t.byPath[f.Type+"/"+path]; !dup {
				t.byPath[f.Type+"/"+path] = f.ID
			}
		}
	}
	return t
}

// folderPath is f's path from its type's root ("a/b"), false when its
// parents are not all known.
func folderPath(f Folder, byID map[string]Folder) (string, bool) {
	parts := []string{f.Name}
	for cur, depth := f, 0; ; depth++ {
		parent, ok := byID[cur.ParentID]
		if !ok || depth > 64 {
			return "", false
		}
		if parent.System {
			break
		}
		parts = append(parts, parent.Name)
		cur = parent
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return strings.Join(parts, "/"), true
}

// Root is the id of the system root folder of folderType ("" when unknown).
func (t *FolderIndex) Root(folderType string) string { return t.roots[folderType] }

// Lookup finds a folder by type and path.
func (t *FolderIndex) Lookup(folderType, path string) (string, bool) {
	id, ok := t.byPath[folderType+"/"+path]
	return id, ok
}

// resolve returns the folder's id, or "" and the paths to create (parents first).
func (t *FolderIndex) resolve(folderType, path string) (string, []string) {
	if id, ok := t.byPath[folderType+"/"+path]; ok {
		return id, nil
	}
	parts := strings.Split(path, "/")
	var missing []string
	for i := range parts {
		p := strings.Join(parts[:i+1], "/")
		if _, ok := t.byPath[folderType+"/"+p]; !ok {
			missing = append(missing, p)
		}
	}
	return "", missing
}
