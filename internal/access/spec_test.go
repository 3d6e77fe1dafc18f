package access

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// workedExample is the Space of access-model.md's worked example, with
// enough around it to exercise every row of the spec's tables.
func workedExample() SpaceInput {
	return SpaceInput{
		Name:         "payments",
		Environments: []Environment{{Name: "development"}, {Name: "production", ReadOnly: true}},
		Groups: []Group{
			{Name: "finance", Members: []Member{{Email: "alice@example.com"}}},
			{Name: "viewer", Builtin: Viewer, Members: []Member{{Email: "bob@example.com"}}},
			{Name: "editor", Builtin: Editor, Members: []Member{{Email: "ed@example.com"}}},
			{Name: "admin", Builtin: Admin, Members: []Member{{Email: "root@example.com"}}},
			{Name: "all-users", Builtin: AllUsers},
			{Name: "ops", Members: []Member{{Email: "olga@example.com", GroupAdmin: true}, {Email: "oscar@example.com"}},
				IdPGroups:  []string{"ops-team"},
				Universal:  Universal{Apps: Use, Workflows: Edit, Resources: Use, QueryLibrary: Use},
				Additional: Additional{UserList: true, AuditLog: true, UnpublishedReleases: true}},
		},
		Rules: []Rule{
			{Name: "finance-folder", Group: "finance", Level: Edit, Targets: []RuleTarget{{Kind: App, Folder: true, Name: "finance"}}},
			{Name: "finance-payouts", Group: "finance", Level: Use, Targets: []RuleTarget{{Kind: App, Name: "payouts"}}},
			{Name: "ops-db", Group: "ops", Level: Edit, Targets: []RuleTarget{{Kind: Resource, Name: "ledger-db",
				Environments: []EnvironmentLevel{{Name: "production", Level: Use}}}}},
			{Name: "ops-runbooks", Group: "ops", Level: Own, Targets: []RuleTarget{{Kind: Workflow, Folder: true, Name: "oncall/runbooks"}}},
			{Name: "viewer-narrow", Group: "viewer", Level: Use, Targets: []RuleTarget{{Kind: App, Folder: true, Name: "secret"}}},
			{Name: "admin-lower", Group: "admin", Level: Use, Targets: []RuleTarget{{Kind: App, Name: "payouts"}}},
		},
	}
}

func mustCompile(t testing.TB, in SpaceInput) *Snapshot {
	t.Helper()
	s, problems := Compile(in)
	if len(problems) > 0 {
		t.Fatalf("unexpected problems: %v", problems)
	}
	return s
}

func check(t *testing.T, s *Snapshot, user, action, target, folder, env string, groups ...string) Decision {
	t.Helper()
	tg, err := ParseTarget(target)
	if err != nil {
		t.Fatalf("ParseTarget(%q): %v", target, err)
	}
	d, err := s.Check(Request{User: user, Groups: groups, Action: action, Target: tg, Folder: folder, Environment: env})
	if err != nil {
		t.Fatalf("Check(%s %s %s): %v", user, action, target, err)
	}
	if d.Allowed != (d.Reason == ReasonGranted) {
		t.Fatalf("Allowed=%v but Reason=%s", d.Allowed, d.Reason)
	}
	return d
}

func TestWorkedExample(t *testing.T) {
	s := mustCompile(t, workedExample())
	cases := map[string]struct {
		user, action, target, folder, env string
		allowed                           bool
		reason                            string
		source                            SourceKind
		rule                              string
	}{
		"alice edits app/ledger in finance/reports by the folder rule": {"alice@example.com", "edit", "app/ledger", "finance/reports", "", true, ReasonGranted, SourceFolderRule, "finance-folder"},
		"alice may not edit app/payouts: the object rule overrides":    {"alice@example.com", "edit", "app/payouts", "finance", "", false, ReasonInsufficientLevel, SourceObjectRule, "finance-payouts"},
		"alice may not edit in production: read-only":                  {"alice@example.com", "edit", "app/ledger", "finance/reports", "production", false, ReasonReadOnlyEnvironment, "", ""},
		"bob uses app/ledger as a Viewer":                              {"bob@example.com", "use", "app/ledger", "", "", true, ReasonGranted, SourceBuiltin, ""},
		"bob may not edit app/ledger":                                  {"bob@example.com", "edit", "app/ledger", "", "", false, ReasonInsufficientLevel, SourceBuiltin, ""},
		"carol is not a member":                                        {"carol@example.com", "use", "app/ledger", "", "", false, ReasonNotAMember, "", ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := check(t, s, tc.user, tc.action, tc.target, tc.folder, tc.env)
			if d.Allowed != tc.allowed || d.Reason != tc.reason {
				t.Fatalf("allowed=%v reason=%s (%s), want %v %s", d.Allowed, d.Reason, d.Message, tc.allowed, tc.reason)
			}
			if tc.source != "" && (d.Source == nil || d.Source.Kind != tc.source || d.Source.Rule != tc.rule) {
				t.Fatalf("source = %+v, want %s %q", d.Source, tc.source, tc.rule)
			}
		})
	}
}

// One row per line of the spec's action table, each on a level just enough
// and one just short.
func TestActionTable(t *testing.T) {
	level := func(l Level) SpaceInput {
		return SpaceInput{Name: "s", Groups: []Group{{Name: "g", Members: []Member{{Email: "u@x.io"}},
			Universal: Universal{Apps: l, Workflows: l, Resources: l, QueryLibrary: min(l, Edit)}}}}
	}
	cases := []struct {
		target, action string
		need           Level
	}{
		{"app/a", "use", Use}, {"app/a", "edit", Edit}, {"app/a", "release", Edit},
		{"app/a", "rename", Own}, {"app/a", "move", Own}, {"app/a", "export", Own}, {"app/a", "delete", Own}, {"app/a", "share", Own},
		{"workflow/w", "use", Use}, {"workflow/w", "run", Use}, {"workflow/w", "edit", Edit},
		{"workflow/w", "rename", Own}, {"workflow/w", "move", Own}, {"workflow/w", "export", Own}, {"workflow/w", "delete", Own},
		{"resource/r", "use", Use}, {"resource/r", "write", Edit}, {"resource/r", "configure", Own},
		{"appfolder/f", "use", Use}, {"appfolder/f", "create", Edit}, {"appfolder/f", "manage", Own},
		{"workflowfolder/f", "use", Use}, {"workflowfolder/f", "create", Edit}, {"workflowfolder/f", "manage", Own},
		{"resourcefolder/f", "use", Use}, {"resourcefolder/f", "create", Edit}, {"resourcefolder/f", "manage", Own},
		{"appfolder/f", "create-folder", Edit}, {"workflowfolder/f", "create-folder", Edit}, {"resourcefolder/f", "create-folder", Edit},
		{"querylibrary", "use", Use}, {"querylibrary", "edit", Edit},
	}
	for _, tc := range cases {
		t.Run(tc.target+" "+tc.action, func(t *testing.T) {
			enough := mustCompile(t, level(tc.need))
			if d := check(t, enough, "u@x.io", tc.action, tc.target, "", ""); !d.Allowed || d.Required != tc.need {
				t.Errorf("with %s: %+v", tc.need, d)
			}
			short := mustCompile(t, level(tc.need-1))
			if d := check(t, short, "u@x.io", tc.action, tc.target, "", ""); d.Allowed || d.Reason != ReasonInsufficientLevel {
				t.Errorf("with %s: allowed=%v reason=%s", tc.need-1, d.Allowed, d.Reason)
			}
		})
	}
}

func TestCreateFolderNeedsAdminOrUniversalEdit(t *testing.T) {
	in := SpaceInput{Name: "s", Groups: []Group{
		{Name: "folder-owner", Members: []Member{{Email: "f@x.io"}}},
		{Name: "admin", Builtin: Admin, Members: []Member{{Email: "a@x.io"}}},
	}, Rules: []Rule{{Name: "own-folder", Group: "folder-owner", Level: Own, Targets: []RuleTarget{{Kind: App, Folder: true, Name: "f"}}}}}
	s := mustCompile(t, in)
	if d := check(t, s, "f@x.io", "create-folder", "appfolder/f", "", ""); d.Allowed {
		t.Error("access rules do not enable creating folders: Own on the folder is not enough")
	}
	if d := check(t, s, "f@x.io", "manage", "appfolder/f", "", ""); !d.Allowed {
		t.Error("Own on the folder allows manage")
	}
	if d := check(t, s, "a@x.io", "create-folder", "appfolder/f", "", ""); !d.Allowed {
		t.Error("Admin creates folders")
	}
}

func TestSpaceAndGroupActions(t *testing.T) {
	s := mustCompile(t, workedExample())
	flags := map[string]bool{"view-users": true, "view-audit-log": true, "view-usage-analytics": false, "manage-themes": false, "view-account-details": false, "manage-settings": false}
	// A Viewer has Retool's viewer group's flags: the user list and account details.
	viewerHas := map[string]bool{"view-users": true, "view-account-details": true}
	for action, opsHas := range flags {
		t.Run(action, func(t *testing.T) {
			if d := check(t, s, "olga@example.com", action, "space", "", ""); d.Allowed != opsHas {
				t.Errorf("ops (additional flags) %s: %v, want %v", action, d.Allowed, opsHas)
			}
			if d := check(t, s, "bob@example.com", action, "space", "", ""); d.Allowed != viewerHas[action] || !d.Allowed && d.Reason != ReasonNotPermitted {
				t.Errorf("a Viewer %s: %+v", action, d)
			}
			if d := check(t, s, "root@example.com", action, "space", "", ""); !d.Allowed {
				t.Errorf("Admin may %s", action)
			}
		})
	}
	if d := check(t, s, "olga@example.com", "manage-members", "group/ops", "", ""); !d.Allowed || d.Source.Kind != SourceGroupAdmin {
		t.Errorf("a group admin manages its group's members: %+v", d)
	}
	if d := check(t, s, "oscar@example.com", "manage-members", "group/ops", "", ""); d.Allowed {
		t.Error("a plain member does not manage members")
	}
	if d := check(t, s, "olga@example.com", "manage-members", "group/finance", "", ""); d.Allowed {
		t.Error("a group admin of ops does not manage finance")
	}
	if d := check(t, s, "root@example.com", "manage-members", "group/finance", "", ""); !d.Allowed {
		t.Error("Admin manages every group's members")
	}
}

func TestViewUnpublished(t *testing.T) {
	s := mustCompile(t, workedExample())
	if d := check(t, s, "olga@example.com", "view-unpublished", "app/any", "", ""); !d.Allowed || d.Source.Flag != "unpublishedReleases" {
		t.Errorf("Use plus unpublishedReleases opens unpublished releases: %+v", d)
	}
	if d := check(t, s, "bob@example.com", "view-unpublished", "app/any", "", ""); d.Allowed {
		t.Error("Use alone does not open unpublished releases")
	}
	if d := check(t, s, "ed@example.com", "view-unpublished", "app/any", "", ""); !d.Allowed {
		t.Error("Edit opens unpublished releases")
	}
}

func TestBuiltinGroups(t *testing.T) {
	s := mustCompile(t, workedExample())
	cases := []struct {
		user, action, target string
		allowed              bool
	}{
		{"bob@example.com", "use", "app/a", true}, {"bob@example.com", "run", "workflow/w", true}, {"bob@example.com", "use", "resource/r", true},
		{"bob@example.com", "write", "resource/r", false}, {"bob@example.com", "use", "querylibrary", true}, {"bob@example.com", "edit", "querylibrary", false},
		{"bob@example.com", "view-unpublished", "app/a", false}, {"ed@example.com", "view-unpublished", "app/a", true},
		{"ed@example.com", "edit", "app/a", true}, {"ed@example.com", "delete", "app/a", false}, {"ed@example.com", "edit", "workflow/w", true},
		{"ed@example.com", "configure", "resource/r", true}, {"ed@example.com", "edit", "querylibrary", true},
		{"root@example.com", "delete", "app/payouts", true}, // Admin is never lowered by a rule
		{"root@example.com", "configure", "resource/r", true}, {"root@example.com", "edit", "querylibrary", true},
	}
	for _, tc := range cases {
		if d := check(t, s, tc.user, tc.action, tc.target, "", ""); d.Allowed != tc.allowed {
			t.Errorf("%s %s %s: %v (%s), want %v", tc.user, tc.action, tc.target, d.Allowed, d.Message, tc.allowed)
		}
	}
	if d := check(t, s, "root@example.com", "use", "querylibrary", "", ""); d.Level != Edit {
		t.Errorf("the query library stops at Edit, for Admin too: %s", d.Level)
	}
}

func TestPrecedence(t *testing.T) {
	s := mustCompile(t, workedExample())
	// The nearest folder wins inside a group, even when lower (viewer-narrow on secret).
	if d := check(t, s, "bob@example.com", "use", "app/x", "secret/deep", ""); !d.Allowed || d.Source.Kind != SourceFolderRule || d.Source.Folder != "secret" {
		t.Errorf("folder rule: %+v", d)
	}
	// The highest over groups: alice is in finance (Use on payouts) and all-users (None).
	d := check(t, s, "alice@example.com", "use", "app/payouts", "finance", "")
	if !d.Allowed || d.Group != "finance" || len(d.Contributions) != 2 {
		t.Errorf("max across groups: %+v", d)
	}
	// Several rules of one group on the same target: the highest counts.
	in := workedExample()
	in.Rules = append(in.Rules, Rule{Name: "finance-payouts-own", Group: "finance", Level: Own, Targets: []RuleTarget{{Kind: App, Name: "payouts"}}})
	s2 := mustCompile(t, in)
	if d := check(t, s2, "alice@example.com", "delete", "app/payouts", "finance", ""); !d.Allowed || d.Source.Rule != "finance-payouts-own" {
		t.Errorf("highest of several rules on one target: %+v", d)
	}
}

// Folder rules apply at any depth: the nearest of several ancestors decides,
// also past the depths a check keeps on the stack and the 64 a group's depth
// mask tells apart.
func TestDeepFolders(t *testing.T) {
	path := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf("d%d", i)
		}
		return strings.Join(parts, "/")
	}
	in := workedExample()
	in.Rules = append(in.Rules,
		Rule{Name: "deep-20", Group: "finance", Level: Own, Targets: []RuleTarget{{Kind: App, Folder: true, Name: path(20)}}},
		Rule{Name: "deep-3", Group: "finance", Level: Use, Targets: []RuleTarget{{Kind: App, Folder: true, Name: path(3)}}},
		Rule{Name: "deep-70", Group: "finance", Level: Edit, Targets: []RuleTarget{{Kind: App, Folder: true, Name: path(70)}}},
	)
	s := mustCompile(t, in)
	for _, tc := range []struct {
		folder    int
		level     Level
		rule, dir string
	}{
		{2, None, "", ""},
		{3, Use, "deep-3", path(3)},
		{19, Use, "deep-3", path(3)},
		{20, Own, "deep-20", path(20)},
		{25, Own, "deep-20", path(20)},
		{69, Own, "deep-20", path(20)},
		{70, Edit, "deep-70", path(70)},
		{80, Edit, "deep-70", path(70)},
	} {
		d := check(t, s, "alice@example.com", "use", "app/x", path(tc.folder), "")
		got := d.Contributions[0]
		if got.Group != "finance" || got.Level != tc.level || got.Source.Rule != tc.rule || got.Source.Folder != tc.dir {
			t.Errorf("an app in a folder %d deep: finance gives %s from %+v, want %s from %s", tc.folder, got.Level, got.Source, tc.level, tc.rule)
		}
		f := check(t, s, "alice@example.com", "use", "appfolder/"+path(tc.folder), "", "")
		if got := f.Contributions[0]; got.Level != tc.level || got.Source.Rule != tc.rule {
			t.Errorf("the folder %d deep: finance gives %s from %+v, want %s from %s", tc.folder, got.Level, got.Source, tc.level, tc.rule)
		}
	}
}

func TestEnvironments(t *testing.T) {
	s := mustCompile(t, workedExample())
	// Override in production: Use; development inherits the rule's Edit.
	if d := check(t, s, "olga@example.com", "write", "resource/ledger-db", "", "production"); d.Allowed || d.Level != Use || d.Source.Environment != "production" {
		t.Errorf("production override: %+v", d)
	}
	if d := check(t, s, "olga@example.com", "write", "resource/ledger-db", "", "development"); !d.Allowed || d.Level != Edit {
		t.Errorf("development inherits: %+v", d)
	}
	if d := check(t, s, "olga@example.com", "write", "resource/ledger-db", "", ""); !d.Allowed {
		t.Errorf("no environment: no override: %+v", d)
	}
	// Read-only: mutating actions denied to everyone, Admin included; reading, running, exporting and resources unaffected.
	for _, a := range []struct{ action, target string }{{"edit", "app/a"}, {"release", "app/a"}, {"delete", "app/a"}, {"share", "app/a"},
		{"edit", "workflow/w"}, {"create", "appfolder/f"}, {"manage", "appfolder/f"}, {"create-folder", "appfolder/f"}, {"edit", "querylibrary"}} {
		if d := check(t, s, "root@example.com", a.action, a.target, "", "production"); d.Allowed || d.Reason != ReasonReadOnlyEnvironment {
			t.Errorf("Admin %s %s in production: %+v", a.action, a.target, d)
		}
	}
	for _, a := range []struct{ action, target string }{{"use", "app/a"}, {"export", "app/a"}, {"run", "workflow/w"}, {"configure", "resource/r"}, {"use", "querylibrary"}} {
		if d := check(t, s, "root@example.com", a.action, a.target, "", "production"); !d.Allowed {
			t.Errorf("Admin %s %s in production must be allowed: %+v", a.action, a.target, d)
		}
	}
	// An undeclared environment is invalid input, not a denial.
	tg, _ := ParseTarget("app/a")
	_, err := s.Check(Request{User: "bob@example.com", Action: "use", Target: tg, Environment: "qa"})
	var invalidErr *InvalidInputError
	if !errors.As(err, &invalidErr) || invalidErr.Reason != ReasonUnknownEnvironment {
		t.Errorf("unknown environment: %v", err)
	}
}

func TestInvalidInput(t *testing.T) {
	s := mustCompile(t, workedExample())
	for _, target := range []string{"spaceship/x", "app/", "app/a/b", "appfolder/", "querylibrary/x", ""} {
		if _, err := ParseTarget(target); err == nil {
			t.Errorf("ParseTarget(%q) accepted", target)
		}
	}
	tg, _ := ParseTarget("app/a")
	var e *InvalidInputError
	if _, err := s.Check(Request{User: "bob@example.com", Action: "fly", Target: tg}); !errors.As(err, &e) || e.Reason != ReasonUnknownAction {
		t.Errorf("unknown action: %v", err)
	}
	g, _ := ParseTarget("group/nope")
	if _, err := s.Check(Request{User: "bob@example.com", Action: "manage-members", Target: g}); !errors.As(err, &e) || e.Reason != ReasonUnknownTarget {
		t.Errorf("unknown group: %v", err)
	}
	if _, err := s.Check(Request{Action: "use", Target: tg}); !errors.As(err, &e) || e.Reason != ReasonInvalidUser {
		t.Errorf("no user: %v", err)
	}
}

func TestMembership(t *testing.T) {
	in := workedExample()
	in.SSO = SSO{RoleMappings: []RoleMapping{{IdPGroup: "finance-idp", Group: "finance"}}}
	s := mustCompile(t, in)
	if d := check(t, s, "ALICE@Example.COM", "edit", "app/ledger", "finance", ""); !d.Allowed || d.Membership != MemberListed {
		t.Errorf("emails are case-insensitive: %+v", d)
	}
	if d := check(t, s, "new@example.com", "edit", "workflow/w", "", "", "ops-team"); !d.Allowed || d.Membership != MemberIdP || d.Group != "ops" {
		t.Errorf("a group's idpGroups: %+v", d)
	}
	if d := check(t, s, "new@example.com", "edit", "app/ledger", "finance", "", "finance-idp"); !d.Allowed || d.Group != "finance" {
		t.Errorf("the Space's role mappings: %+v", d)
	}
	if d := check(t, s, "new@example.com", "use", "app/ledger", "", "", "unmapped"); d.Reason != ReasonNotAMember {
		t.Errorf("an unmapped IdP group: %+v", d)
	}
	in.SSO.RoleMappings = append(in.SSO.RoleMappings, RoleMapping{IdPGroup: "staff", Group: "all-users"})
	s = mustCompile(t, in)
	if d := check(t, s, "new@example.com", "use", "querylibrary", "", "", "staff"); d.Membership != MemberIdP || fmt.Sprint(d.Groups) != "[all-users]" {
		t.Errorf("a role mapping to AllUsers admits the IdP group's users, into AllUsers only: %+v", d)
	}
	in.SSO.JIT, in.SSO.AllowedDomains = true, []string{"example.com"}
	s = mustCompile(t, in)
	if d := check(t, s, "new@example.com", "use", "app/ledger", "", ""); d.Membership != MemberJIT || d.Reason != ReasonInsufficientLevel {
		t.Errorf("JIT admits the domain, into AllUsers only: %+v", d)
	}
	if d := check(t, s, "new@elsewhere.org", "use", "app/ledger", "", ""); d.Reason != ReasonNotAMember {
		t.Errorf("JIT refuses other domains: %+v", d)
	}
	in.SSO.AllowedDomains = nil
	s = mustCompile(t, in)
	if d := check(t, s, "new@elsewhere.org", "use", "app/ledger", "", ""); d.Membership != MemberJIT {
		t.Errorf("JIT with no domains admits any: %+v", d)
	}
}

func TestCompileProblemsLeaveTheRestCompiled(t *testing.T) {
	in := workedExample()
	in.Groups = append(in.Groups, Group{Name: "viewers-too", Builtin: Viewer, Members: []Member{{Email: "v@example.com"}}})
	in.Rules = append(in.Rules,
		Rule{Name: "ghost", Group: "nobody", Level: Use, Targets: []RuleTarget{{Kind: App, Name: "a"}}},
		Rule{Name: "qa-db", Group: "ops", Level: Use, Targets: []RuleTarget{{Kind: Resource, Name: "db", Environments: []EnvironmentLevel{{Name: "qa", Level: Use}}}}},
	)
	s, problems := Compile(in)
	want := map[string]string{
		"AccessRule/ghost":            "spec.group " + ReasonGroupNotFound,
		"AccessRule/qa-db":            "spec.targets[0].environments[0].name " + ReasonUnknownEnvironment,
		"PermissionGroup/viewers-too": "spec.builtin " + ReasonDuplicateBuiltin,
	}
	got := map[string]string{}
	for _, p := range problems {
		got[p.Object.Kind+"/"+p.Object.Name] = p.Field + " " + p.Reason
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("problems = %v, want %v", got, want)
	}
	if st := s.Stats(); st.Groups != 6 || st.Rules != 6 {
		t.Errorf("the rest compiles: %+v", st)
	}
	if d := check(t, s, "alice@example.com", "edit", "app/ledger", "finance", ""); !d.Allowed {
		t.Error("good rules still answer")
	}
	if d := check(t, s, "v@example.com", "use", "app/a", "", ""); d.Reason != ReasonNotAMember {
		t.Errorf("the duplicate builtin group is left out: %+v", d)
	}
}

func TestRevision(t *testing.T) {
	a := mustCompile(t, workedExample())
	in := workedExample()
	in.Groups[0], in.Groups[1] = in.Groups[1], in.Groups[0]
	in.Rules[0], in.Rules[3] = in.Rules[3], in.Rules[0]
	if b := mustCompile(t, in); b.Revision() != a.Revision() {
		t.Error("the revision depends on the order of the input")
	}
	in.Rules[0].Level = Use // ops-runbooks, Own before
	if c := mustCompile(t, in); c.Revision() == a.Revision() {
		t.Error("a changed rule must change the revision")
	}
	if len(a.Revision()) != 64 {
		t.Errorf("revision %q is not a sha256", a.Revision())
	}
}

func TestWhoCanPermissionsAndDiff(t *testing.T) {
	s := mustCompile(t, workedExample())
	tg, _ := ParseTarget("app/ledger")
	res, err := s.WhoCan(Request{Action: "edit", Target: tg, Folder: "finance/reports"})
	if err != nil {
		t.Fatal(err)
	}
	var groups []string
	for _, g := range res.Grants {
		groups = append(groups, g.Group)
	}
	if fmt.Sprint(groups) != "[admin editor finance]" {
		t.Errorf("who-can edit app/ledger in finance/reports = %v", groups)
	}
	res, _ = s.WhoCan(Request{Action: "edit", Target: tg, Environment: "production"})
	if len(res.Grants) != 0 || res.Denied != ReasonReadOnlyEnvironment {
		t.Errorf("nobody edits in a read-only environment: %+v", res)
	}

	p, err := s.Permissions("olga@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(p.Groups) != "[ops all-users]" || p.QueryLibrary != Use || fmt.Sprint(p.GroupAdminOf) != "[ops]" {
		t.Errorf("permissions: %+v", p)
	}
	found := false
	for _, perm := range p.Permissions {
		if perm.Target.String() == "resource/ledger-db" && perm.Level == Edit && perm.Source.Rule == "ops-db" {
			found = true
		}
	}
	if !found {
		t.Errorf("permissions lack resource/ledger-db Edit from ops-db: %+v", p.Permissions)
	}

	in := workedExample()
	in.Rules[1].Level = Edit                                                              // finance-payouts Use -> Edit
	in.Groups[0].Members = nil                                                            // alice leaves finance
	in.Groups[1].Members = append(in.Groups[1].Members, Member{Email: "new@example.com"}) // a new Viewer
	d := Diff(s, mustCompile(t, in))
	lines := map[string]bool{}
	for _, c := range d.Changes {
		lines[c.String()] = true
	}
	for _, want := range []string{
		"- user:alice@example.com appfolder/finance: Edit -> None -create -use",
		"+ user:new@example.com app/*: None -> Use +use",
	} {
		if !lines[want] {
			t.Errorf("diff lacks %q; got %v", want, d.Changes)
		}
	}
	if d := Diff(s, s); len(d.Changes) != 0 {
		t.Errorf("no change, no diff: %v", d.Changes)
	}
}
