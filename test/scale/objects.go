//go:build scale

package scale

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/access"
)

// objects converts the engine's generated input into the API objects a
// user would apply: the inverse of spacemodel.Input.
func objects(in access.SpaceInput, namespace string) (*governorv1alpha1.Space, []*governorv1alpha1.PermissionGroup, []*governorv1alpha1.AccessRule) {
	space := &governorv1alpha1.Space{ObjectMeta: metav1.ObjectMeta{Name: in.Name}, Spec: governorv1alpha1.SpaceSpec{Namespace: namespace}}
	f := false
	space.Spec.DefaultGroups = &f
	for _, e := range in.Environments {
		env := governorv1alpha1.Environment{Name: e.Name, ReadOnly: e.ReadOnly}
		space.Spec.Environments = append(space.Spec.Environments, env)
	}
	sso := &governorv1alpha1.SSO{JIT: &governorv1alpha1.JIT{Enabled: in.SSO.JIT, AllowedDomains: in.SSO.AllowedDomains}}
	for _, m := range in.SSO.RoleMappings {
		sso.RoleMappings = append(sso.RoleMappings, governorv1alpha1.RoleMapping{IdPGroup: m.IdPGroup, Group: m.Group})
	}
	space.Spec.SSO = sso

	groups := make([]*governorv1alpha1.PermissionGroup, 0, len(in.Groups))
	for _, g := range in.Groups {
		pg := &governorv1alpha1.PermissionGroup{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: g.Name},
			Spec:       governorv1alpha1.PermissionGroupSpec{Builtin: governorv1alpha1.BuiltinRole(g.Builtin), IdPGroups: g.IdPGroups},
		}
		for _, m := range g.Members {
			pg.Spec.Members = append(pg.Spec.Members, governorv1alpha1.Member{Email: m.Email, GroupAdmin: m.GroupAdmin})
		}
		if g.Builtin == access.Custom || g.Builtin == access.AllUsers {
			u := g.Universal
			pg.Spec.Universal = &governorv1alpha1.UniversalAccess{
				Apps: governorv1alpha1.UniversalLevel(u.Apps.String()), Workflows: governorv1alpha1.UniversalLevel(u.Workflows.String()),
				Resources: governorv1alpha1.UniversalLevel(u.Resources.String()), QueryLibrary: governorv1alpha1.QueryLibraryLevel(u.QueryLibrary.String()),
			}
			a := g.Additional
			pg.Spec.Additional = &governorv1alpha1.AdditionalAccess{UserList: a.UserList, AuditLog: a.AuditLog, UnpublishedReleases: a.UnpublishedReleases,
				UsageAnalytics: a.UsageAnalytics, Themes: a.Themes, AccountDetails: a.AccountDetails}
		}
		groups = append(groups, pg)
	}

	rules := make([]*governorv1alpha1.AccessRule, 0, len(in.Rules))
	for _, r := range in.Rules {
		ar := &governorv1alpha1.AccessRule{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: r.Name},
			Spec:       governorv1alpha1.AccessRuleSpec{Group: r.Group, Level: governorv1alpha1.AccessLevel(r.Level.String())},
		}
		for _, t := range r.Targets {
			tg := governorv1alpha1.Target{Kind: governorv1alpha1.TargetKind(t.Kind.String()), Name: t.Name}
			if t.Folder {
				tg.Kind = governorv1alpha1.TargetFolder
				tg.FolderType = governorv1alpha1.FolderType(t.Kind.String())
			}
			for _, e := range t.Environments {
				tg.Environments = append(tg.Environments, governorv1alpha1.EnvironmentLevel{Name: e.Name, Level: governorv1alpha1.UniversalLevel(e.Level.String())})
			}
			ar.Spec.Targets = append(ar.Spec.Targets, tg)
		}
		rules = append(rules, ar)
	}
	return space, groups, rules
}
