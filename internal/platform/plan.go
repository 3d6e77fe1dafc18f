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
	// Observe plans as Additive does (it is the plan switching to Additive
	// runs) and applies nothing: syncer.Pass returns before its first call.
	Observe Mode = "Observe"
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
	// SSODigest is the digest of the secrets Governor last sent with the
	// instance's SSO configuration ("" when it wrote none).
	SSODigest string
}

// GrantID names a group's grant on an object.
func GrantID(group int64, obj ObjectRef) string { return fmt.Sprintf("%d/%s", group, obj) }

// Options shape a plan.
type Options struct {
	Mode Mode
	// InviteMissingMembers invites members without an account instead of
	// listing them as pending.
	InviteMissingMembers bool
	// Ownership is what Governor created; in a Space Governor created in the
	// instance, Retool's default groups count as created (syncer.Recorded).
	Ownership Ownership
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
	// OpRevokeUserGrant revokes a grant whose subject is a user (Member).
	OpRevokeUserGrant OpKind = "RevokeUserGrant"
	OpDeleteGroup     OpKind = "DeleteGroup"
	// OpSetSSO writes the SSO configuration (POST /sso/config), OpDeleteSSO
	// removes it.
	OpSetSSO    OpKind = "SetSSO"
	OpDeleteSSO OpKind = "DeleteSSO"
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
	// Member is the member removed or invited, or the user whose grant is
	// revoked.
	Member MemberRef
	// Object and Level of a grant or revoke; FolderPath/FolderKind for a
	// folder created by this plan (then Object.ID is "").
	Object     ObjectRef
	FolderPath string
	FolderKind access.Kind
	Level      string
	// Rule gives the grant; InheritedFrom is the path of the folder whose
	// rule a sub-folder's grant carries ("" for a rule's own target).
	Rule          string
	InheritedFrom string
	// Folder is the folder to create (path and kind in FolderPath/FolderKind).
	Locked        *bool
	SourceControl *SourceControl
	// SSO is the SSO configuration written (without its secrets) or deleted.
	SSO *SSOWrite
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
	// Mode is the Space's mode the plan was made for.
	Mode Mode
	Ops  []Op
	// Pending names what could not be placed: members without an account,
	// apps and resources the instance does not have.
	Pending []string
	// Drift names what the instance holds in the Space that nothing declares.
	Drift []string
	// NotExpressible names what the platform's API cannot hold: the
	// projection's notes and each of NotExpressibleRules, as text.
	NotExpressible []string
	// NotExpressibleRules are the rule targets this instance cannot hold at
	// the model's level, with the level it grants instead.
	NotExpressibleRules []NotExpressible
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
	// Inherited is set on a sub-folder's grant that carries the level of a
	// folder rule on one of its parents (Rule), because Retool's folder
	// grants reach a folder's direct contents only.
	Inherited bool
}

// NotExpressible is a rule target whose level in the model an instance
// cannot hold: Retool has no deny, so a None beneath a broader grant stays
// the broader level, and its API grants no single workflow.
type NotExpressible struct {
	// Rule is the AccessRule, Group its PermissionGroup.
	Rule, Group string
	// Target is the rule target as people read it (workflow "payroll",
	// app folder "finance/old").
	Target      string
	Environment string
	// Level is the group's level in the model, InstanceLevel the level the
	// instance gives the group instead, and Because where that comes from.
	Level, InstanceLevel, Because string
}

func (n NotExpressible) String() string {
	return fmt.Sprintf("AccessRule %s: %s: %s: in %s, group %s has %s in the model and %s in the instance",
		n.Rule, n.Target, n.Because, n.Environment, n.Group, n.Level, n.InstanceLevel)
}

// Writes counts the plan's API calls.
func (p Plan) Writes() int { return len(p.Ops) }

// NewPlan computes the calls that turn o into d.
func NewPlan(d Desired, o Observed, opts Options) Plan {
	p := Plan{Space: d.Space, Environment: d.Environment, Revision: d.Revision, Mode: opts.Mode,
		NotExpressible: append([]string(nil), d.NotExpressible...), GroupIDs: map[string]int64{}}
	pl := planner{d: d, o: o, opts: opts, p: &p, folders: NewFolderIndex(o.Folders)}
	pl.space()
	pl.createFolders()
	pl.groups()
	pl.sso()
	pl.userGrants()
	pl.order()
	return p
}

type planner struct {
	d       Desired
	o       Observed
	opts    Options
	p       *Plan
	folders *FolderIndex
	// paths are each folder type's paths once the plan ran: the instance's
	// and those the plan creates, parents first.
	paths map[string][]string
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

// createFolders plans the folders that folder rules name and the instance
// lacks (parents first), and lists every folder path the instance will have.
func (pl *planner) createFolders() {
	pl.paths = map[string][]string{}
	created := map[string]bool{}
	for _, g := range pl.d.Groups {
		for _, gr := range g.Grants {
			if gr.Type != ObjectFolder || gr.Level == levelNone {
				continue
			}
			typ := FolderType(gr.Kind)
			_, missing := pl.folders.resolve(typ, gr.Name)
			for _, m := range missing {
				if !created[typ+"/"+m] {
					created[typ+"/"+m] = true
					pl.add(Op{Kind: OpCreateFolder, FolderPath: m, FolderKind: gr.Kind})
					pl.paths[typ] = append(pl.paths[typ], m)
				}
			}
		}
	}
	for _, k := range []access.Kind{access.App, access.Workflow, access.Resource} {
		typ := FolderType(k)
		pl.paths[typ] = append(pl.paths[typ], pl.folders.Paths(typ)...)
		sortPaths(pl.paths[typ])
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
	gg := groupGrants{pl: pl, dg: dg, universal: *dg.Settings, write: true, lowerable: func(ObjectRef) bool { return true }}
	gg.plan()
}

// lowersSettings reports whether the plan may lower og's levels and flags:
// a group Governor created, or any group in Authoritative mode (where the
// Space holds exactly the model that checks answer from).
func (pl *planner) lowersSettings(og *ObservedGroup) bool {
	return pl.opts.Ownership.CreatedGroups[og.ID] || pl.opts.Mode == Authoritative
}

func (pl *planner) updateGroup(dg *DesiredGroup, og *ObservedGroup) {
	managed := pl.opts.Mode == Authoritative || pl.opts.Ownership.CreatedGroups[og.ID]
	universal := og.Settings
	if dg.Settings != nil {
		u, after, raised := settingsUpdate(dg, og, pl.lowersSettings(og))
		if u != nil {
			pl.add(Op{Kind: OpUpdateGroup, Group: dg.Name, GroupName: og.Name, GroupID: og.ID, Update: u})
		}
		for _, r := range raised {
			pl.p.Drift = append(pl.p.Drift, fmt.Sprintf("group %q: %s", og.Name, r))
		}
		universal = after
	}
	if dg.Builtin != access.AllUsers {
		pl.members(dg, og, managed)
	}
	lowerable := func(ref ObjectRef) bool {
		return managed || pl.opts.Ownership.CreatedGrants[GrantID(og.ID, ref)]
	}
	gg := groupGrants{pl: pl, dg: dg, groupID: og.ID, groupName: og.Name, universal: universal, held: og.Grants, write: og.Grants != nil, lowerable: lowerable}
	if og.Grants == nil {
		// Unread grants: what is declared is still resolved, so that rules
		// can record it, but nothing is written or revoked.
		pl.p.Unverified++
		gg.plan()
		return
	}
	seen := gg.plan()
	refs := make([]ObjectRef, 0, len(og.Grants))
	for ref := range og.Grants {
		if !seen[ref] {
			refs = append(refs, ref)
		}
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].String() < refs[j].String() })
	for _, ref := range refs {
		if lowerable(ref) {
			pl.add(Op{Kind: OpRevoke, Group: dg.Name, GroupName: og.Name, GroupID: og.ID, Object: ref})
			continue
		}
		pl.p.Drift = append(pl.p.Drift, fmt.Sprintf("group %q: grant on %s", og.Name, ref))
	}
}

// groupGrants plans one group's grants: its rule targets, and the
// sub-folders of the folders it grants.
type groupGrants struct {
	pl        *planner
	dg        *DesiredGroup
	groupID   int64
	groupName string
	// universal are the group's levels in the instance once the plan ran.
	universal GroupSettings
	// held are the group's grants in the instance; write is false when
	// they were not read.
	held  map[ObjectRef]string
	write bool
	// lowerable reports whether a held grant may be lowered or revoked.
	lowerable func(ObjectRef) bool
	// folderRules are the group's folder rules by type and path.
	folderRules map[string]map[string]Grant
	seen        map[ObjectRef]bool
}

// plan plans the group's grants and returns the objects they are on.
func (gg *groupGrants) plan() map[ObjectRef]bool {
	gg.seen = map[ObjectRef]bool{}
	gg.folderRules = map[string]map[string]Grant{}
	for _, g := range gg.dg.Grants {
		if g.Type == ObjectFolder {
			typ := FolderType(g.Kind)
			if gg.folderRules[typ] == nil {
				gg.folderRules[typ] = map[string]Grant{}
			}
			if have, ok := gg.folderRules[typ][g.Name]; !ok || levelRank(g.Level) > levelRank(have.Level) {
				gg.folderRules[typ][g.Name] = g
			}
		}
	}
	for _, g := range gg.dg.Grants {
		if g.Type == ObjectWorkflow {
			gg.singleWorkflow(g)
			continue
		}
		gg.broader(g)
		if g.Level != levelNone {
			gg.grant(g, "")
		}
	}
	// Sub-folders without a rule of their own get the level of the nearest
	// folder rule above them: a grant on a folder reaches its direct
	// contents only. Where the group's universal level is as high, the
	// instance gives that level without a grant.
	for typ, rules := range gg.folderRules {
		for _, path := range gg.pl.paths[typ] {
			if _, own := rules[path]; own {
				continue
			}
			if above, ok := gg.nearestFolderRule(typ, path); ok && levelRank(above.Level) > levelRank(gg.universalOf(above.Kind)) {
				sub := above
				sub.Name = path
				gg.grant(sub, above.Name)
			}
		}
	}
	return gg.seen
}

// nearestFolderRule is the group's rule on the nearest proper parent of path.
func (gg *groupGrants) nearestFolderRule(typ, path string) (Grant, bool) {
	for _, p := range parentPaths(path) {
		if g, ok := gg.folderRules[typ][p]; ok {
			return g, true
		}
	}
	return Grant{}, false
}

func (gg *groupGrants) universalOf(k access.Kind) string {
	switch k {
	case access.App:
		return gg.universal.UniversalApp
	case access.Workflow:
		return gg.universal.UniversalWorkflow
	}
	return gg.universal.UniversalResource
}

func (gg *groupGrants) notExpressible(g Grant, instance, because string) {
	n := NotExpressible{Rule: g.Rule, Group: gg.dg.Name, Target: g.String(), Environment: gg.pl.d.Environment,
		Level: g.Level, InstanceLevel: instance, Because: because}
	gg.pl.p.NotExpressibleRules = append(gg.pl.p.NotExpressibleRules, n)
	gg.pl.p.NotExpressible = append(gg.pl.p.NotExpressible, n.String())
}

// singleWorkflow reports a rule on one workflow unless the group's
// universal workflow level already is the rule's.
func (gg *groupGrants) singleWorkflow(g Grant) {
	if gg.dg.Builtin == access.Admin {
		return // Own on everything, in the model and the instance
	}
	if u := gg.universalOf(access.Workflow); u != g.Level {
		gg.notExpressible(g, u, "the platform's API grants no single workflow (grant its folder or a universal level instead), so the group has its universal workflow level there")
	}
}

// broader reports a rule target whose level is below what a broader grant
// of the same group gives it: the platform keeps the highest of a group's
// levels on an object (its universal level, the grant on the folder that
// holds the object, the object's own grant) and has no deny, so a lower
// level (None included, held by granting nothing) cannot be held.
func (gg *groupGrants) broader(g Grant) {
	if gg.dg.Builtin == access.Admin {
		return // no rule lowers Admin in the model either
	}
	level, because := gg.universalOf(g.Kind), "the group's universal level reaches it"
	if g.Type == ObjectFolder {
		// A folder's own grant decides it, unless the instance passes a
		// parent folder's grant down to sub-folders.
		if above, ok := gg.nearestFolderRule(FolderType(g.Kind), g.Name); ok && levelRank(above.Level) > levelRank(level) {
			level, because = above.Level, fmt.Sprintf("on an instance that passes folder grants down to sub-folders, rule %s's grant on folder %q reaches it", above.Rule, above.Name)
		}
	} else if folder, rule, path := gg.objectFolderLevel(g); levelRank(folder) > levelRank(level) {
		level, because = folder, fmt.Sprintf("rule %s's grant on folder %q, which holds it, reaches it", rule, path)
	}
	if levelRank(level) <= levelRank(g.Level) {
		return
	}
	if g.Level == levelNone {
		because = "the platform has no deny, and " + because
	} else {
		because = "the platform keeps the highest of a group's levels, and " + because
	}
	gg.notExpressible(g, level, because)
}

// objectFolderLevel is the level the group's folder grants give an app or
// resource in its folder of the instance ("" when none does).
func (gg *groupGrants) objectFolderLevel(g Grant) (level, rule, path string) {
	folders := gg.pl.o.AppFolders
	if g.Type == ObjectResource {
		folders = gg.pl.o.ResourceFolders
	}
	id := folders[g.Name]
	if id == "" {
		return "", "", ""
	}
	p, ok := gg.pl.folders.Path(id)
	if !ok {
		return "", "", ""
	}
	typ := FolderType(g.Kind)
	if r, own := gg.folderRules[typ][p]; own {
		return r.Level, r.Rule, p
	}
	if r, ok := gg.nearestFolderRule(typ, p); ok {
		return r.Level, r.Rule, p
	}
	return "", "", ""
}

// grant resolves a grant and, when the group's grants were read, plans it
// unless it holds already. A held level above the model's is lowered only
// when lowerable says so; otherwise it is drift. from is the folder whose
// rule a sub-folder's grant carries.
func (gg *groupGrants) grant(g Grant, from string) {
	pl := gg.pl
	pg := PlannedGrant{Rule: g.Rule, Group: gg.dg.Name, GroupID: gg.groupID, Inherited: from != ""}
	var ref ObjectRef
	switch g.Type {
	case ObjectFolder:
		id, _ := pl.folders.resolve(FolderType(g.Kind), g.Name)
		if id == "" {
			if !gg.write {
				return
			}
			pg.FolderPath, pg.FolderKind, pg.Made = g.Name, g.Kind, true
			pl.p.Grants = append(pl.p.Grants, pg)
			pl.add(Op{Kind: OpGrant, Group: gg.dg.Name, GroupName: gg.dg.PlatformName, GroupID: gg.groupID,
				Object: ObjectRef{Type: ObjectFolder}, FolderPath: g.Name, FolderKind: g.Kind, Level: g.Level, Rule: g.Rule, InheritedFrom: from})
			return
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
			return
		}
		ref = ObjectRef{Type: g.Type, ID: id}
	}
	gg.seen[ref] = true
	pg.Object = ref
	if held, ok := gg.held[ref]; gg.write && held != g.Level {
		if ok && levelRank(held) > levelRank(g.Level) && !gg.lowerable(ref) {
			pl.p.Drift = append(pl.p.Drift, fmt.Sprintf("group %q: %s: the instance grants %s, more than the model (%s); only Authoritative mode lowers it",
				gg.groupName, g, held, g.Level))
		} else {
			pg.Made = true
			pl.add(Op{Kind: OpGrant, Group: gg.dg.Name, GroupName: gg.dg.PlatformName, GroupID: gg.groupID, Object: ref, Level: g.Level, Rule: g.Rule, InheritedFrom: from})
		}
	}
	pl.p.Grants = append(pl.p.Grants, pg)
}

// resolveMembers maps dg's members to users, planning invitations or
// reporting pending members for those without an account or whose account
// is deactivated.
func (pl *planner) resolveMembers(dg *DesiredGroup) (members, invites []MemberRef) {
	for _, m := range dg.Members {
		id, ok := pl.o.Users[m.Email]
		switch {
		case ok && pl.o.Inactive[m.Email]:
			pl.p.Pending = append(pl.p.Pending, fmt.Sprintf("group %s: member %s is deactivated in the instance", dg.Name, m.Email))
		case ok:
			members = append(members, MemberRef{UserID: id, Email: m.Email, GroupAdmin: m.GroupAdmin})
		case pl.o.Invited[m.Email]:
			pl.p.Pending = append(pl.p.Pending, fmt.Sprintf("group %s: member %s is invited and has not signed in yet", dg.Name, m.Email))
		case pl.opts.InviteMissingMembers:
			invites = append(invites, MemberRef{Email: m.Email, GroupAdmin: m.GroupAdmin})
		case pl.o.ExpiredInvites[m.Email]:
			pl.p.Pending = append(pl.p.Pending, fmt.Sprintf(
				"group %s: member %s has no account, and the invitation expired unclaimed (invitations last 7 days; spec.platform.inviteMissingMembers sends a new one)", dg.Name, m.Email))
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

// userGrants handles the grants whose subject is a user: Governor grants to
// groups only, so each is undeclared.
func (pl *planner) userGrants() {
	grants := append([]UserGrant(nil), pl.o.UserGrants...)
	sort.Slice(grants, func(i, j int) bool {
		a, b := grants[i], grants[j]
		if a.Email != b.Email {
			return a.Email < b.Email
		}
		return a.Object.String() < b.Object.String()
	})
	for _, g := range grants {
		if pl.opts.Mode == Authoritative {
			pl.add(Op{Kind: OpRevokeUserGrant, Member: MemberRef{UserID: g.UserID, Email: g.Email}, Object: g.Object})
			continue
		}
		pl.p.Drift = append(pl.p.Drift, fmt.Sprintf("user %s: %s on %s, granted to the user, not to a group; declared nowhere (only Authoritative mode revokes it)",
			g.Email, g.Level, pl.objectName(g.Object)))
	}
}

// objectName names an object of the instance as people read it (app
// folder "finance/reports", app "payouts"), else by its id.
func (pl *planner) objectName(ref ObjectRef) string {
	switch ref.Type {
	case ObjectFolder:
		if path, ok := pl.folders.Path(ref.ID); ok {
			typ, _, _ := strings.Cut(ref.ID, "_")
			return fmt.Sprintf("%s folder %q (%s)", typ, path, ref)
		}
	case ObjectApp:
		for name, id := range pl.o.Apps {
			if id == ref.ID {
				return fmt.Sprintf("app %q (%s)", name, ref)
			}
		}
	}
	return ref.String()
}

// settingsUpdate is what changes of og's settings (nil: nothing), the
// settings og has once it is applied, and what the instance grants above
// the model and keeps because lower is false.
func settingsUpdate(dg *DesiredGroup, og *ObservedGroup, lower bool) (*SettingsUpdate, GroupSettings, []string) {
	u := &SettingsUpdate{}
	changed := false
	after := og.Settings
	var kept []string
	level := func(name, want string, have *string) *string {
		switch {
		case want == *have:
			return nil
		case levelRank(want) < levelRank(*have) && !lower:
			kept = append(kept, fmt.Sprintf("%s: the instance grants %s, more than the model (%s); only Authoritative mode lowers it", name, *have, want))
			return nil
		}
		changed = true
		*have = want
		return &want
	}
	flag := func(name string, want bool, have *bool) *bool {
		switch {
		case want == *have:
			return nil
		case !want && !lower:
			kept = append(kept, fmt.Sprintf("%s: the instance grants it, the model does not; only Authoritative mode lowers it", name))
			return nil
		}
		changed = true
		*have = want
		return &want
	}
	w := dg.Settings
	if dg.Builtin == access.Custom && dg.PlatformName != og.Name {
		name := dg.PlatformName
		u.Name, changed = &name, true
	}
	u.UniversalApp = level("universal_app_access", w.UniversalApp, &after.UniversalApp)
	u.UniversalWorkflow = level("universal_workflow_access", w.UniversalWorkflow, &after.UniversalWorkflow)
	u.UniversalResource = level("universal_resource_access", w.UniversalResource, &after.UniversalResource)
	u.UniversalQueryLibrary = level("universal_query_library_access", w.UniversalQueryLibrary, &after.UniversalQueryLibrary)
	u.UserList = flag("user_list_access", w.UserList, &after.UserList)
	u.AuditLog = flag("audit_log_access", w.AuditLog, &after.AuditLog)
	u.UnpublishedRelease = flag("unpublished_release_access", w.UnpublishedRelease, &after.UnpublishedRelease)
	u.UsageAnalytics = flag("usage_analytics_access", w.UsageAnalytics, &after.UsageAnalytics)
	u.Theme = flag("theme_access", w.Theme, &after.Theme)
	u.AccountDetails = flag("account_details_access", w.AccountDetails, &after.AccountDetails)
	if !changed {
		return nil, after, kept
	}
	return u, after, kept
}

// opOrder runs Space settings first, then folders and groups (creates before
// the members, grants and revokes that may name them), deletes, then the SSO
// configuration (its role mappings name the groups by their final names).
var opOrder = map[OpKind]int{
	OpSetLock: 0, OpSetSourceControl: 1, OpCreateFolder: 2, OpCreateGroup: 3, OpUpdateGroup: 4,
	OpAddMembers: 5, OpInvite: 6, OpRemoveMember: 7, OpGrant: 8, OpRevoke: 9, OpRevokeUserGrant: 10, OpDeleteGroup: 11,
	OpSetSSO: 12, OpDeleteSSO: 12,
}

func (pl *planner) order() {
	ops := pl.p.Ops
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
	sort.Strings(pl.p.Pending)
	sort.Strings(pl.p.Drift)
}
