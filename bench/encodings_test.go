package bench

import (
	"context"
	"testing"

	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/access/accesstest"
)

// loadFor loads a Space into an engine for a mix, and Governor for reference.
func loadFor(t *testing.T, eng func(ctx context.Context, in access.SpaceInput, reqs []access.Request) (checker, error), in access.SpaceInput, reqs []access.Request) agreement {
	t.Helper()
	ref, problems := access.Compile(in)
	if len(problems) > 0 {
		t.Fatalf("the Space has problems: %v", problems)
	}
	c, err := eng(t.Context(), in, reqs)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	a, err := compare(t.Context(), ref, c, reqs)
	if err != nil {
		t.Fatal(err)
	}
	if a.allowed == 0 || a.allowed == a.checks {
		t.Fatalf("the mix should hold both answers: %d of %d allowed", a.allowed, a.checks)
	}
	return a
}

// The Casbin encoding answers the permissive superset of Governor's model:
// whatever Governor allows, Casbin allows too (they differ only where a rule
// narrows a broader one inside one group), and they mostly agree.
func TestCasbinEncodingAllowsWhatGovernorAllows(t *testing.T) {
	in := accesstest.Small()
	reqs := requests(in, checksPerSpace)
	ref, _ := access.Compile(in)
	for _, req := range reqs {
		d, err := ref.Check(req)
		if err != nil {
			t.Fatal(err)
		}
		if d.Required != requiredLevel[req.Action] {
			t.Fatalf("%s needs %s in Governor, %s in the Casbin encoding", req.Action, d.Required, requiredLevel[req.Action])
		}
	}
	a := loadFor(t, loadCasbin, in, reqs)
	if len(a.falseDenies) > 0 {
		t.Fatalf("Governor allows %d checks Casbin denies, first %+v", len(a.falseDenies), a.falseDenies[0])
	}
	if len(a.falseAllows)*10 > a.checks {
		t.Fatalf("Casbin allows %d of %d checks Governor denies", len(a.falseAllows), a.checks)
	}
	t.Logf("Casbin allows %d of %d checks that Governor denies", len(a.falseAllows), a.checks)
}

// fullMix is accesstest's mix as it is: environments (read-only ones
// included) and users signing in with IdP groups.
func fullMix(in access.SpaceInput) []access.Request {
	return accesstest.Requests(in, checksPerSpace, 1)
}

// The OPA encoding is the whole model for objects and folders: it answers
// every check of the full mix as Governor does.
func TestOPAAnswersAsGovernor(t *testing.T) {
	for _, size := range sizes[:2] {
		t.Run(size.name, func(t *testing.T) {
			in := size.in()
			for name, reqs := range map[string][]access.Request{"mix": requests(in, checksPerSpace), "full mix": fullMix(in)} {
				a := loadFor(t, loadOPA, in, reqs)
				if n := len(a.falseAllows) + len(a.falseDenies); n > 0 {
					t.Errorf("%s: OPA disagrees on %d of %d checks: allows %v; denies %v", name, n, a.checks, first(a.falseAllows), first(a.falseDenies))
				}
			}
		})
	}
}

func first(reqs []access.Request) []access.Request { return reqs[:min(len(reqs), 3)] }

// The SpiceDB encoding is the whole model for objects and folders too, with
// caveats where relationships cannot say it: it answers every check of the
// full mix as Governor does (on the medium Space, the first 128 of each mix:
// SpiceDB's memory datastore takes ~0.1 s a check there).
func TestSpiceDBAnswersAsGovernor(t *testing.T) {
	for _, size := range sizes[:2] {
		t.Run(size.name, func(t *testing.T) {
			in := size.in()
			n := checksPerSpace
			if size.name != "small" {
				n = 128
			}
			for name, reqs := range map[string][]access.Request{"mix": requests(in, checksPerSpace)[:n], "full mix": fullMix(in)[:n]} {
				a := loadFor(t, loadSpiceDB, in, reqs)
				if n := len(a.falseAllows) + len(a.falseDenies); n > 0 {
					t.Errorf("%s: SpiceDB disagrees on %d of %d checks: allows %v; denies %v", name, n, a.checks, first(a.falseAllows), first(a.falseDenies))
				}
			}
		})
	}
}

// handBuilt is a Space that exercises what the generated ones do not: JIT,
// role mappings (to AllUsers too), AllUsers' universal level and flags,
// view-unpublished from two groups together, create-folder, a folder rule
// narrowing a universal level and a broader folder rule, and several rules
// of one group on one resource with different per-environment levels.
func handBuilt() access.SpaceInput {
	return access.SpaceInput{
		Name:         "payments",
		Environments: []access.Environment{{Name: "development"}, {Name: "staging", ReadOnly: true}, {Name: "production", ReadOnly: true}},
		SSO: access.SSO{JIT: true, AllowedDomains: []string{"example.com"}, RoleMappings: []access.RoleMapping{
			{IdPGroup: "everyone", Group: "all-users"}, {IdPGroup: "ops", Group: "platform"}, {IdPGroup: "platform-admins", Group: "admin"},
		}},
		Groups: []access.Group{
			{Name: "all-users", Builtin: access.AllUsers, Universal: access.Universal{Workflows: access.Use}},
			{Name: "viewer", Builtin: access.Viewer, Members: []access.Member{{Email: "dave@corp.example"}}},
			{Name: "editor", Builtin: access.Editor, Members: []access.Member{{Email: "erin@corp.example"}}, IdPGroups: []string{"developers"}},
			{Name: "admin", Builtin: access.Admin, Members: []access.Member{{Email: "root@corp.example"}}},
			{Name: "finance", Members: []access.Member{{Email: "Alice@corp.example"}}},
			{Name: "reviewers", Members: []access.Member{{Email: "alice@corp.example"}, {Email: "bob@corp.example"}},
				Additional: access.Additional{UnpublishedReleases: true}},
			{Name: "platform", Members: []access.Member{{Email: "carol@corp.example"}},
				Universal: access.Universal{Apps: access.Edit, Workflows: access.Own, Resources: access.Use}},
			{Name: "data", Members: []access.Member{{Email: "frank@corp.example"}, {Email: "bob@corp.example"}}},
		},
		Rules: []access.Rule{
			{Name: "finance-apps", Group: "finance", Level: access.Edit, Targets: []access.RuleTarget{
				{Kind: access.App, Folder: true, Name: "finance"}, {Kind: access.App, Name: "payouts"}}},
			{Name: "finance-payouts", Group: "finance", Level: access.Use, Targets: []access.RuleTarget{{Kind: access.App, Name: "payouts"}}},
			{Name: "finance-locked", Group: "finance", Level: access.Use, Targets: []access.RuleTarget{{Kind: access.App, Folder: true, Name: "finance/locked"}}},
			{Name: "platform-locked", Group: "platform", Level: access.Use, Targets: []access.RuleTarget{
				{Kind: access.App, Folder: true, Name: "finance/locked"}, {Kind: access.Resource, Folder: true, Name: "shared"}}},
			{Name: "platform-deploy", Group: "platform", Level: access.Own, Targets: []access.RuleTarget{{Kind: access.Workflow, Name: "deploy"}}},
			{Name: "data-db", Group: "data", Level: access.Own, Targets: []access.RuleTarget{
				{Kind: access.Resource, Name: "db", Environments: []access.EnvironmentLevel{{Name: "production", Level: access.Use}}}}},
			{Name: "data-db-staging", Group: "data", Level: access.Edit, Targets: []access.RuleTarget{
				{Kind: access.Resource, Name: "db", Environments: []access.EnvironmentLevel{{Name: "staging", Level: access.Own}, {Name: "development", Level: access.Use}}},
				{Kind: access.Resource, Folder: true, Name: "shared"}}},
		},
	}
}

// handBuiltChecks asks every user every action on every target, in every
// folder and environment.
func handBuiltChecks() []access.Request {
	users := []struct {
		email  string
		groups []string
	}{
		{"alice@corp.example", nil}, {"bob@corp.example", nil}, {"carol@corp.example", nil}, {"dave@corp.example", nil},
		{"erin@corp.example", nil}, {"frank@corp.example", nil}, {"root@corp.example", nil}, {"stranger@elsewhere.example", nil},
		{"newcomer@example.com", nil}, {"sso@corp.example", []string{"ops"}}, {"dev@corp.example", []string{"developers", "everyone"}},
		{"guest@corp.example", []string{"everyone"}}, {"boss@corp.example", []string{"platform-admins"}},
	}
	objects := map[access.TargetType][]string{
		access.TargetApp: {"payouts", "ledger"}, access.TargetWorkflow: {"deploy", "nightly"}, access.TargetResource: {"db", "cache"},
	}
	folders := []string{"", "finance", "finance/locked", "finance/locked/deep", "shared"}
	actions := map[access.TargetType][]string{
		access.TargetApp:      {"use", "edit", "release", "view-unpublished", "rename", "move", "export", "delete", "share"},
		access.TargetWorkflow: {"use", "run", "edit", "rename", "move", "export", "delete"},
		access.TargetResource: {"use", "write", "configure"},
	}
	folderActions := []string{"use", "create", "manage", "create-folder"}
	var out []access.Request
	for _, u := range users {
		for _, env := range []string{"", "development", "staging", "production"} {
			ask := func(t access.Target, folder, action string) {
				out = append(out, access.Request{User: u.email, Groups: u.groups, Action: action, Target: t, Folder: folder, Environment: env})
			}
			for typ, names := range objects {
				for _, name := range names {
					for _, folder := range folders {
						for _, action := range actions[typ] {
							ask(access.Target{Type: typ, Name: name}, folder, action)
						}
					}
				}
				for _, folder := range folders[1:] {
					for _, action := range folderActions {
						ask(access.Target{Type: typ + "folder", Name: folder}, "", action)
					}
				}
			}
		}
	}
	return out
}

// OPA and SpiceDB answer every question on the hand-built Space as Governor does.
func TestEncodingsOnHandBuiltSpace(t *testing.T) {
	in, reqs := handBuilt(), handBuiltChecks()
	for _, eng := range []engine{{name: "OPA", load: loadOPA}, {name: "SpiceDB", load: loadSpiceDB}} {
		t.Run(eng.name, func(t *testing.T) {
			a := loadFor(t, eng.load, in, reqs)
			if n := len(a.falseAllows) + len(a.falseDenies); n > 0 {
				t.Errorf("%s disagrees on %d of %d checks: allows %v; denies %v", eng.name, n, a.checks, first(a.falseAllows), first(a.falseDenies))
			}
		})
	}
}
