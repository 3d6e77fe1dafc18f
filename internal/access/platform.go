package access

import "sort"

// GroupState is a compiled group as one environment sees it: what the
// platform's instance for that environment should hold for the group.
type GroupState struct {
	Name string
	// DisplayName is the group's name in the platform ("" means Name).
	DisplayName string
	Builtin     Builtin
	// Universal are the group's spec.universal levels (custom and AllUsers
	// groups; built-in roles have the platform's own fixed levels).
	Universal  Universal
	Additional Additional
	// Members are sorted by email, emails canonical (none on AllUsers).
	Members []Member
	// Grants are the group's rule targets with their level in the
	// environment, sorted by kind, folder and name. A level of None is a rule
	// (or an environment override) that takes the level away: the platform
	// holds it only by granting nothing.
	Grants []GrantState
}

// GrantState is a group's level on one rule target in one environment.
type GrantState struct {
	Kind   Kind
	Folder bool
	// Name is the object's name or the folder's canonical path.
	Name  string
	Level Level
	// Rule is the rule that gives Level.
	Rule string
}

// GroupStates lists every compiled group as environment env sees it ("" for
// no environment: the levels rules give without overrides), sorted by name.
func (s *Snapshot) GroupStates(env string) ([]GroupState, error) {
	ei, err := s.environment(env)
	if err != nil {
		return nil, err
	}
	out := make([]GroupState, 0, len(s.groups))
	for _, g := range s.groups {
		gs := GroupState{
			Name: g.name, DisplayName: g.displayName, Builtin: g.builtin, Additional: g.additional,
			Members: append([]Member(nil), g.members...),
		}
		if g.builtin == Custom || g.builtin == AllUsers {
			gs.Universal = Universal{Apps: g.universal[App], Workflows: g.universal[Workflow], Resources: g.universal[Resource], QueryLibrary: g.queryLib}
		}
		for i, k := range g.targets {
			level, rule := g.targetRules[i].levelIn(ei)
			gs.Grants = append(gs.Grants, GrantState{Kind: k.kind, Folder: k.folder, Name: k.name, Level: level, Rule: rule})
		}
		sort.Slice(gs.Grants, func(i, j int) bool {
			a, b := gs.Grants[i], gs.Grants[j]
			if a.Kind != b.Kind {
				return a.Kind < b.Kind
			}
			if a.Folder != b.Folder {
				return b.Folder
			}
			return a.Name < b.Name
		})
		out = append(out, gs)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// SSOState is how the compiled Space lets users in without listing them:
// what an instance's SSO configuration should hold.
type SSOState struct {
	// JIT provisions users of AllowedDomains (any domain when empty) on
	// their first sign-in.
	JIT bool
	// AllowedDomains are canonical and sorted.
	AllowedDomains []string
	// Mappings map each IdP group to the groups it puts its users in, from
	// spec.sso.roleMappings and the groups' spec.idpGroups alike: sorted by
	// IdP group, then group name.
	Mappings []IdPMapping
}

// IdPMapping maps an IdP group to a compiled group.
type IdPMapping struct {
	IdPGroup string
	// Group is the PermissionGroup's name; Builtin its built-in role.
	Group   string
	Builtin Builtin
}

// SSO returns the Space's JIT provisioning and IdP group mappings.
func (s *Snapshot) SSO() SSOState {
	out := SSOState{JIT: s.jit}
	for d := range s.jitDomains {
		out.AllowedDomains = append(out.AllowedDomains, d)
	}
	sort.Strings(out.AllowedDomains)
	for idp, groups := range s.byIdP {
		for _, g := range groups {
			out.Mappings = append(out.Mappings, IdPMapping{IdPGroup: idp, Group: s.groups[g].name, Builtin: s.groups[g].builtin})
		}
	}
	sort.Slice(out.Mappings, func(i, j int) bool {
		a, b := out.Mappings[i], out.Mappings[j]
		return a.IdPGroup < b.IdPGroup || a.IdPGroup == b.IdPGroup && a.Group < b.Group
	})
	return out
}
