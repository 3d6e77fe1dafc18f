package access

import (
	"slices"
	"sort"
	"strings"
)

// Grant is a group that grants an action, and who is in it.
type Grant struct {
	Group   string  `json:"group"`
	Builtin Builtin `json:"builtin,omitempty"`
	Level   Level   `json:"level"`
	Source  Source  `json:"source"`
	// Members are the listed members; AllUsers means every member of the Space.
	Members   []string `json:"members,omitempty"`
	IdPGroups []string `json:"idpGroups,omitempty"`
	// Everyone is set for the AllUsers group.
	Everyone bool `json:"everyone,omitempty"`
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
	// Denied explains an empty answer for everyone (a read-only environment).
	Denied string `json:"denied,omitempty"`
}

// WhoCan lists every group that grants the action on the target by itself,
// with its members. (view-unpublished also counts groups with Use and the
// unpublishedReleases permission.)
func (s *Snapshot) WhoCan(req Request) (WhoCanResult, error) {
	act, err := lookupAction(req.Target, req.Action)
	if err != nil {
		return WhoCanResult{}, err
	}
	env, err := s.environment(req.Environment)
	if err != nil {
		return WhoCanResult{}, err
	}
	kind, isFolder, isObject := req.Target.objectKind()
	target := req.Target
	if isFolder {
		target.Name = normalizePath(target.Name)
	}
	if target.Type == TargetGroup {
		if _, ok := s.groupIndex[target.Name]; !ok {
			return WhoCanResult{}, invalid(ReasonUnknownTarget, "group %q does not exist in Space %s", target.Name, s.space)
		}
	}
	res := WhoCanResult{Space: s.space, Revision: s.revision, Action: strings.ToLower(req.Action), Target: target,
		Folder: normalizePath(req.Folder), Environment: req.Environment, Required: act.need, Grants: []Grant{}}
	if act.mutating && env >= 0 && s.envs[env].ReadOnly {
		res.Denied = ReasonReadOnlyEnvironment
		return res, nil
	}
	var p probe
	if isObject {
		s.newProbe(&p, kind, isFolder, target.Name, res.Folder)
	}
	for g := range s.groups {
		grp := &s.groups[g]
		grant := Grant{Group: grp.name, Builtin: grp.builtin}
		ok := false
		switch {
		case act.queryLibrary: // Admin's query-library level is Edit, the top of that scale
			grant.Level, grant.Source = grp.queryLib, s.universalSource(int32(g))
			ok = grant.Level >= act.need
		case grp.builtin == Admin:
			grant.Level, grant.Source, ok = Own, Source{Kind: SourceBuiltin, Builtin: Admin}, true
		case act.createFolder:
			grant.Level, grant.Source = grp.universal[kind], s.universalSource(int32(g))
			ok = grant.Level >= Edit
		case isObject:
			grant.Level, grant.Source = s.levelAt(int32(g), &p, env)
			ok = grant.Level >= act.need || (act.viewUnpublish && grant.Level >= Use && act.flag(grp.additional))
		case act.groupAdmin:
			if grp.name == target.Name && len(grp.admins) > 0 {
				grant.Source, ok = Source{Kind: SourceGroupAdmin}, true
				for _, m := range grp.members {
					if m.GroupAdmin {
						grant.Members = append(grant.Members, m.Email)
					}
				}
				res.Grants = append(res.Grants, grant)
			}
			continue
		case act.flag != nil:
			grant.Source = Source{Kind: SourceAdditional, Flag: flagName(res.Action)}
			ok = act.flag(grp.additional)
		}
		if !ok {
			continue
		}
		grant.Everyone = grp.builtin == AllUsers
		for _, m := range grp.members {
			grant.Members = append(grant.Members, m.Email)
		}
		grant.IdPGroups = s.idpGroupsOf(int32(g))
		res.Grants = append(res.Grants, grant)
	}
	return res, nil
}

// idpGroupsOf lists the IdP groups mapped to a group (its own and the Space's role mappings).
func (s *Snapshot) idpGroupsOf(g int32) []string {
	return slices.Clone(s.groups[g].mappedIdP)
}

// Permission is a user's level on one target named by a rule, or their
// universal level on a kind (Target.Name "*").
type Permission struct {
	Target Target `json:"target"`
	Level  Level  `json:"level"`
	Group  string `json:"group"`
	Source Source `json:"source"`
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
	Additional   []string     `json:"additional,omitempty"`
	GroupAdminOf []string     `json:"groupAdminOf,omitempty"`
}

// Permissions lists a user's effective permissions: every target their
// groups' rules name, with the level they have there and where it comes from.
func (s *Snapshot) Permissions(user string, idpGroups []string) (PermissionsResult, error) {
	email := normalizeEmail(user)
	if email == "" {
		return PermissionsResult{}, invalid(ReasonInvalidUser, "permissions needs the user's email")
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
	for k := Kind(0); k < numKinds; k++ {
		p := Permission{Target: Target{Type: objectType(k, false), Name: "*"}}
		for _, g := range groups {
			if lvl := s.groups[g].universal[k]; lvl > p.Level || p.Group == "" {
				p.Level, p.Group, p.Source = lvl, s.groups[g].name, s.universalSource(g)
			}
		}
		res.Universal = append(res.Universal, p)
	}
	seen := map[ruleKey]struct{}{}
	for _, g := range groups {
		for _, key := range s.groups[g].targets {
			k := key
			k.group = 0
			if _, dup := seen[k]; dup {
				continue
			}
			seen[k] = struct{}{}
			p := Permission{Target: Target{Type: objectType(key.kind, key.folder), Name: key.name}}
			for _, ug := range groups {
				lvl, src := s.groupLevel(ug, key.kind, key.folder, key.name, "", -1)
				if s.groups[ug].builtin == Admin {
					lvl, src = Own, Source{Kind: SourceBuiltin, Builtin: Admin}
				}
				if lvl > p.Level || p.Group == "" {
					p.Level, p.Group, p.Source = lvl, s.groups[ug].name, src
				}
			}
			res.Permissions = append(res.Permissions, p)
		}
	}
	sort.Slice(res.Permissions, func(i, j int) bool {
		a, b := res.Permissions[i].Target, res.Permissions[j].Target
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.Name < b.Name
	})
	for _, g := range groups {
		if lvl := s.groups[g].queryLib; lvl > res.QueryLibrary {
			res.QueryLibrary = lvl
		}
		if _, ok := s.groups[g].admins[email]; ok {
			res.GroupAdminOf = append(res.GroupAdminOf, s.groups[g].name)
		}
	}
	for action, flag := range flagNames {
		a := spaceActions[action]
		if _, ok := s.withFlag(groups, a.flag); ok {
			res.Additional = append(res.Additional, flag)
		}
	}
	if _, ok := s.withFlag(groups, func(a Additional) bool { return a.UnpublishedReleases }); ok {
		res.Additional = append(res.Additional, "unpublishedReleases")
	}
	sort.Strings(res.Additional)
	return res, nil
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

// Groups lists the compiled groups' names, sorted.
func (s *Snapshot) Groups() []string {
	out := make([]string, len(s.groups))
	for i, g := range s.groups {
		out[i] = g.name
	}
	return out
}
