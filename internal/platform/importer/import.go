// Package importer turns what Retool instances hold of a Space into the
// PermissionGroups and AccessRules that reproduce it: the first step of
// adopting a hand-run instance (`governor platform import`). It is pure:
// syncer.ObserveAll reads the instances, Import translates, Write prints.
//
// The model and the instance differ in a few ways, and Import bridges them
// so that, once the manifests are applied, a sync plans no call and every
// user's level in the instance is the model's:
//
//   - Retool's folder grants reach a folder's direct contents only; the
//     model passes a folder rule down to sub-folders. Every team folder
//     whose level differs from what its parent's rule would pass down gets a
//     rule of its own.
//   - Retool keeps the highest of a group's levels on an object; in the model
//     the most specific rule wins. A grant below what the group has anyway
//     (its universal level, its folder's grant) is left out.
//   - What the model cannot hold (grants to single users, on resource
//     configurations, on system folders, a sub-folder with less than its
//     parent, a level that differs between environments on anything but a
//     resource) is reported as a Note, which Write prints as a comment.
package importer

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/platform"
)

// Environment is what one environment's instance holds of the Space, as
// syncer.ObserveAll reads it.
type Environment struct {
	Name     string
	Observed platform.Observed
}

// Options shape the imported objects.
type Options struct {
	// Namespace is the objects' namespace (the Space's namespace).
	Namespace string
}

// Result is what Import made and what it could not reproduce.
type Result struct {
	Groups []governorv1alpha1.PermissionGroup
	Rules  []governorv1alpha1.AccessRule
	// Notes name what the manifests do not reproduce exactly, and why.
	Notes []Note
	// Calls are the calls a sync makes once the manifests are applied:
	// each is explained by a note. Those with Authoritative set are made in
	// Authoritative mode only.
	Calls []Call
	// JITDomains are the email domains of the active users who are in no
	// group but All Users. The model counts them as members of the Space
	// (and gives them All Users' levels) only through just-in-time
	// provisioning: spec.sso.jit with these allowedDomains.
	JITDomains []string
}

// Exact reports whether every active user's level in the instances is the
// model's once the manifests are applied (with JITDomains set on the Space).
func (r Result) Exact() bool {
	for _, n := range r.Notes {
		if n.Inexact {
			return false
		}
	}
	return true
}

// ChangesAccess reports whether applying the manifests changes who can do
// what in the instances.
func (r Result) ChangesAccess() bool {
	for _, n := range r.Notes {
		if n.Changes {
			return true
		}
	}
	return false
}

// Note is something the manifests do not reproduce exactly.
type Note struct {
	// Environment is the environment it concerns ("" for every one).
	Environment string
	// Group is the PermissionGroup it concerns ("" for the Space).
	Group string
	Text  string
	// Inexact is set when, even once the manifests are applied and synced,
	// a user's level in the model differs from the instance's because of it
	// (`governor platform verify` reports it).
	Inexact bool
	// Changes is set when applying the manifests changes who can do what
	// in the instance because of it (a sync grants more than the instance
	// gives, or creates a group).
	Changes bool
}

// effect is what a note means for users' levels.
type effect uint8

const (
	info    effect = 0
	differs effect = 1 << iota
	changes
)

func (n Note) String() string {
	if n.Environment != "" {
		return n.Environment + ": " + n.Text
	}
	return n.Text
}

// Call is a call that a sync makes once the manifests are applied.
type Call struct {
	Environment string
	Kind        platform.OpKind
	// Group is the group's name in the instance (the user's email for
	// OpRevokeUserGrant).
	Group  string
	Object platform.ObjectRef
	// Level is the level granted (OpGrant).
	Level string
	// Authoritative is set on a write that only Authoritative mode makes.
	Authoritative bool
}

// Import translates what the environments' instances hold. The first
// environment is the reference: groups, members and levels that the model
// can hold only once (everything but a resource's level) are taken from the
// first environment that has them, and every other environment's difference
// is a note.
func Import(envs []Environment, opts Options) (Result, error) {
	if len(envs) == 0 {
		return Result{}, errors.New("import: no environment")
	}
	seen := map[string]bool{}
	var instanceNames []string
	for _, e := range envs {
		if e.Name == "" {
			return Result{}, errors.New("import: an environment without a name")
		}
		if seen["env/"+e.Name] {
			return Result{}, fmt.Errorf("import: environment %q twice", e.Name)
		}
		seen["env/"+e.Name] = true
		for _, g := range e.Observed.Groups {
			if !seen[g.Name] {
				seen[g.Name] = true
				instanceNames = append(instanceNames, g.Name)
			}
		}
	}
	names := groupNames(instanceNames)
	var res Result
	analysed := make([]*envResult, len(envs))
	for i, e := range envs {
		analysed[i] = analyse(e, names, len(envs) > 1)
		res.Notes = append(res.Notes, analysed[i].notes...)
		res.Calls = append(res.Calls, analysed[i].calls...)
	}
	res.Notes = everywhere(res.Notes, len(envs))
	m := merger{opts: opts, envs: analysed, res: &res}
	m.groups(instanceNames, names)
	m.rules()
	jit := map[string]bool{}
	for _, a := range analysed {
		for d := range a.jitDomains {
			jit[d] = true
		}
	}
	for d := range jit {
		res.JITDomains = append(res.JITDomains, d)
	}
	sort.Strings(res.JITDomains)
	sortNotes(res.Notes)
	return res, nil
}

// everywhere merges the notes that every one of n environments has into
// one note without an environment.
func everywhere(notes []Note, n int) []Note {
	if n < 2 {
		return notes
	}
	type key struct {
		group, text string
		inexact     bool
	}
	count := map[key]int{}
	for _, note := range notes {
		count[key{note.Group, note.Text, note.Inexact}]++
	}
	out := notes[:0]
	done := map[key]bool{}
	for _, note := range notes {
		k := key{note.Group, note.Text, note.Inexact}
		if count[k] == n {
			if done[k] {
				continue
			}
			done[k] = true
			note.Environment = ""
		}
		out = append(out, note)
	}
	return out
}

func sortNotes(notes []Note) {
	sort.SliceStable(notes, func(i, j int) bool {
		a, b := notes[i], notes[j]
		if a.Group != b.Group {
			return a.Group < b.Group
		}
		if a.Environment != b.Environment {
			return a.Environment < b.Environment
		}
		return a.Text < b.Text
	})
}

// target is a rule target without its environment levels.
type target struct {
	Kind       governorv1alpha1.TargetKind
	FolderType governorv1alpha1.FolderType
	Name       string
}

func (t target) less(o target) bool {
	if t.Kind != o.Kind {
		return targetOrder[t.Kind] < targetOrder[o.Kind]
	}
	if t.FolderType != o.FolderType {
		return t.FolderType < o.FolderType
	}
	return t.Name < o.Name
}

func (t target) String() string {
	if t.Kind == governorv1alpha1.TargetFolder {
		return fmt.Sprintf("%s folder %q", strings.ToLower(string(t.FolderType)), t.Name)
	}
	return fmt.Sprintf("%s %q", strings.ToLower(string(t.Kind)), t.Name)
}

var targetOrder = map[governorv1alpha1.TargetKind]int{
	governorv1alpha1.TargetFolder: 0, governorv1alpha1.TargetApp: 1, governorv1alpha1.TargetWorkflow: 2, governorv1alpha1.TargetResource: 3,
}

func folderTarget(k access.Kind, path string) target {
	return target{Kind: governorv1alpha1.TargetFolder, FolderType: governorv1alpha1.FolderType(k.String()), Name: path}
}

// envResult is one environment's instance as the model should hold it.
type envResult struct {
	name   string
	groups map[string]*groupView // by instance name
	// rules are the rule levels per PermissionGroup and target.
	rules map[string]map[target]string
	// resourceLevels are each group's level on each resource without a rule
	// of its own (its folder's or universal level), for the environment
	// levels of a resource rule other environments have.
	resourceLevels map[string]map[string]string
	// resources maps the instance's resource names to their ids.
	resources map[string]string
	// held are each group's grants on resources, by PermissionGroup and
	// resource name; instanceNames the groups' names in the instance.
	held          map[string]map[string]string
	instanceNames map[string]string
	notes         []Note
	calls         []Call
	jitDomains    map[string]bool
}

// groupView is an instance group as its PermissionGroup holds it.
type groupView struct {
	og      *platform.ObservedGroup
	name    string
	builtin access.Builtin
	members []governorv1alpha1.Member
}

// analysis is one environment's translation under way.
type analysis struct {
	*envResult
	o       *platform.Observed
	ix      *platform.FolderIndex
	folders map[string]platform.Folder
	multi   bool
}

func (a *analysis) note(group, text string, e effect) {
	n := Note{Group: group, Text: text, Inexact: e&differs != 0, Changes: e&changes != 0}
	if a.multi {
		n.Environment = a.name
	}
	a.notes = append(a.notes, n)
}

func (a *analysis) call(w Call) {
	w.Environment = a.name
	a.calls = append(a.calls, w)
}

func analyse(e Environment, names map[string]string, multi bool) *envResult {
	o := &e.Observed
	a := &analysis{envResult: &envResult{name: e.Name, groups: map[string]*groupView{}, rules: map[string]map[target]string{},
		resourceLevels: map[string]map[string]string{}, resources: map[string]string{}, jitDomains: map[string]bool{},
		held: map[string]map[string]string{}, instanceNames: map[string]string{}},
		o: o, ix: platform.NewFolderIndex(o.Folders), folders: map[string]platform.Folder{}, multi: multi}
	for _, f := range o.Folders {
		a.folders[f.ID] = f
	}
	for name := range o.Resources {
		a.resources[name] = o.Resources[name]
	}
	inGroup := map[string]bool{}
	for i := range o.Groups {
		og := &o.Groups[i]
		gv := &groupView{og: og, name: names[og.Name], builtin: builtinOf(og.Name)}
		a.groups[og.Name] = gv
		a.rules[gv.name] = map[target]string{}
		a.resourceLevels[gv.name] = map[string]string{}
		a.instanceNames[gv.name] = og.Name
		a.held[gv.name] = map[string]string{}
		for name, id := range o.Resources {
			if l, ok := og.Grants[platform.ObjectRef{Type: platform.ObjectResource, ID: id}]; ok {
				a.held[gv.name][name] = l
			}
		}
		if gv.builtin != access.AllUsers {
			a.members(gv)
			for _, m := range og.Members {
				inGroup[m.Email] = true
			}
		}
		a.settings(gv)
		a.grants(gv)
	}
	a.userGrants()
	for email := range o.Users {
		if inGroup[email] || o.Inactive[email] {
			continue
		}
		if _, err := access.CanonicalEmail(email); err != nil {
			continue
		}
		a.jitDomains[email[strings.LastIndexByte(email, '@')+1:]] = true
	}
	if len(a.jitDomains) > 0 {
		domains := make([]string, 0, len(a.jitDomains))
		for d := range a.jitDomains {
			domains = append(domains, d)
		}
		sort.Strings(domains)
		a.note("", fmt.Sprintf("active users of %s are in no group but All Users: the model makes them members of the Space (with All Users' levels) only through just-in-time provisioning: set the Space's spec.sso.jit to {enabled: true, allowedDomains: [%s]}, or list them in a group",
			strings.Join(domains, ", "), strings.Join(domains, ", ")), info)
	}
	return a.envResult
}

// members lists the group's members (deactivated accounts included: the
// sync leaves them pending) and the emails with an open invitation to it.
func (a *analysis) members(gv *groupView) {
	var inactive, invited []string
	listed := map[string]bool{}
	for _, m := range gv.og.Members {
		email, err := access.CanonicalEmail(m.Email)
		if err != nil {
			a.note(gv.name, fmt.Sprintf("member %q is left out: %v", m.Email, err), differs)
			a.call(Call{Kind: platform.OpRemoveMember, Group: gv.og.Name, Object: platform.ObjectRef{ID: m.UserID}, Authoritative: true})
			continue
		}
		if listed[email] {
			continue
		}
		listed[email] = true
		gv.members = append(gv.members, governorv1alpha1.Member{Email: email, GroupAdmin: m.GroupAdmin})
		if a.o.Inactive[email] {
			inactive = append(inactive, email)
		}
	}
	for _, email := range gv.og.Invites {
		if listed[email] {
			continue
		}
		if _, err := access.CanonicalEmail(email); err != nil {
			a.note(gv.name, fmt.Sprintf("invitation of %q is left out: %v", email, err), info)
			continue
		}
		listed[email] = true
		gv.members = append(gv.members, governorv1alpha1.Member{Email: email})
		invited = append(invited, email)
	}
	sort.Slice(gv.members, func(i, j int) bool { return gv.members[i].Email < gv.members[j].Email })
	sort.Strings(inactive)
	sort.Strings(invited)
	if len(inactive) > 0 {
		a.note(gv.name, fmt.Sprintf("members deactivated in the instance, kept (the sync leaves them pending; remove them to take them out of the group): %s", strings.Join(inactive, ", ")), info)
	}
	if len(invited) > 0 {
		a.note(gv.name, fmt.Sprintf("members invited and not signed in yet (the invitation adds them when they sign in): %s", strings.Join(invited, ", ")), info)
	}
}

// settings compares a default group's levels with its built-in role's.
func (a *analysis) settings(gv *groupView) {
	u, add, fixed := access.RoleLevels(gv.builtin)
	if !fixed {
		return
	}
	s := gv.og.Settings
	var diff, levels []string
	for _, c := range []struct {
		name       string
		have, want string
		verified   bool
	}{
		{"apps", s.UniversalApp, retoolLevel(u.Apps), true},
		{"workflows", s.UniversalWorkflow, retoolLevel(u.Workflows), true},
		{"resources", s.UniversalResource, retoolLevel(u.Resources), true},
		{"query library", s.UniversalQueryLibrary, retoolLevel(u.QueryLibrary), false},
	} {
		if norm(c.have) != c.want {
			diff = append(diff, fmt.Sprintf("%s %s (the role: %s)", c.name, norm(c.have), c.want))
			if c.verified {
				levels = append(levels, fmt.Sprintf("the %s group's universal level on %s is %s in the instance; the %s role's is %s, fixed: its members' levels differ in the model",
					gv.og.Name, c.name, norm(c.have), gv.builtin, c.want))
			}
		}
	}
	for _, f := range []struct {
		name       string
		have, want bool
	}{
		{"userList", s.UserList, add.UserList}, {"auditLog", s.AuditLog, add.AuditLog},
		{"unpublishedReleases", s.UnpublishedRelease, add.UnpublishedReleases}, {"usageAnalytics", s.UsageAnalytics, add.UsageAnalytics},
		{"themes", s.Theme, add.Themes}, {"accountDetails", s.AccountDetails, add.AccountDetails},
	} {
		if f.have != f.want {
			diff = append(diff, fmt.Sprintf("%s %t (the role: %t)", f.name, f.have, f.want))
		}
	}
	for _, l := range levels {
		a.note(gv.name, l, differs)
	}
	if len(diff) > 0 {
		a.note(gv.name, fmt.Sprintf("the %s group's settings in the instance are not the %s role's, which the model holds and the sync does not write: %s",
			gv.og.Name, gv.builtin, strings.Join(diff, ", ")), info)
	}
}

// universal is a group's universal level on kind k in the instance, and in
// the model (a built-in role's fixed level, else the instance's).
func (a *analysis) universal(gv *groupView, k access.Kind) (instance, model string) {
	s := gv.og.Settings
	switch k {
	case access.App:
		instance = s.UniversalApp
	case access.Workflow:
		instance = s.UniversalWorkflow
	default:
		instance = s.UniversalResource
	}
	instance = norm(instance)
	model = instance
	if u, _, fixed := access.RoleLevels(gv.builtin); fixed {
		switch k {
		case access.App:
			model = retoolLevel(u.Apps)
		case access.Workflow:
			model = retoolLevel(u.Workflows)
		default:
			model = retoolLevel(u.Resources)
		}
	}
	return instance, model
}

func (a *analysis) rule(gv *groupView, t target, level string) { a.rules[gv.name][t] = level }

// grants turns the group's grants into rule levels: team folders parents
// first, then apps and resources.
func (a *analysis) grants(gv *groupView) {
	og := gv.og
	used := map[platform.ObjectRef]bool{}
	folderLevels := map[string]map[string]string{} // folder type -> path -> rule level
	for _, k := range []access.Kind{access.App, access.Workflow, access.Resource} {
		typ := platform.FolderType(k)
		folderLevels[typ] = map[string]string{}
		uInst, uModel := a.universal(gv, k)
		for _, path := range a.ix.Paths(typ) {
			id, _ := a.ix.Lookup(typ, path)
			ref := platform.ObjectRef{Type: platform.ObjectFolder, ID: id}
			used[ref] = true
			g, granted := og.Grants[ref]
			t := folderTarget(k, path)
			inst := higher(norm(g), uInst)
			above := uModel
			for _, p := range parentPaths(path) {
				if l, ok := folderLevels[typ][p]; ok {
					above = l
					break
				}
			}
			if !validName(path, true) {
				if levelRank(inst) != levelRank(above) {
					a.note(gv.name, fmt.Sprintf("%s: the group has %s there in the instance and %s in the model; a rule cannot name a folder path with whitespace in it", t, inst, above), nameEffect(inst, above))
				}
				continue
			}
			if gv.builtin == access.Admin {
				if granted {
					a.rule(gv, t, g)
					folderLevels[typ][path] = g
				}
				continue
			}
			if granted && levelRank(g) >= levelRank(uInst) && levelRank(g) > 0 {
				a.rule(gv, t, g)
				folderLevels[typ][path] = g
				continue
			}
			if granted {
				a.note(gv.name, fmt.Sprintf("%s: the grant (%s) is below the group's universal %s level (%s) and gives nothing; left out (Authoritative mode revokes it)",
					t, g, typ, uInst), info)
				a.call(Call{Kind: platform.OpRevoke, Group: og.Name, Object: ref, Authoritative: true})
			}
			if levelRank(inst) == levelRank(above) {
				continue
			}
			if levelRank(inst) > 0 {
				a.rule(gv, t, inst)
				folderLevels[typ][path] = inst
				a.note(gv.name, fmt.Sprintf("%s: a rule at the group's universal level (%s) keeps the parent folder's rule (%s) from reaching it; a sync grants it (%s) on the folder, which changes no one's access",
					t, inst, above, inst), info)
				a.call(Call{Kind: platform.OpGrant, Group: og.Name, Object: ref, Level: inst})
				continue
			}
			a.note(gv.name, fmt.Sprintf("%s: the group has no access there in the instance, but the model passes the rule on its parent folder down to it (%s), and a sync grants that on the folder: the model cannot take a level away (move the folder, or narrow the parent's rule)",
				t, above), changes)
			a.call(Call{Kind: platform.OpGrant, Group: og.Name, Object: ref, Level: above})
		}
	}
	a.objectGrants(gv, access.App, a.o.Apps, a.o.AppFolders, folderLevels, used)
	a.objectGrants(gv, access.Resource, a.o.Resources, a.o.ResourceFolders, folderLevels, used)
	a.otherGrants(gv, used)
}

// objectGrants turns the group's grants on apps or resources into rules,
// where the object's level differs from what its folder's rule (or the
// universal level) gives in the model.
func (a *analysis) objectGrants(gv *groupView, k access.Kind, ids, folderOf map[string]string, folderLevels map[string]map[string]string, used map[platform.ObjectRef]bool) {
	og := gv.og
	typ := platform.FolderType(k)
	objType, targetKind := platform.ObjectApp, governorv1alpha1.TargetApp
	if k == access.Resource {
		objType, targetKind = platform.ObjectResource, governorv1alpha1.TargetResource
	}
	uInst, uModel := a.universal(gv, k)
	names := make([]string, 0, len(ids))
	for n := range ids {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		ref := platform.ObjectRef{Type: objType, ID: ids[name]}
		folderID := folderOf[name]
		path := ""
		if folderID != "" && folderID != a.ix.Root(typ) {
			p, ok := a.ix.Path(folderID)
			if !ok {
				continue // in the archive or a user's drafts: otherGrants reports a grant on it
			}
			path = p
		}
		used[ref] = true
		d, granted := og.Grants[ref]
		floor := uInst
		if folderID != "" {
			floor = higher(floor, og.Grants[platform.ObjectRef{Type: platform.ObjectFolder, ID: folderID}])
		}
		floor = norm(floor)
		inst := higher(norm(d), floor)
		above := uModel
		if path != "" {
			for _, p := range append([]string{path}, parentPaths(path)...) {
				if l, ok := folderLevels[typ][p]; ok {
					above = l
					break
				}
			}
		}
		if k == access.Resource {
			a.resourceLevels[gv.name][name] = inst
		}
		t := target{Kind: targetKind, Name: name}
		if !validName(name, false) {
			if granted || levelRank(inst) != levelRank(above) {
				a.note(gv.name, fmt.Sprintf("%s: the group has %s there in the instance and %s in the model; a rule cannot name an object whose name holds whitespace or '/'", t, inst, above), nameEffect(inst, above))
			}
			continue
		}
		if gv.builtin == access.Admin {
			if granted {
				a.rule(gv, t, d)
			}
			continue
		}
		if granted && levelRank(d) >= levelRank(floor) && levelRank(d) > 0 {
			a.rule(gv, t, d)
			continue
		}
		if granted {
			a.note(gv.name, fmt.Sprintf("%s: the grant (%s) is below what the group has there anyway (%s, from its folder's grant or universal level); left out (Authoritative mode revokes it)", t, d, floor), info)
			a.call(Call{Kind: platform.OpRevoke, Group: og.Name, Object: ref, Authoritative: true})
		}
		if levelRank(inst) == levelRank(above) {
			continue
		}
		if levelRank(inst) > 0 {
			a.rule(gv, t, inst)
			if inst != d {
				a.call(Call{Kind: platform.OpGrant, Group: og.Name, Object: ref, Level: inst})
				if path == "" {
					a.note(gv.name, fmt.Sprintf("%s: the group has %s there through its grant on the root %s folder, which a rule cannot name; a rule on the %s keeps it, and a sync grants it there (no one's access changes)", t, inst, typ, objType), info)
				} else {
					a.note(gv.name, fmt.Sprintf("%s: the group has %s there in the instance and %s from the folder rules in the model; a rule on the %s keeps %s, and a sync grants it there (no one's access changes)", t, inst, above, objType, inst), info)
				}
			}
			continue
		}
		a.note(gv.name, fmt.Sprintf("%s: the group has no access there in the instance, but %s from a parent folder's rule in the model (see that folder's note)", t, above), changes)
	}
}

// otherGrants reports the group's grants that no rule holds: on system
// folders (a type's root, the archive, users' drafts), on objects in them,
// on objects the listings do not show, and on resource configurations.
func (a *analysis) otherGrants(gv *groupView, used map[platform.ObjectRef]bool) {
	og := gv.og
	refs := make([]platform.ObjectRef, 0, len(og.Grants))
	for ref := range og.Grants {
		if !used[ref] {
			refs = append(refs, ref)
		}
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].String() < refs[j].String() })
	for _, ref := range refs {
		level := og.Grants[ref]
		what := a.describe(ref)
		inexact := false
		if f, ok := a.folders[ref.ID]; ok && ref.Type == platform.ObjectFolder && a.ix.Root(f.Type) == ref.ID {
			// Apps and resources in the root have rules of their own;
			// workflows cannot (the platform grants no single workflow).
			if u, _ := a.universal(gv, access.Workflow); f.Type == platform.FolderType(access.Workflow) && levelRank(level) > levelRank(u) {
				for _, folder := range a.o.WorkflowFolders {
					inexact = inexact || folder == ref.ID
				}
			}
		}
		if gv.builtin == access.Admin {
			inexact = false
		}
		a.note(gv.name, fmt.Sprintf("grant %s on %s: no rule can name it; left out (Authoritative mode revokes it)", level, what), effectOf(inexact))
		a.call(Call{Kind: platform.OpRevoke, Group: og.Name, Object: ref, Authoritative: true})
	}
	other := make([]platform.ObjectRef, 0, len(og.OtherGrants))
	for ref := range og.OtherGrants {
		other = append(other, ref)
	}
	sort.Slice(other, func(i, j int) bool { return other[i].String() < other[j].String() })
	for _, ref := range other {
		a.note(gv.name, fmt.Sprintf("grant %s on %s: the model has no resource configuration target; left as it is (the sync does not touch such grants)", og.OtherGrants[ref], ref), info)
	}
}

// describe names an object or folder of the instance as people read it.
func (a *analysis) describe(ref platform.ObjectRef) string {
	switch ref.Type {
	case platform.ObjectFolder:
		f, ok := a.folders[ref.ID]
		if !ok {
			break
		}
		if p, ok := a.ix.Path(ref.ID); ok {
			return fmt.Sprintf("%s folder %q", f.Type, p)
		}
		switch {
		case a.ix.Root(f.Type) == ref.ID:
			return fmt.Sprintf("the root %s folder", f.Type)
		case f.System:
			return fmt.Sprintf("the system %s folder %q", f.Type, f.Name)
		}
		return fmt.Sprintf("the %s folder %q in the archive or a user's drafts", f.Type, f.Name)
	case platform.ObjectApp, platform.ObjectResource:
		names := a.o.Apps
		if ref.Type == platform.ObjectResource {
			names = a.o.Resources
		}
		for name, id := range names {
			if id == ref.ID {
				return fmt.Sprintf("%s %q", ref.Type, name)
			}
		}
	}
	return ref.String()
}

// userGrants reports the grants to single users: Governor grants groups only.
func (a *analysis) userGrants() {
	grants := append([]platform.UserGrant(nil), a.o.UserGrants...)
	sort.Slice(grants, func(i, j int) bool {
		if grants[i].Email != grants[j].Email {
			return grants[i].Email < grants[j].Email
		}
		return grants[i].Object.String() < grants[j].Object.String()
	})
	for _, g := range grants {
		what := a.describe(g.Object)
		a.note("", fmt.Sprintf("user %s: %s on %s, granted to the user alone: the model grants groups only: Additive mode reports it as drift, Authoritative revokes it (give the level to a group the user is in, or revoke the grant in Retool)", g.Email, g.Level, what), differs)
	}
}

// nameEffect is what a target that no rule can name does: the instance
// keeps a level the model lacks, or a sync passes down a level the
// instance does not give.
func nameEffect(inst, model string) effect {
	switch {
	case levelRank(inst) > levelRank(model):
		return differs
	case levelRank(inst) < levelRank(model):
		return changes
	}
	return info
}

func effectOf(inexact bool) effect {
	if inexact {
		return differs
	}
	return info
}

// parentPaths are the proper ancestors of path, nearest first.
func parentPaths(path string) []string {
	var out []string
	for i := strings.LastIndex(path, "/"); i > 0; i = strings.LastIndex(path[:i], "/") {
		out = append(out, path[:i])
	}
	return out
}

// merger makes the objects from every environment's analysis.
type merger struct {
	opts Options
	envs []*envResult
	res  *Result
}

func (m *merger) note(env, group, text string, e effect) {
	m.res.Notes = append(m.res.Notes, Note{Environment: env, Group: group, Text: text, Inexact: e&differs != 0, Changes: e&changes != 0})
}

func (m *merger) groups(instanceNames []string, names map[string]string) {
	sorted := append([]string(nil), instanceNames...)
	sort.Slice(sorted, func(i, j int) bool { return names[sorted[i]] < names[sorted[j]] })
	for _, inst := range sorted {
		var first *groupView
		var firstEnv string
		for _, e := range m.envs {
			if gv := e.groups[inst]; gv != nil {
				first, firstEnv = gv, e.name
				break
			}
		}
		pg := governorv1alpha1.PermissionGroup{
			TypeMeta:   metav1.TypeMeta{APIVersion: governorv1alpha1.GroupVersion.String(), Kind: "PermissionGroup"},
			ObjectMeta: metav1.ObjectMeta{Name: first.name, Namespace: m.opts.Namespace},
			Spec:       governorv1alpha1.PermissionGroupSpec{Builtin: governorv1alpha1.BuiltinRole(first.builtin), Members: first.members},
		}
		if first.builtin == access.Custom && inst != first.name {
			pg.Spec.DisplayName = inst
			if len(inst) > 128 {
				m.note("", first.name, fmt.Sprintf("the group's name %q is longer than a displayName (128): a sync renames it in the instance", inst), info)
			}
		}
		if first.builtin == access.Custom || first.builtin == access.AllUsers {
			pg.Spec.Universal, pg.Spec.Additional = specSettings(first.og.Settings)
		}
		m.res.Groups = append(m.res.Groups, pg)
		for _, e := range m.envs {
			gv := e.groups[inst]
			if gv == nil {
				m.note(e.name, first.name, fmt.Sprintf("the group is not in the %s instance: a sync creates it there", e.name), changes)
				m.res.Calls = append(m.res.Calls, Call{Environment: e.name, Kind: platform.OpCreateGroup, Group: inst})
				continue
			}
			if gv == first {
				continue
			}
			if d := settingsDiff(first.og.Settings, gv.og.Settings); d != "" && (first.builtin == access.Custom || first.builtin == access.AllUsers) {
				m.note(e.name, first.name, fmt.Sprintf("the group's settings differ from %s's, which the manifest holds (a group has one set of settings in every environment): %s", firstEnv, d), differs|changes)
			}
			if d := membersDiff(first.members, gv.members); d != "" && first.builtin != access.AllUsers {
				m.note(e.name, first.name, fmt.Sprintf("the group's members differ from %s's, which the manifest lists (a group has the same members in every environment): %s", firstEnv, d), differs|changes)
			}
		}
	}
}

// specSettings are an instance group's levels and flags as a spec holds them.
func specSettings(s platform.GroupSettings) (*governorv1alpha1.UniversalAccess, *governorv1alpha1.AdditionalAccess) {
	var u *governorv1alpha1.UniversalAccess
	if levelRank(s.UniversalApp)+levelRank(s.UniversalWorkflow)+levelRank(s.UniversalResource)+levelRank(s.UniversalQueryLibrary) > 0 {
		u = &governorv1alpha1.UniversalAccess{
			Apps: governorv1alpha1.UniversalLevel(specLevel(s.UniversalApp)), Workflows: governorv1alpha1.UniversalLevel(specLevel(s.UniversalWorkflow)),
			Resources: governorv1alpha1.UniversalLevel(specLevel(s.UniversalResource)), QueryLibrary: governorv1alpha1.QueryLibraryLevel(specLevel(s.UniversalQueryLibrary)),
		}
		if u.QueryLibrary == "Own" {
			u.QueryLibrary = "Edit" // the query library has no Own; Retool answers none
		}
	}
	var add *governorv1alpha1.AdditionalAccess
	if s.UserList || s.AuditLog || s.UnpublishedRelease || s.UsageAnalytics || s.Theme || s.AccountDetails {
		add = &governorv1alpha1.AdditionalAccess{UserList: s.UserList, AuditLog: s.AuditLog, UnpublishedReleases: s.UnpublishedRelease,
			UsageAnalytics: s.UsageAnalytics, Themes: s.Theme, AccountDetails: s.AccountDetails}
	}
	return u, add
}

// specLevel spells a Retool level as the API types do (use -> Use).
func specLevel(level string) string {
	level = norm(level)
	return strings.ToUpper(level[:1]) + level[1:]
}

func settingsDiff(a, b platform.GroupSettings) string {
	if a == b {
		return ""
	}
	var out []string
	add := func(name string, x, y any) {
		if x != y {
			out = append(out, fmt.Sprintf("%s %v here, %v there", name, y, x))
		}
	}
	add("universal apps", norm(a.UniversalApp), norm(b.UniversalApp))
	add("universal workflows", norm(a.UniversalWorkflow), norm(b.UniversalWorkflow))
	add("universal resources", norm(a.UniversalResource), norm(b.UniversalResource))
	add("universal query library", norm(a.UniversalQueryLibrary), norm(b.UniversalQueryLibrary))
	add("userList", a.UserList, b.UserList)
	add("auditLog", a.AuditLog, b.AuditLog)
	add("unpublishedReleases", a.UnpublishedRelease, b.UnpublishedRelease)
	add("usageAnalytics", a.UsageAnalytics, b.UsageAnalytics)
	add("themes", a.Theme, b.Theme)
	add("accountDetails", a.AccountDetails, b.AccountDetails)
	return strings.Join(out, ", ")
}

func membersDiff(want, have []governorv1alpha1.Member) string {
	w := map[string]bool{}
	for _, m := range want {
		w[m.Email] = m.GroupAdmin
	}
	var extra, missing, admin []string
	h := map[string]bool{}
	for _, m := range have {
		h[m.Email] = true
		ga, ok := w[m.Email]
		switch {
		case !ok:
			extra = append(extra, m.Email)
		case ga != m.GroupAdmin:
			admin = append(admin, m.Email)
		}
	}
	for _, m := range want {
		if !h[m.Email] {
			missing = append(missing, m.Email)
		}
	}
	var out []string
	if len(extra) > 0 {
		out = append(out, "also "+strings.Join(extra, ", ")+" (not in the manifest: Authoritative mode removes them)")
	}
	if len(missing) > 0 {
		out = append(out, "without "+strings.Join(missing, ", ")+" (a sync adds them)")
	}
	if len(admin) > 0 {
		out = append(out, "group admin status differs for "+strings.Join(admin, ", "))
	}
	return strings.Join(out, "; ")
}

// maxTargets is an AccessRule's limit of targets.
const maxTargets = 256

// rules merges the environments' rule levels into one AccessRule per group
// and level (split when it would exceed maxTargets), targets sorted. A
// resource whose level differs between environments gets environments:
// levels; any other target takes the first environment's level, and the
// others' difference is a note.
func (m *merger) rules() {
	type key struct {
		group string
		t     target
	}
	var keys []key
	seen := map[key]bool{}
	for _, e := range m.envs {
		for group, ts := range e.rules {
			for t := range ts {
				if k := (key{group, t}); !seen[k] {
					seen[k] = true
					keys = append(keys, k)
				}
			}
		}
	}
	type bucket struct {
		group, level string
	}
	byBucket := map[bucket][]governorv1alpha1.Target{}
	for _, k := range keys {
		var base, baseEnv string
		for _, e := range m.envs {
			if l, ok := e.rules[k.group][k.t]; ok {
				base, baseEnv = l, e.name
				break
			}
		}
		gt := governorv1alpha1.Target{Kind: k.t.Kind, FolderType: k.t.FolderType, Name: k.t.Name}
		for _, e := range m.envs {
			l, ok := e.rules[k.group][k.t]
			if ok && l == base {
				continue
			}
			if k.t.Kind == governorv1alpha1.TargetResource {
				if !ok {
					id, there := e.resources[k.t.Name]
					if !there {
						continue // not in that instance: the sync reports it pending there
					}
					l = e.resourceLevels[k.group][k.t.Name]
					if levelRank(l) > 0 && e.held[k.group][k.t.Name] != l {
						// The level the group has there anyway, held by a grant.
						m.res.Calls = append(m.res.Calls, Call{Environment: e.name, Kind: platform.OpGrant, Group: e.instanceNames[k.group],
							Object: platform.ObjectRef{Type: platform.ObjectResource, ID: id}, Level: l})
						m.note(e.name, k.group, fmt.Sprintf("%s: no grant of its own in the %s instance; its level there (%s, from its folder or universal level) becomes a grant (no one's access changes)", k.t, e.name, l), info)
					}
				}
				gt.Environments = append(gt.Environments, governorv1alpha1.EnvironmentLevel{Name: e.name, Level: governorv1alpha1.UniversalLevel(specLevel(l))})
				continue
			}
			if !ok {
				m.note(e.name, k.group, fmt.Sprintf("%s: the group's level there is %s's rule (%s) in the manifest, not what the %s instance gives (apps, workflows and folders have one level in every environment)", k.t, baseEnv, base, e.name), differs|changes)
				continue
			}
			m.note(e.name, k.group, fmt.Sprintf("%s: %s in the %s instance, %s in the manifest (%s's; apps, workflows and folders have one level in every environment)", k.t, l, e.name, base, baseEnv), differs|changes)
		}
		b := bucket{k.group, base}
		byBucket[b] = append(byBucket[b], gt)
	}
	buckets := make([]bucket, 0, len(byBucket))
	for b := range byBucket {
		buckets = append(buckets, b)
	}
	sort.Slice(buckets, func(i, j int) bool {
		if buckets[i].group != buckets[j].group {
			return buckets[i].group < buckets[j].group
		}
		return levelRank(buckets[i].level) < levelRank(buckets[j].level)
	})
	for _, b := range buckets {
		targets := byBucket[b]
		sort.Slice(targets, func(i, j int) bool {
			ti := target{Kind: targets[i].Kind, FolderType: targets[i].FolderType, Name: targets[i].Name}
			return ti.less(target{Kind: targets[j].Kind, FolderType: targets[j].FolderType, Name: targets[j].Name})
		})
		for chunk := 0; chunk*maxTargets < len(targets); chunk++ {
			name := b.group + "-" + b.level
			if chunk > 0 {
				name = fmt.Sprintf("%s-%d", name, chunk+1)
			}
			end := min((chunk+1)*maxTargets, len(targets))
			m.res.Rules = append(m.res.Rules, governorv1alpha1.AccessRule{
				TypeMeta:   metav1.TypeMeta{APIVersion: governorv1alpha1.GroupVersion.String(), Kind: "AccessRule"},
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: m.opts.Namespace},
				Spec: governorv1alpha1.AccessRuleSpec{Group: b.group, Level: governorv1alpha1.AccessLevel(specLevel(b.level)),
					Targets: targets[chunk*maxTargets : end]},
			})
		}
	}
}
