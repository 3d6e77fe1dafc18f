package access

import (
	"maps"
	"slices"
	"sort"
)

// Grant is a group that grants an action, and who is in it. Its slices may
// be shared with the snapshot: read them, do not modify them.
type Grant struct {
	Group   string  `json:"group"`
	Builtin Builtin `json:"builtin,omitempty"`
	Level   Level   `json:"level"`
	Source  Source  `json:"source"`
	// Members are the listed members (for a group-admin grant, the group
	// admins only); Everyone is set for the AllUsers group, every member of
	// the Space.
	Members   []string `json:"members,omitempty"`
	IdPGroups []string `json:"idpGroups,omitempty"`
	Everyone  bool     `json:"everyone,omitempty"`
}

// JointGrant is an action that two groups grant together: a member of one
// of LevelGroups (which give at least Level) and of one of FlagGroups (which
// have the additional permission Flag) may, though neither group alone does.
type JointGrant struct {
	Flag        string  `json:"flag"`
	Level       Level   `json:"level"`
	LevelGroups []Grant `json:"levelGroups"`
	FlagGroups  []Grant `json:"flagGroups"`
	// Members are the listed users in a group of each, sorted.
	Members []string `json:"members,omitempty"`
}

// WhoCanResult lists the groups that grant an action on a target.
type WhoCanResult struct {
	Space       string  `json:"space"`
	Revision    string  `json:"revision"`
	Action      string  `json:"action"`
	Target      Target  `json:"target"`
	Folder      string  `json:"folder,omitempty"`
	Environment string  `json:"environment,omitempty"`
	Required    Level   `json:"required"`
	Grants      []Grant `json:"grants"`
	// Together is set when groups also grant the action in pairs
	// (view-unpublished: Use from one group, unpublishedReleases from another).
	Together *JointGrant `json:"together,omitempty"`
	// Denied explains an empty answer for everyone (a read-only environment).
	Denied string `json:"denied,omitempty"`
}

// WhoCan lists every group that grants the action on the target by itself,
// with its members, and the pairs of groups that grant it together: exactly
// the users Check allows are the members of a granting group (the group
// admins, for a group-admin grant) and of a group of each side of Together.
func (s *Snapshot) WhoCan(req Request) (WhoCanResult, error) {
	res, _, err := s.whoCan(req, 0, -1)
	if err != nil || res.Together == nil {
		return res, err
	}
	if len(res.Together.LevelGroups) == 0 || len(res.Together.FlagGroups) == 0 {
		res.Together = nil
		return res, nil
	}
	res.Together.Members = inBoth(res.Together.LevelGroups, res.Together.FlagGroups)
	return res, nil
}

// WhoCanPage is one page of WhoCan's answer: the grants of the groups from
// position from on (0 for the first page), at most limit of them (the
// groups of Together count like grants), and the position the next page
// starts from (0 after the last page). Each page costs what its groups cost,
// not what the whole answer does: it examines only the groups that may
// grant (the who-can index: a rule on the target or one of its folders, a
// universal level, the additional permission, Admin), and ends at the group
// of the first grant it has no room for, or after examining
// whoCanScanBudget groups that grant nothing (rules that lower a level),
// so it may hold fewer than limit grants (rarely none) and still be
// followed by others. Together's groups are spread
// over the pages like the grants, and a page's Together lists those of its
// own groups; its Members (the listed users in a group of each side) are
// only computed by WhoCan, which has every group at hand.
func (s *Snapshot) WhoCanPage(req Request, from, limit int) (WhoCanResult, int, error) {
	if limit <= 0 {
		return WhoCanResult{}, 0, invalid(ReasonInvalidPage, "limit must be at least 1, got %d", limit)
	}
	if from < 0 || from > len(s.groups)+1 {
		return WhoCanResult{}, 0, invalid(ReasonInvalidPage, "no page starts at position %d", from)
	}
	return s.whoCan(req, from, limit)
}

// ReasonInvalidPage is a who-can page that does not exist.
const ReasonInvalidPage = "InvalidPage"

// whoCanScanBudget bounds the groups a page examines besides the grants it
// returns: a page over groups that mostly do not grant ends early.
const whoCanScanBudget = 4096

// whoCan scans the groups that may grant, from position from (positions
// are group indexes; len(groups) is the group-admin grant) until limit
// grants are found (-1: no limit), and returns the next position (0: the end).
func (s *Snapshot) whoCan(req Request, from, limit int) (WhoCanResult, int, error) {
	var q question
	if err := s.prepare(&q, req); err != nil {
		return WhoCanResult{}, 0, err
	}
	res := WhoCanResult{Space: s.space, Revision: s.revision, Action: q.req.action, Target: q.target,
		Folder: q.folder, Environment: req.Environment, Required: q.req.need, Grants: []Grant{}}
	if ok, by := decide(q.req, &standing{member: true, readOnly: q.readOnly()}); !ok && by == policyReadOnly {
		res.Denied = ReasonReadOnlyEnvironment
		return res, 0, nil
	}
	// Pairs exist when a flag grants together with a level from another group.
	joint := q.req.flag != 0 && q.req.scale != scaleNone
	var together JointGrant
	found, examined := 0, 0
	full := func() bool { return limit >= 0 && found == limit }
	if limit > 0 {
		res.Grants = make([]Grant, 0, min(limit, len(s.groups)+1))
	}
	// Only the groups that may grant are examined (whocan_index.go).
	var cands candidates
	s.candidatesFor(&q, &cands)
	end := len(s.groups)
	pos := from
	if pos < end {
		pos = cands.next(from, end)
	}
scan:
	for ; pos < end; pos = cands.next(pos+1, end) {
		if limit >= 0 && examined-found >= whoCanScanBudget {
			break
		}
		examined++
		g := int32(pos)
		grp := &s.groups[g]
		grant := Grant{Group: grp.name, Builtin: grp.builtin}
		grant.Level, grant.Source = s.scaleLevel(q.req, g, &q.probe, q.env)
		st := s.groupStanding(g, q.readOnly(), grant.Level)
		ok, by := decide(q.req, &st)
		side := &res.Grants
		switch {
		case ok && by == policyAdmin:
			grant.Level, grant.Source = Own, Source{Kind: SourceBuiltin, Builtin: Admin}
			if q.req.scale == scaleQueryLibrary {
				grant.Level = grp.queryLib
			}
		case ok && by == policyFlag:
			grant.Source = Source{Kind: SourceAdditional, Flag: q.req.flag.name()}
		case ok:
		case joint && grp.flags&q.req.flag != 0:
			grant.Source = Source{Kind: SourceAdditional, Flag: q.req.flag.name()}
			side = &together.FlagGroups
		case joint && grant.Level >= q.req.flagWith:
			side = &together.LevelGroups
		default:
			continue
		}
		if full() {
			break scan // the next page starts at this group
		}
		*side = append(*side, s.withMembers(g, grant))
		found++
	}
	if pos == len(s.groups) {
		admins := s.groupAdminGrant(&q)
		if admins == nil || !full() {
			pos++ // past the group-admin grant's position: the end
			if admins != nil {
				res.Grants = append(res.Grants, *admins)
			}
		}
	}
	if len(together.LevelGroups) > 0 || len(together.FlagGroups) > 0 {
		together.Flag, together.Level = q.req.flag.name(), q.req.flagWith
		res.Together = &together
	}
	next := pos
	if pos > len(s.groups) {
		next = 0
	}
	return res, next, nil
}

// groupAdminGrant is the grant of the target group's group admins, when the
// action is theirs (manage-members) and the group has some.
func (s *Snapshot) groupAdminGrant(q *question) *Grant {
	if !q.req.groupAdmin {
		return nil
	}
	grp := &s.groups[q.group]
	if len(grp.admins) == 0 || grp.builtin == Admin {
		return nil
	}
	grant := Grant{Group: grp.name, Builtin: grp.builtin, Source: Source{Kind: SourceGroupAdmin}}
	for _, m := range grp.members {
		if m.GroupAdmin && !slices.Contains(grant.Members, m.Email) {
			grant.Members = append(grant.Members, m.Email)
		}
	}
	return &grant
}

// JoinWhoCanPages joins WhoCanPage's pages (in order) into WhoCan's answer:
// the grants and Together's groups one after the other, and Together's
// Members, the listed users in a group of each side (Together is dropped
// when one side has no group).
func JoinWhoCanPages(pages ...WhoCanResult) WhoCanResult {
	if len(pages) == 0 {
		return WhoCanResult{}
	}
	all := pages[0]
	all.Grants = slices.Clone(all.Grants)
	var together JointGrant
	for i, p := range pages {
		if i > 0 {
			all.Grants = append(all.Grants, p.Grants...)
		}
		if p.Together != nil {
			together.Flag, together.Level = p.Together.Flag, p.Together.Level
			together.LevelGroups = append(together.LevelGroups, p.Together.LevelGroups...)
			together.FlagGroups = append(together.FlagGroups, p.Together.FlagGroups...)
		}
	}
	all.Together = nil
	if len(together.LevelGroups) > 0 && len(together.FlagGroups) > 0 {
		together.Members = inBoth(together.LevelGroups, together.FlagGroups)
		all.Together = &together
	}
	return all
}

// withMembers fills a grant with group g's members and IdP groups.
func (s *Snapshot) withMembers(g int32, grant Grant) Grant {
	grp := &s.groups[g]
	grant.Everyone = grp.builtin == AllUsers
	grant.Members = slices.Clip(grp.emails)
	grant.IdPGroups = slices.Clip(grp.mappedIdP)
	return grant
}

// inBoth lists the listed users in a group of a and a group of b (every
// listed member of a group when the other side holds AllUsers), sorted.
func inBoth(a, b []Grant) []string {
	members := func(side []Grant) (map[string]struct{}, bool) {
		set := map[string]struct{}{}
		for _, g := range side {
			if g.Everyone {
				return nil, true
			}
			for _, m := range g.Members {
				set[m] = struct{}{}
			}
		}
		return set, false
	}
	inA, allA := members(a)
	inB, allB := members(b)
	var out []string
	switch {
	case allA:
		out = slices.Collect(maps.Keys(inB))
	case allB:
		out = slices.Collect(maps.Keys(inA))
	default:
		for m := range inA {
			if _, ok := inB[m]; ok {
				out = append(out, m)
			}
		}
	}
	slices.Sort(out)
	return out
}

// Permission is a user's level on one target named by a rule, or their
// universal level on a kind (Target.Name "*"), and the actions they may do
// there (at the root of the folder tree, in no environment).
type Permission struct {
	Target  Target   `json:"target"`
	Level   Level    `json:"level"`
	Group   string   `json:"group"`
	Source  Source   `json:"source"`
	Actions []string `json:"actions"`
}

// PermissionsResult is a user's effective permissions in a Space.
type PermissionsResult struct {
	Space      string       `json:"space"`
	Revision   string       `json:"revision"`
	User       string       `json:"user"`
	Membership string       `json:"membership,omitempty"`
	Groups     []string     `json:"groups"`
	Admin      bool         `json:"admin,omitempty"`
	Universal  []Permission `json:"universal"`
	// Permissions are the targets the user's groups' rules name (objects at
	// the root of the folder tree; folders by their path), with the user's
	// effective level and its source.
	Permissions  []Permission `json:"permissions"`
	QueryLibrary Level        `json:"queryLibrary"`
	// SpaceActions are the Space actions the user may do.
	SpaceActions []string `json:"spaceActions,omitempty"`
	Additional   []string `json:"additional,omitempty"`
	GroupAdminOf []string `json:"groupAdminOf,omitempty"`
}

// Permissions lists a user's effective permissions: every target their
// groups' rules name, with the level they have there, where it comes from
// and the actions it allows, as Check decides them.
func (s *Snapshot) Permissions(user string, idpGroups []string) (PermissionsResult, error) {
	email, err := canonicalUser(user, "permissions")
	if err != nil {
		return PermissionsResult{}, err
	}
	groups, how := s.membership(email, idpGroups)
	res := PermissionsResult{Space: s.space, Revision: s.revision, User: email, Membership: how,
		Groups: make([]string, 0, len(groups)), Universal: []Permission{}, Permissions: []Permission{}}
	if how == "" {
		return res, nil
	}
	for _, g := range groups {
		res.Groups = append(res.Groups, s.groups[g].name)
	}
	res.Admin = s.adminGroup(groups) >= 0
	u := subject{email: email, groups: groups, member: true}
	permission := func(t Target, kind Kind, folder bool, name string) Permission {
		var p probe
		s.newProbe(&p, kind, folder, name, "")
		o := s.evaluate(&u, t.Type, &p, -1, -1)
		perm := Permission{Target: t, Level: o.level, Source: o.source, Actions: o.actions(t.Type)}
		if o.group >= 0 {
			perm.Group = s.groups[o.group].name
		}
		return perm
	}
	for k := Kind(0); k < numKinds; k++ {
		// An object no rule names, at the root: the universal level.
		res.Universal = append(res.Universal, permission(Target{Type: objectType(k, false), Name: "*"}, k, false, ""))
	}
	s.eachNamedTarget(groups, func(key ruleKey) {
		res.Permissions = append(res.Permissions, permission(Target{Type: objectType(key.kind, key.folder), Name: key.name}, key.kind, key.folder, key.name))
	})
	sort.Slice(res.Permissions, func(i, j int) bool {
		a, b := res.Permissions[i].Target, res.Permissions[j].Target
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.Name < b.Name
	})
	res.QueryLibrary = s.evaluate(&u, TargetQueryLibrary, nil, -1, -1).level
	res.SpaceActions = s.evaluate(&u, TargetSpace, nil, -1, -1).actions(TargetSpace)
	for _, g := range groups {
		u.flags |= s.groups[g].flags
		if _, ok := s.groups[g].admins[email]; ok {
			res.GroupAdminOf = append(res.GroupAdminOf, s.groups[g].name)
		}
	}
	res.Additional = u.flags.names()
	return res, nil
}

// subject is a user as the engine evaluates them: their groups.
type subject struct {
	email  string
	groups []int32
	member bool
	flags  flagSet
}

// outcome is a subject's answers on one target: its level on the object
// scale (the query library's, for the query library), the group that gives
// it and what in the group does, and the actions allowed (bit i: the target
// type's i-th requirement).
type outcome struct {
	level   Level
	group   int32
	source  Source
	allowed uint16
}

// actions names the allowed actions.
func (o outcome) actions(t TargetType) []string {
	out := []string{}
	for i, r := range requirementsOf(t) {
		if o.allowed&(1<<i) != 0 {
			out = append(out, r.action)
		}
	}
	return out
}

// evaluate answers every action of target type t for u: on the probed
// object or folder (p, nil for other targets), in environment env, on the
// target group (targetGroup, -1 for other targets).
func (s *Snapshot) evaluate(u *subject, t TargetType, p *probe, env int, targetGroup int32) outcome {
	o := outcome{group: -1}
	st := standing{member: u.member, readOnly: env >= 0 && s.envs[env].ReadOnly}
	var universal Level
	admin := s.adminGroup(u.groups)
	st.admin = admin >= 0
	for _, g := range u.groups {
		st.flags |= s.groups[g].flags
		var lvl Level
		var src Source
		switch {
		case p != nil:
			lvl, src = s.levelAt(g, p, env)
			universal = max(universal, s.groups[g].universal[p.kind])
		case t == TargetQueryLibrary:
			lvl, src = s.groups[g].queryLib, s.universalSource(g)
		}
		if o.group < 0 || lvl > o.level {
			o.level, o.group, o.source = lvl, g, src
		}
	}
	if st.admin {
		o.group, o.source = admin, Source{Kind: SourceBuiltin, Builtin: Admin}
		if p != nil {
			o.level = Own
		}
	}
	if targetGroup >= 0 {
		_, st.groupAdmin = s.groups[targetGroup].admins[u.email]
	}
	reqs := requirementsOf(t)
	for i := range reqs {
		r := &reqs[i]
		st.level = o.level
		if r.scale == scaleUniversal {
			st.level = universal
		}
		if ok, _ := decide(r, &st); ok {
			o.allowed |= 1 << i
		}
	}
	return o
}

func objectType(k Kind, folder bool) TargetType {
	types := [2][numKinds]TargetType{
		{TargetApp, TargetWorkflow, TargetResource},
		{TargetAppFolder, TargetWorkflowFolder, TargetResourceFolder},
	}
	if folder {
		return types[1][k]
	}
	return types[0][k]
}

// eachNamedTarget calls f once for every target that a rule of one of the
// groups names (a target several groups name, once): the objects and
// folders whose level may differ from the universal one.
func (s *Snapshot) eachNamedTarget(groups []int32, f func(ruleKey)) {
	seen := map[ruleKey]struct{}{}
	for _, g := range groups {
		for _, key := range s.groups[g].targets {
			k := key
			k.group = 0
			if _, dup := seen[k]; dup {
				continue
			}
			seen[k] = struct{}{}
			f(key)
		}
	}
}
