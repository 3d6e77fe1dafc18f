package platform

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/governor-dev/governor/internal/access"
)

// The fixtures below are instance states as a real Retool instance answered
// them in terraform-provider-retool's recordings, written out by hand.

// recordedFolders is the folder tree of recording TestAccFoldersDataSource:
// per type a system "root" without a parent, an "archive" under the app and
// workflow roots, a "personalRoot" without a parent holding a user's drafts
// (and the trash inside them), and a root of folder_type "file".
func recordedFolders() []Folder {
	return []Folder{
		{ID: "app_1", Name: "root", Type: "app", System: true},
		{ID: "app_10", Name: "Example Subfolder", ParentID: "app_9", Type: "app"},
		{ID: "app_2", Name: "archive", ParentID: "app_1", Type: "app", System: true},
		{ID: "app_3", Name: "personalRoot", Type: "app", System: true},
		{ID: "app_7", Name: "(1) Luke Wright's Drafts", ParentID: "app_3", Type: "app", System: true},
		{ID: "app_8", Name: "(1) Luke Wright's Trash", ParentID: "app_7", Type: "app", System: true},
		{ID: "app_9", Name: "Terraform Example App Folder", ParentID: "app_1", Type: "app"},
		{ID: "file_6", Name: "root", Type: "file", System: true},
		{ID: "resource_1", Name: "root", Type: "resource", System: true},
		{ID: "resource_2", Name: "Terraform Example Resource Folder", ParentID: "resource_1", Type: "resource"},
		{ID: "workflow_11", Name: "Terraform Example Workflow Folder", ParentID: "workflow_4", Type: "workflow"},
		{ID: "workflow_4", Name: "root", Type: "workflow", System: true},
		{ID: "workflow_5", Name: "archive", ParentID: "workflow_4", Type: "workflow", System: true},
	}
}

// recordedGroups are the default groups of recording TestAccGroupsDataSource,
// with their levels and flags as that instance held them (All Users: edit,
// own, edit, edit and account details, in that organisation).
func recordedGroups() []ObservedGroup {
	luke := []ObservedMember{{UserID: "user_37eb84a07b57447cb1dad0c17842b5d7", Email: "lukew@retool.com"}}
	return []ObservedGroup{
		{ID: 1, Name: "admin", Members: luke, Grants: map[ObjectRef]string{}, Settings: GroupSettings{
			UniversalApp: "own", UniversalResource: "own", UniversalWorkflow: "own", UniversalQueryLibrary: "edit",
			UserList: true, AuditLog: true, UnpublishedRelease: true, UsageAnalytics: true, Theme: true, AccountDetails: true}},
		{ID: 2, Name: "editor", Grants: map[ObjectRef]string{}, Settings: GroupSettings{
			UniversalApp: "edit", UniversalResource: "own", UniversalWorkflow: "edit", UniversalQueryLibrary: "edit",
			UserList: true, UnpublishedRelease: true, AccountDetails: true}},
		{ID: 3, Name: "viewer", Grants: map[ObjectRef]string{}, Settings: GroupSettings{
			UniversalApp: "use", UniversalResource: "use", UniversalWorkflow: "use", UniversalQueryLibrary: "use",
			UserList: true, AccountDetails: true}},
		{ID: 4, Name: "All Users", Members: luke, Grants: map[ObjectRef]string{}, Settings: GroupSettings{
			UniversalApp: "edit", UniversalResource: "own", UniversalWorkflow: "edit", UniversalQueryLibrary: "edit",
			AccountDetails: true}},
	}
}

// recordedInstance is the recorded state with the users of recording
// TestAccUsersDataSource that the tests name: the instance's one active
// user and two inactive ones.
func recordedInstance() Observed {
	return Observed{
		Groups:  recordedGroups(),
		Folders: recordedFolders(),
		Users: map[string]string{
			"lukew@retool.com":                        "user_37eb84a07b57447cb1dad0c17842b5d7",
			"tf-acc-test-user-1762820394@example.com": "user_e7d2cea90af0415eb04f332d0ef7cd13",
			"tf-acc-test-user-1762820456@example.com": "user_c2618b5723a345d78ffff7bdbb25262a",
		},
		Inactive: map[string]bool{
			"tf-acc-test-user-1762820394@example.com": true,
			"tf-acc-test-user-1762820456@example.com": true,
		},
		Apps:       map[string]string{"payouts": "a1b2c3d4-0000-4000-8000-000000000001"},
		AppFolders: map[string]string{"payouts": "app_10"},
		Resources:  map[string]string{"ledger-db": "r1b2c3d4-0000-4000-8000-000000000002"},
	}
}

const (
	exampleFolder = "Terraform Example App Folder"
	exampleSub    = exampleFolder + "/Example Subfolder"
)

// compileSpace compiles a Space with one custom group "team" (member
// lukew@retool.com) and the given rules and groups.
func compileSpace(t *testing.T, team access.Group, rules []access.Rule, more ...access.Group) *access.Snapshot {
	t.Helper()
	team.Name = "team"
	if team.DisplayName == "" {
		team.DisplayName = "Team"
	}
	if team.Members == nil {
		team.Members = []access.Member{{Email: "lukew@retool.com"}}
	}
	snap, problems := access.Compile(access.SpaceInput{
		Name:         "payments",
		Environments: []access.Environment{{Name: "development"}, {Name: "production", ReadOnly: true}},
		Groups:       append([]access.Group{team}, more...),
		Rules:        rules,
	})
	if len(problems) > 0 {
		t.Fatalf("compile: %v", problems)
	}
	return snap
}

func folderRule(name string, level access.Level, kind access.Kind, path string) access.Rule {
	return access.Rule{Name: name, Group: "team", Level: level, Targets: []access.RuleTarget{{Kind: kind, Folder: true, Name: path}}}
}

// withTeam adds the group "Team" to o, as Governor created it (id 20).
func withTeam(o Observed, s GroupSettings, grants map[ObjectRef]string) (Observed, Options) {
	o.Groups = append(o.Groups, ObservedGroup{ID: 20, Name: "Team", Settings: s, Grants: grants,
		Members: []ObservedMember{{UserID: "user_37eb84a07b57447cb1dad0c17842b5d7", Email: "lukew@retool.com"}}})
	return o, Options{Ownership: Ownership{CreatedGroups: map[int64]bool{20: true}}}
}

var noneSettings = GroupSettings{UniversalApp: "none", UniversalWorkflow: "none", UniversalResource: "none", UniversalQueryLibrary: "none"}

func planText(p Plan) string {
	var buf bytes.Buffer
	p.Format(&buf)
	return buf.String()
}

func TestFolderIndexOnTheRecordedTree(t *testing.T) {
	ix := NewFolderIndex(recordedFolders())
	for typ, want := range map[string]string{"app": "app_1", "workflow": "workflow_4", "resource": "resource_1", "file": "file_6"} {
		if got := ix.Root(typ); got != want {
			t.Errorf("root of %s = %q, want %q (personalRoot is never the root)", typ, got, want)
		}
	}
	for path, want := range map[string]string{exampleFolder: "app_9", exampleSub: "app_10"} {
		if id, ok := ix.Lookup("app", path); !ok || id != want {
			t.Errorf("app folder %q = %q %v, want %s", path, id, ok, want)
		}
	}
	if id, ok := ix.Lookup("workflow", "Terraform Example Workflow Folder"); !ok || id != "workflow_11" {
		t.Errorf("workflow folder = %q %v", id, ok)
	}
	for _, path := range []string{"archive", "personalRoot", "(1) Luke Wright's Drafts", "(1) Luke Wright's Drafts/(1) Luke Wright's Trash"} {
		if id, ok := ix.Lookup("app", path); ok {
			t.Errorf("system folder path %q resolves to %s", path, id)
		}
	}
	if got := strings.Join(ix.Paths("app"), "|"); got != exampleFolder+"|"+exampleSub {
		t.Errorf("app paths = %q: team folders only, parents first", got)
	}
	// A user's folder in their drafts, or in the archive, is never a path.
	folders := append(recordedFolders(),
		Folder{ID: "app_20", Name: "finance", ParentID: "app_7", Type: "app"},
		Folder{ID: "app_21", Name: "old", ParentID: "app_2", Type: "app"},
		Folder{ID: "app_22", Name: "lost", ParentID: "app_99", Type: "app"})
	ix = NewFolderIndex(folders)
	for _, path := range []string{"finance", "old", "archive/old", "lost"} {
		if id, ok := ix.Lookup("app", path); ok {
			t.Errorf("%q resolves to %s outside the root", path, id)
		}
	}
	// A rule on "finance" creates it under the root, not beside the drafts.
	snap := compileSpace(t, access.Group{}, []access.Rule{folderRule("fin", access.Edit, access.App, "finance")})
	o := recordedInstance()
	o.Folders = folders
	p := NewPlan(desired(t, snap, "development", false), o, Options{})
	if len(p.Ops) == 0 || p.Ops[0].Kind != OpCreateFolder || p.Ops[0].FolderPath != "finance" {
		t.Fatalf("want finance created under the root:\n%s", planText(p))
	}
}

func TestSubFolderGrants(t *testing.T) {
	team := access.Group{}
	top := folderRule("top", access.Edit, access.App, exampleFolder)
	cases := map[string]struct {
		team     *access.Group
		rules    []access.Rule
		mutate   func(*Desired)
		observed func() (Observed, Options)
		// grants are the plan's grant ops as "path=level rule inherited".
		grants []string
		notExp []string
	}{
		"a granted folder's sub-folder gets its level": {
			rules:    []access.Rule{top},
			observed: func() (Observed, Options) { return withTeam(recordedInstance(), noneSettings, map[ObjectRef]string{}) },
			grants:   []string{"app_9=edit top false", "app_10=edit top true"},
		},
		"a closer rule decides the sub-folder": {
			rules:    []access.Rule{top, folderRule("sub", access.Use, access.App, exampleSub)},
			observed: func() (Observed, Options) { return withTeam(recordedInstance(), noneSettings, map[ObjectRef]string{}) },
			grants:   []string{"app_9=edit top false", "app_10=use sub false"},
			// The sub-folder's contents hold use under either behaviour; the
			// sub-folder itself gets its parent's edit where folder grants
			// reach sub-folders.
			notExp: []string{`AccessRule sub: app folder "` + exampleSub + `": the platform keeps the highest of a group's levels, and on an instance that passes folder grants down to sub-folders, rule top's grant on folder "` +
				exampleFolder + `" reaches it: in development, group team has use in the model and edit in the instance`},
		},
		"no sub-folder grant where the group's universal level is as high": {
			team:     &access.Group{Universal: access.Universal{Apps: access.Edit}},
			rules:    []access.Rule{top},
			observed: func() (Observed, Options) { return withTeam(recordedInstance(), noneSettings, map[ObjectRef]string{}) },
			grants:   []string{"app_9=edit top false"},
		},
		"at rest nothing is written": {
			rules: []access.Rule{top},
			observed: func() (Observed, Options) {
				return withTeam(recordedInstance(), noneSettings, map[ObjectRef]string{{Type: ObjectFolder, ID: "app_9"}: "edit", {Type: ObjectFolder, ID: "app_10"}: "edit"})
			},
		},
		"a sub-folder that appears later is granted on the next pass": {
			rules: []access.Rule{top},
			observed: func() (Observed, Options) {
				o, opts := withTeam(recordedInstance(), noneSettings, map[ObjectRef]string{{Type: ObjectFolder, ID: "app_9"}: "edit", {Type: ObjectFolder, ID: "app_10"}: "edit"})
				o.Folders = append(o.Folders, Folder{ID: "app_30", Name: "Q3", ParentID: "app_10", Type: "app"})
				return o, opts
			},
			grants: []string{"app_30=edit top true"},
		},
		"folders the plan creates between two rules get the upper rule's level": {
			rules: []access.Rule{folderRule("a", access.Edit, access.App, "a"), folderRule("abc", access.Use, access.App, "a/b/c")},
			observed: func() (Observed, Options) {
				return withTeam(recordedInstance(), noneSettings, map[ObjectRef]string{})
			},
			grants: []string{"new:a=edit a false", "new:a/b/c=use abc false", "new:a/b=edit a true"},
			notExp: []string{`AccessRule abc: app folder "a/b/c": the platform keeps the highest of a group's levels, and on an instance that passes folder grants down to sub-folders, rule a's grant on folder "a" reaches it: in development, group team has use in the model and edit in the instance`},
		},
		"a None folder level beneath a granted folder is not expressible and gets no grant": {
			rules: []access.Rule{top},
			// Rules take Use, Edit or Own; a None reaches the projection
			// through environment overrides, which folders do not take.
			// The plan holds to the rule all the same.
			mutate: func(d *Desired) {
				for i := range d.Groups {
					if d.Groups[i].Name == "team" {
						d.Groups[i].Grants = append(d.Groups[i].Grants, Grant{Type: ObjectFolder, Kind: access.App, Name: exampleSub, Level: "none", Rule: "hide"})
					}
				}
			},
			observed: func() (Observed, Options) { return withTeam(recordedInstance(), noneSettings, map[ObjectRef]string{}) },
			grants:   []string{"app_9=edit top false"},
			notExp: []string{`AccessRule hide: app folder "` + exampleSub + `": the platform has no deny, and on an instance that passes folder grants down to sub-folders, rule top's grant on folder "` +
				exampleFolder + `" reaches it: in development, group team has none in the model and edit in the instance`},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := team
			if tc.team != nil {
				g = *tc.team
			}
			snap := compileSpace(t, g, tc.rules)
			o, opts := tc.observed()
			d := desired(t, snap, "development", false)
			if tc.mutate != nil {
				tc.mutate(&d)
			}
			p := NewPlan(d, o, opts)
			var grants []string
			inherited := map[string]bool{}
			for _, g := range p.Grants {
				key := g.Object.ID
				if key == "" {
					key = "new:" + g.FolderPath
				}
				inherited[key] = g.Inherited
			}
			for _, op := range p.Ops {
				if op.Kind != OpGrant {
					continue
				}
				key := op.Object.ID
				if key == "" {
					key = "new:" + op.FolderPath
				}
				grants = append(grants, key+"="+op.Level+" "+op.Rule+" "+map[bool]string{true: "true", false: "false"}[inherited[key]])
			}
			if strings.Join(grants, ",") != strings.Join(tc.grants, ",") {
				t.Errorf("grants = %q, want %q\n%s", grants, tc.grants, planText(p))
			}
			if strings.Join(p.NotExpressible, "\n") != strings.Join(tc.notExp, "\n") {
				t.Errorf("not expressible = %q\nwant %q", p.NotExpressible, tc.notExp)
			}
			if len(p.NotExpressibleRules) != len(tc.notExp) {
				t.Errorf("structured not expressible = %+v", p.NotExpressibleRules)
			}
			if len(p.Drift) > 0 {
				t.Errorf("no drift expected: %q", p.Drift)
			}
			for _, op := range p.Ops {
				if op.InheritedFrom != "" && !strings.Contains(op.String(), fmt.Sprintf("(rule %s, carried down from folder %q)", op.Rule, op.InheritedFrom)) {
					t.Errorf("a sub-folder's grant names the folder rule it carries: %s", op)
				}
			}
		})
	}
}

func TestNotExpressible(t *testing.T) {
	ledger := access.Rule{Name: "ledger", Group: "team", Level: access.Own, Targets: []access.RuleTarget{
		{Kind: access.Resource, Name: "ledger-db", Environments: []access.EnvironmentLevel{{Name: "production", Level: access.None}}}}}
	payroll := access.Rule{Name: "payroll", Group: "team", Level: access.Use, Targets: []access.RuleTarget{{Kind: access.Workflow, Name: "payroll"}}}
	cases := map[string]struct {
		team     access.Group
		rules    []access.Rule
		settings GroupSettings
		env      string
		more     []access.Group
		held     map[ObjectRef]string
		inFolder bool
		want     []NotExpressible
		ops      string
	}{
		"a None override beneath the group's universal level": {
			team: access.Group{Universal: access.Universal{Resources: access.Use}}, rules: []access.Rule{ledger},
			settings: GroupSettings{UniversalApp: "none", UniversalWorkflow: "none", UniversalResource: "use", UniversalQueryLibrary: "none"},
			env:      "production",
			want: []NotExpressible{{Rule: "ledger", Group: "team", Target: `resource "ledger-db"`, Environment: "production", Level: "none", InstanceLevel: "use",
				Because: "the platform has no deny, and the group's universal level reaches it"}},
		},
		"a None override in a folder the group is granted": {
			rules:    []access.Rule{ledger, {Name: "books", Group: "team", Level: access.Edit, Targets: []access.RuleTarget{{Kind: access.Resource, Folder: true, Name: "Terraform Example Resource Folder"}}}},
			settings: noneSettings, env: "production", inFolder: true,
			held: map[ObjectRef]string{{Type: ObjectFolder, ID: "resource_2"}: "edit"},
			want: []NotExpressible{{Rule: "ledger", Group: "team", Target: `resource "ledger-db"`, Environment: "production", Level: "none", InstanceLevel: "edit",
				Because: `the platform has no deny, and rule books's grant on folder "Terraform Example Resource Folder", which holds it, reaches it`}},
		},
		"an object rule below the group's folder grant": {
			rules: []access.Rule{{Name: "ledger-use", Group: "team", Level: access.Use, Targets: []access.RuleTarget{{Kind: access.Resource, Name: "ledger-db"}}},
				{Name: "books", Group: "team", Level: access.Edit, Targets: []access.RuleTarget{{Kind: access.Resource, Folder: true, Name: "Terraform Example Resource Folder"}}}},
			settings: noneSettings, env: "development", inFolder: true,
			held: map[ObjectRef]string{{Type: ObjectFolder, ID: "resource_2"}: "edit", {Type: ObjectResource, ID: "r1b2c3d4-0000-4000-8000-000000000002"}: "use"},
			want: []NotExpressible{{Rule: "ledger-use", Group: "team", Target: `resource "ledger-db"`, Environment: "development", Level: "use", InstanceLevel: "edit",
				Because: `the platform keeps the highest of a group's levels, and rule books's grant on folder "Terraform Example Resource Folder", which holds it, reaches it`}},
		},
		"a folder rule below the group's universal level": {
			team:     access.Group{Universal: access.Universal{Apps: access.Edit}},
			rules:    []access.Rule{folderRule("top", access.Use, access.App, exampleFolder)},
			settings: GroupSettings{UniversalApp: "edit", UniversalWorkflow: "none", UniversalResource: "none", UniversalQueryLibrary: "none"},
			env:      "development",
			// The sub-folder gets no grant of its own: the universal level
			// is higher than the rule's anyway.
			held: map[ObjectRef]string{{Type: ObjectFolder, ID: "app_9"}: "use"},
			want: []NotExpressible{{Rule: "top", Group: "team", Target: `app folder "` + exampleFolder + `"`, Environment: "development", Level: "use", InstanceLevel: "edit",
				Because: "the platform keeps the highest of a group's levels, and the group's universal level reaches it"}},
		},
		"a rule on the Admin group lowers nothing, in the model or the instance": {
			rules:    []access.Rule{{Name: "admin-use", Group: "admin", Level: access.Use, Targets: []access.RuleTarget{{Kind: access.App, Name: "payouts"}}}},
			more:     []access.Group{{Name: "admin", Builtin: access.Admin}},
			settings: noneSettings, env: "development",
			ops: "Grant",
		},
		"a None override with nothing broader is held by revoking the grant": {
			rules: []access.Rule{ledger}, settings: noneSettings, env: "production",
			held: map[ObjectRef]string{{Type: ObjectResource, ID: "r1b2c3d4-0000-4000-8000-000000000002"}: "own"},
			ops:  "Revoke",
		},
		"a single workflow: the instance grants the universal level instead": {
			rules: []access.Rule{payroll}, settings: noneSettings, env: "development",
			want: []NotExpressible{{Rule: "payroll", Group: "team", Target: `workflow "payroll"`, Environment: "development", Level: "use", InstanceLevel: "none",
				Because: "the platform's API grants no single workflow (grant its folder or a universal level instead), so the group has its universal workflow level there"}},
		},
		"a single workflow at the group's universal level holds": {
			team:  access.Group{Universal: access.Universal{Workflows: access.Use}},
			rules: []access.Rule{payroll}, env: "development",
			settings: GroupSettings{UniversalApp: "none", UniversalWorkflow: "use", UniversalResource: "none", UniversalQueryLibrary: "none"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			snap := compileSpace(t, tc.team, tc.rules, tc.more...)
			held := tc.held
			if held == nil {
				held = map[ObjectRef]string{}
			}
			o, opts := withTeam(recordedInstance(), tc.settings, held)
			if tc.inFolder {
				o.ResourceFolders = map[string]string{"ledger-db": "resource_2"}
			}
			p := NewPlan(desired(t, snap, tc.env, tc.env == "production"), o, opts)
			if len(p.NotExpressibleRules) != len(tc.want) {
				t.Fatalf("not expressible = %+v, want %+v", p.NotExpressibleRules, tc.want)
			}
			for i := range tc.want {
				if p.NotExpressibleRules[i] != tc.want[i] {
					t.Errorf("not expressible:\n got %+v\nwant %+v", p.NotExpressibleRules[i], tc.want[i])
				}
			}
			var ops []string
			for _, op := range p.Ops {
				if op.Kind != OpSetLock {
					ops = append(ops, string(op.Kind))
				}
			}
			if strings.Join(ops, ",") != tc.ops {
				t.Errorf("ops = %v, want %s\n%s", ops, tc.ops, planText(p))
			}
		})
	}
}

// Retool's default groups and All Users hold what the organisation gave
// them; Governor never lowers them in Additive mode.
func TestDefaultGroupsAreNotLowered(t *testing.T) {
	allUsers := access.Group{Name: "all-users", DisplayName: "All users", Builtin: access.AllUsers}
	viewer := access.Group{Name: "viewer", Builtin: access.Viewer, Members: []access.Member{{Email: "lukew@retool.com"}}}
	raise := allUsers
	raise.Additional.UserList = true
	cases := map[string]struct {
		groups []access.Group
		opts   Options
		ops    []string
		update func(*testing.T, *SettingsUpdate)
		drift  int
	}{
		"additive: the first sync of default groups takes nothing from All Users": {
			groups: []access.Group{allUsers, viewer}, ops: []string{"AddMembers"}, drift: 5,
		},
		"additive: a flag the model adds is written, nothing is lowered": {
			groups: []access.Group{raise}, ops: []string{"UpdateGroup"}, drift: 5,
			update: func(t *testing.T, u *SettingsUpdate) {
				if u.UserList == nil || !*u.UserList || u.UniversalApp != nil || u.AccountDetails != nil {
					t.Errorf("update = %+v, want user_list_access only", u)
				}
			},
		},
		"authoritative lowers All Users to the model": {
			groups: []access.Group{allUsers}, opts: Options{Mode: Authoritative}, ops: []string{"UpdateGroup"},
			update: func(t *testing.T, u *SettingsUpdate) {
				if u.UniversalApp == nil || *u.UniversalApp != "none" || u.AccountDetails == nil || *u.AccountDetails {
					t.Errorf("update = %+v", u)
				}
			},
		},
		"additive lowers All Users in a Space Governor created: its default groups are Governor's": {
			groups: []access.Group{allUsers}, opts: Options{Mode: Additive, Ownership: Ownership{CreatedGroups: map[int64]bool{4: true}}},
			ops: []string{"UpdateGroup"},
			update: func(t *testing.T, u *SettingsUpdate) {
				if u.UniversalApp == nil || *u.UniversalApp != "none" || u.AccountDetails == nil || *u.AccountDetails {
					t.Errorf("update = %+v", u)
				}
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			snap := compileSpace(t, access.Group{}, nil, tc.groups...)
			d := desired(t, snap, "development", false)
			groups := d.Groups[:0]
			for _, g := range d.Groups {
				if g.Name != "team" { // only the default groups here
					groups = append(groups, g)
				}
			}
			d.Groups = groups
			p := NewPlan(d, recordedInstance(), tc.opts)
			if got := strings.Join(kinds(p), ","); got != strings.Join(tc.ops, ",") {
				t.Fatalf("ops = %s, want %s\n%s", got, strings.Join(tc.ops, ","), planText(p))
			}
			if tc.update != nil {
				tc.update(t, p.Ops[0].Update)
			}
			var allUsersDrift int
			for _, dr := range p.Drift {
				if strings.HasPrefix(dr, `group "All Users": `) {
					allUsersDrift++
					if !strings.Contains(dr, "more than the model") && !strings.Contains(dr, "the model does not") {
						t.Errorf("drift %q does not say the instance grants more", dr)
					}
				}
			}
			if allUsersDrift != tc.drift {
				t.Errorf("All Users drift = %d, want %d: %q", allUsersDrift, tc.drift, p.Drift)
			}
		})
	}
}

func TestMembersInTheInstance(t *testing.T) {
	members := []access.Member{{Email: "lukew@retool.com"}, {Email: "tf-acc-test-user-1762820394@example.com"}, {Email: "late@example.com"}, {Email: "open@example.com"}}
	snap := compileSpace(t, access.Group{Members: members}, nil)
	d := desired(t, snap, "development", false)
	base := func() Observed {
		o := recordedInstance()
		o.ExpiredInvites = map[string]bool{"late@example.com": true}
		o.Invited = map[string]bool{"open@example.com": true}
		return o
	}
	t.Run("pending", func(t *testing.T) {
		p := NewPlan(d, base(), Options{})
		create := p.Ops[0]
		if create.Kind != OpCreateGroup || len(create.Members) != 1 || create.Members[0].Email != "lukew@retool.com" {
			t.Fatalf("only the active user is added: %+v", p.Ops)
		}
		want := []string{
			"group team: member late@example.com has no account, and the invitation expired unclaimed (invitations last 7 days; spec.platform.inviteMissingMembers sends a new one)",
			"group team: member open@example.com is invited and has not signed in yet",
			"group team: member tf-acc-test-user-1762820394@example.com is deactivated in the instance",
		}
		if strings.Join(p.Pending, "\n") != strings.Join(want, "\n") {
			t.Errorf("pending = %q\nwant %q", p.Pending, want)
		}
	})
	t.Run("an expired invitation is sent again", func(t *testing.T) {
		p := NewPlan(d, base(), Options{InviteMissingMembers: true})
		var invited []string
		for _, op := range p.Ops {
			if op.Kind == OpInvite {
				invited = append(invited, op.Member.Email)
			}
		}
		if strings.Join(invited, ",") != "late@example.com" {
			t.Errorf("invited %v, want late@example.com only (open@ is invited already)", invited)
		}
	})
	t.Run("a deactivated member already in the group stays and is pending", func(t *testing.T) {
		o, opts := withTeam(base(), noneSettings, map[ObjectRef]string{})
		o.Groups[len(o.Groups)-1].Members = append(o.Groups[len(o.Groups)-1].Members,
			ObservedMember{UserID: "user_e7d2cea90af0415eb04f332d0ef7cd13", Email: "tf-acc-test-user-1762820394@example.com"})
		opts.Mode = Authoritative
		p := NewPlan(d, o, opts)
		for _, op := range p.Ops {
			if op.Kind == OpAddMembers || op.Kind == OpRemoveMember {
				t.Errorf("unexpected %s", op)
			}
		}
	})
}

func TestUserGrants(t *testing.T) {
	snap := compileSpace(t, access.Group{}, nil)
	d := desired(t, snap, "development", false)
	o, opts := withTeam(recordedInstance(), noneSettings, map[ObjectRef]string{})
	o.UserGrants = []UserGrant{{UserID: "user_37eb84a07b57447cb1dad0c17842b5d7", Email: "lukew@retool.com", Object: ObjectRef{Type: ObjectApp, ID: "a1b2c3d4-0000-4000-8000-000000000001"}, Level: "own"}}
	p := NewPlan(d, o, opts)
	if len(p.Ops) != 0 || len(p.Drift) != 1 || p.Drift[0] != `user lukew@retool.com: own on app "payouts" (app/a1b2c3d4-0000-4000-8000-000000000001), granted to the user, not to a group; declared nowhere (only Authoritative mode revokes it)` {
		t.Errorf("additive reports a user's grant as drift: ops %v, drift %q", p.Ops, p.Drift)
	}
	opts.Mode = Authoritative
	p = NewPlan(d, o, opts)
	var revoked []Op
	for _, op := range p.Ops {
		if op.Kind == OpRevokeUserGrant {
			revoked = append(revoked, op)
		}
	}
	if len(revoked) != 1 || revoked[0].Member.UserID != "user_37eb84a07b57447cb1dad0c17842b5d7" || revoked[0].Object.ID != "a1b2c3d4-0000-4000-8000-000000000001" {
		t.Fatalf("authoritative revokes it: %v", p.Ops)
	}
	if s := revoked[0].String(); !strings.Contains(s, "/permissions/revoke") || !strings.Contains(s, "lukew@retool.com") {
		t.Errorf("op text %q", s)
	}
}
