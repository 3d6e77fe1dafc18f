// Package spacemodel converts Governor's API objects into the access
// engine's input, and loads them from manifests (files or directories of
// multi-document YAML) for the offline CLI. The engine itself imports no
// Kubernetes code; this adapter is the one place that knows both.
package spacemodel

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/access"
)

// Input converts a Space (with inherited settings already applied), its
// groups and its rules into the engine's input. Its At is zero: the model
// answers for the moment it is compiled, unless the caller sets another. Values the CRD's validation
// refuses are passed through as the engine's zero values; the engine reports
// what it cannot compile.
func Input(space *governorv1alpha1.Space, groups []governorv1alpha1.PermissionGroup, rules []governorv1alpha1.AccessRule) access.SpaceInput {
	in := access.SpaceInput{
		Name:   space.Name,
		Groups: make([]access.Group, 0, len(groups)),
		Rules:  make([]access.Rule, 0, len(rules)),
	}
	for _, e := range space.Spec.Environments {
		in.Environments = append(in.Environments, access.Environment{Name: e.Name, ReadOnly: e.ReadOnly})
	}
	if sso := space.Spec.SSO; sso != nil {
		if sso.JIT != nil {
			in.SSO.JIT = sso.JIT.Enabled
			in.SSO.AllowedDomains = sso.JIT.AllowedDomains
		}
		for _, m := range sso.RoleMappings {
			in.SSO.RoleMappings = append(in.SSO.RoleMappings, access.RoleMapping{IdPGroup: m.IdPGroup, Group: m.Group})
		}
	}
	for i := range groups {
		in.Groups = append(in.Groups, Group(&groups[i]))
	}
	for i := range rules {
		in.Rules = append(in.Rules, Rule(&rules[i]))
	}
	return in
}

// Group converts a PermissionGroup.
func Group(g *governorv1alpha1.PermissionGroup) access.Group {
	out := access.Group{Name: g.Name, DisplayName: g.Spec.DisplayName, Builtin: access.Builtin(g.Spec.Builtin), IdPGroups: g.Spec.IdPGroups, Created: g.CreationTimestamp.Time}
	for _, m := range g.Spec.Members {
		out.Members = append(out.Members, access.Member{Email: m.Email, GroupAdmin: m.GroupAdmin, Expires: expires(m.Expires)})
	}
	if u := g.Spec.Universal; u != nil {
		out.Universal = access.Universal{
			Apps: level(string(u.Apps)), Workflows: level(string(u.Workflows)),
			Resources: level(string(u.Resources)), QueryLibrary: level(string(u.QueryLibrary)),
		}
	}
	if a := g.Spec.Additional; a != nil {
		out.Additional = access.Additional{
			UserList: a.UserList, AuditLog: a.AuditLog, UnpublishedReleases: a.UnpublishedReleases,
			UsageAnalytics: a.UsageAnalytics, Themes: a.Themes, AccountDetails: a.AccountDetails,
		}
	}
	return out
}

// Rule converts an AccessRule.
func Rule(r *governorv1alpha1.AccessRule) access.Rule {
	out := access.Rule{Name: r.Name, Group: r.Spec.Group, Level: level(string(r.Spec.Level)), Targets: make([]access.RuleTarget, 0, len(r.Spec.Targets)),
		Expires: expires(r.Spec.Expires)}
	for _, t := range r.Spec.Targets {
		rt := access.RuleTarget{Name: t.Name}
		kind := string(t.Kind)
		if t.Kind == governorv1alpha1.TargetFolder {
			rt.Folder = true
			kind = string(t.FolderType)
		}
		k, err := access.ParseKind(kind)
		if err != nil {
			rt.Name = "" // refused by the CRD; the engine reports an invalid target
		}
		rt.Kind = k
		for _, e := range t.Environments {
			rt.Environments = append(rt.Environments, access.EnvironmentLevel{Name: e.Name, Level: level(string(e.Level))})
		}
		out.Targets = append(out.Targets, rt)
	}
	return out
}

// expires is an optional expiry as the engine takes it (zero: never).
func expires(t *metav1.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.Time
}

func level(s string) access.Level {
	l, _ := access.ParseLevel(s) // enums are validated by the CRD
	return l
}
