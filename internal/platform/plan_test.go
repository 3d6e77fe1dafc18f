package platform

import (
	"bytes"
	"strings"
	"testing"

	"github.com/governor-dev/governor/internal/access"
)

// space is the Space the plan tests start from: a custom group with a
// folder rule, an app rule and a resource rule overridden in production, the
// built-in Admin group and a read-only production.
func space(t *testing.T, mutate ...func(*access.SpaceInput)) *access.Snapshot {
	t.Helper()
	in := access.SpaceInput{
		Name:         "payments",
		Environments: []access.Environment{{Name: "development"}, {Name: "production", ReadOnly: true}},
		Groups: []access.Group{
			{Name: "finance", DisplayName: "Finance", Members: []access.Member{{Email: "Alice@Example.com", GroupAdmin: true}, {Email: "bob@example.com"}},
				Universal: access.Universal{Resources: access.Use}, Additional: access.Additional{AuditLog: true}},
			{Name: "admin", Builtin: access.Admin, Members: []access.Member{{Email: "root@example.com"}}},
		},
		Rules: []access.Rule{
			{Name: "finance-folder", Group: "finance", Level: access.Edit, Targets: []access.RuleTarget{{Kind: access.App, Folder: true, Name: "finance/reports"}}},
			{Name: "ledger", Group: "finance", Level: access.Own, Targets: []access.RuleTarget{
				{Kind: access.App, Name: "ledger"},
				{Kind: access.Resource, Name: "ledger-db", Environments: []access.EnvironmentLevel{{Name: "production", Level: access.Use}}},
			}},
		},
	}
	for _, m := range mutate {
		m(&in)
	}
	snap, problems := access.Compile(in)
	if len(problems) > 0 {
		t.Fatalf("compile: %v", problems)
	}
	return snap
}

func desired(t *testing.T, snap *access.Snapshot, env string, readOnly bool) Desired {
	t.Helper()
	d, err := Project(snap, Environment{Name: env, ReadOnly: readOnly}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// instance is an instance holding Retool's default groups, some users, the
// app root folder with finance/ (but not finance/reports), the ledger app and
// the ledger-db resource.
func instance() Observed {
	return Observed{
		Groups: []ObservedGroup{
			{ID: 1, Name: "admin", Grants: map[ObjectRef]string{}},
			{ID: 2, Name: "editor", Grants: map[ObjectRef]string{}},
			{ID: 3, Name: "viewer", Grants: map[ObjectRef]string{}},
			{ID: 4, Name: "All Users", Grants: map[ObjectRef]string{}},
		},
		Users:     map[string]string{"alice@example.com": "user_a1", "bob@example.com": "user_b2", "root@example.com": "user_r0", "eve@example.com": "user_e5"},
		Folders:   []Folder{{ID: "app_1", Name: "root", Type: "app", System: true}, {ID: "app_7", Name: "finance", ParentID: "app_1", Type: "app"}},
		Apps:      map[string]string{"ledger": "0b0e3c9e-8d0e-4b8e-9a43-2f6c7d1e5a10"},
		Resources: map[string]string{"ledger-db": "res-uuid-1"},
	}
}

// converged is the instance after the development plan ran.
func converged() Observed {
	o := instance()
	o.Groups[0].Members = []ObservedMember{{UserID: "user_r0", Email: "root@example.com"}}
	o.Folders = append(o.Folders, Folder{ID: "app_8", Name: "reports", ParentID: "app_7", Type: "app"})
	o.Groups = append(o.Groups, ObservedGroup{ID: 10, Name: "Finance",
		Settings: GroupSettings{UniversalApp: "none", UniversalWorkflow: "none", UniversalResource: "use", UniversalQueryLibrary: "none", AuditLog: true},
		Members:  []ObservedMember{{UserID: "user_a1", Email: "alice@example.com", GroupAdmin: true}, {UserID: "user_b2", Email: "bob@example.com"}},
		Grants: map[ObjectRef]string{
			{Type: ObjectFolder, ID: "app_8"}:                             "edit",
			{Type: ObjectApp, ID: "0b0e3c9e-8d0e-4b8e-9a43-2f6c7d1e5a10"}: "own",
			{Type: ObjectResource, ID: "res-uuid-1"}:                      "own",
		}})
	return o
}

func kinds(p Plan) []string {
	out := make([]string, len(p.Ops))
	for i, op := range p.Ops {
		out[i] = string(op.Kind)
	}
	return out
}

func TestProject(t *testing.T) {
	snap := space(t, func(in *access.SpaceInput) {
		in.Rules = append(in.Rules, access.Rule{Name: "payroll-flow", Group: "finance", Level: access.Use,
			Targets: []access.RuleTarget{{Kind: access.Workflow, Name: "payroll"}, {Kind: access.Workflow, Folder: true, Name: "ops"}}})
	})
	prod, err := Project(snap, Environment{Name: "production", ReadOnly: true, Branch: "main"},
		&SpaceSource{Provider: "GitHub", Repository: "https://github.com/acme/retool-apps.git", DefaultBranch: "develop"})
	if err != nil {
		t.Fatal(err)
	}
	if !prod.Locked {
		t.Error("production is read-only: want the lock")
	}
	if want := (SourceControl{Provider: "GitHub", Org: "acme", Repo: "retool-apps", Branch: "main"}); prod.SourceControl == nil || *prod.SourceControl != want {
		t.Errorf("source control = %+v, want %+v", prod.SourceControl, want)
	}
	var finance, admin *DesiredGroup
	for i := range prod.Groups {
		switch prod.Groups[i].Name {
		case "finance":
			finance = &prod.Groups[i]
		case "admin":
			admin = &prod.Groups[i]
		}
	}
	if finance.PlatformName != "Finance" || finance.Settings == nil || finance.Settings.UniversalResource != "use" || !finance.Settings.AuditLog {
		t.Errorf("finance = %+v", finance)
	}
	if finance.Members[0].Email != "alice@example.com" || !finance.Members[0].GroupAdmin {
		t.Errorf("members are canonical and keep group admins: %+v", finance.Members)
	}
	if admin.PlatformName != "admin" || admin.Settings != nil || len(admin.Members) != 1 {
		t.Errorf("the Admin builtin is Retool's admin group, members only: %+v", admin)
	}
	levels := map[string]string{}
	for _, g := range finance.Grants {
		levels[g.Key()] = g.Level
	}
	want := map[string]string{"folder/app/finance/reports": "edit", "app/app/ledger": "own", "resource/resource/ledger-db": "use", "folder/workflow/ops": "use"}
	for k, v := range want {
		if levels[k] != v {
			t.Errorf("grant %s = %q, want %q (all: %v)", k, levels[k], v, levels)
		}
	}
	if levels["workflow/workflow/payroll"] != "use" {
		t.Errorf("a single workflow is projected for the plan to report: %v", levels)
	}
	if len(prod.NotExpressible) != 0 {
		t.Errorf("nothing is inexpressible whatever the instance holds: %v", prod.NotExpressible)
	}
	dev := desired(t, snap, "development", false)
	for _, g := range dev.Groups {
		for _, gr := range g.Grants {
			if gr.Name == "ledger-db" && gr.Level != "own" {
				t.Errorf("development has no override: ledger-db = %s", gr.Level)
			}
		}
	}
	clash := space(t, func(in *access.SpaceInput) {
		in.Groups = append(in.Groups, access.Group{Name: "ops", DisplayName: "admin", Universal: access.Universal{Apps: access.Own}})
	})
	cd := desired(t, clash, "development", false)
	for _, g := range cd.Groups {
		if g.Name == "ops" {
			t.Errorf("a custom group named like Retool's admin group is not projected onto it: %+v", g)
		}
	}
	if len(cd.NotExpressible) != 1 || !strings.Contains(cd.NotExpressible[0], `PermissionGroup ops: "admin"`) {
		t.Errorf("the clash is reported, naming the group: %v", cd.NotExpressible)
	}
	if _, err := Project(snap, Environment{Name: "qa"}, nil); err == nil {
		t.Error("an undeclared environment is an error")
	}
}

func TestPlan(t *testing.T) {
	snap := space(t)
	dev := desired(t, snap, "development", false)
	cases := map[string]struct {
		desired  Desired
		observed Observed
		opts     Options
		want     []string // op kinds in order
		pending  []string
		drift    []string
		check    func(t *testing.T, p Plan)
	}{
		"first sync creates the group with its members, the missing folder and the grants": {
			desired: dev, observed: instance(),
			want: []string{"CreateFolder", "CreateGroup", "AddMembers", "Grant", "Grant", "Grant"},
			check: func(t *testing.T, p Plan) {
				create := p.Ops[1]
				if len(create.Members) != 2 || create.Members[0].UserID != "user_a1" || !create.Members[0].GroupAdmin {
					t.Errorf("the create carries its members: %+v", create.Members)
				}
				if p.Ops[0].FolderPath != "finance/reports" {
					t.Errorf("only the missing folder is created: %+v", p.Ops[0])
				}
				if p.Ops[2].GroupID != 1 || p.Ops[2].Members[0].Email != "root@example.com" {
					t.Errorf("the Admin builtin's members go to Retool's admin group: %+v", p.Ops[2])
				}
			},
		},
		"at rest nothing is written": {desired: dev, observed: converged(), want: []string{}},
		"a read-only environment is locked and gets its levels": {
			desired: desired(t, snap, "production", true), observed: converged(),
			opts: Options{Ownership: Ownership{CreatedGroups: map[int64]bool{10: true}}},
			want: []string{"SetLock", "Grant"},
			check: func(t *testing.T, p Plan) {
				if !*p.Ops[0].Locked || p.Ops[1].Object.ID != "res-uuid-1" || p.Ops[1].Level != "use" {
					t.Errorf("lock then the production override: %v", p.Ops)
				}
			},
		},
		"only changed settings are written": {
			desired:  desired(t, space(t, func(in *access.SpaceInput) { in.Groups[0].Additional.Themes = true }), "development", false),
			observed: converged(), want: []string{"UpdateGroup"},
			check: func(t *testing.T, p Plan) {
				u := p.Ops[0].Update
				if u.Theme == nil || !*u.Theme || u.AuditLog != nil || u.Name != nil || u.UniversalApp != nil {
					t.Errorf("update = %+v", u)
				}
			},
		},
		"a member without an account is pending": {
			desired: desired(t, space(t, func(in *access.SpaceInput) {
				in.Groups[0].Members = append(in.Groups[0].Members, access.Member{Email: "new@example.com"})
			}), "development", false),
			observed: converged(), want: []string{},
			pending: []string{"group finance: member new@example.com has no account in the instance yet"},
		},
		"a member without an account is invited when asked": {
			desired: desired(t, space(t, func(in *access.SpaceInput) {
				in.Groups[0].Members = append(in.Groups[0].Members, access.Member{Email: "new@example.com"})
			}), "development", false),
			observed: converged(), opts: Options{InviteMissingMembers: true}, want: []string{"Invite"},
		},
		"an invited member is pending, not invited twice": {
			desired: desired(t, space(t, func(in *access.SpaceInput) {
				in.Groups[0].Members = append(in.Groups[0].Members, access.Member{Email: "new@example.com"})
			}), "development", false),
			observed: func() Observed {
				o := converged()
				o.Invited = map[string]bool{"new@example.com": true}
				return o
			}(),
			opts: Options{InviteMissingMembers: true}, want: []string{},
			pending: []string{"group finance: member new@example.com is invited and has not signed in yet"},
		},
		"a missing app is pending, named": {
			desired:  dev,
			observed: func() Observed { o := converged(); delete(o.Apps, "ledger"); return o }(),
			want:     []string{},
			pending:  []string{`AccessRule ledger: app "ledger" not found in the instance`},
			drift:    []string{`group "Finance": grant on app/0b0e3c9e-8d0e-4b8e-9a43-2f6c7d1e5a10`},
		},
		"additive: an adopted group's undeclared member and grant are drift": {
			desired: dev, observed: withExtras(converged()), want: []string{},
			drift: []string{`group "Finance": grant on app/1111`, `group "Finance": member eve@example.com`, `group "admin": member eve@example.com`, `group "ops"`},
		},
		"additive: what Governor created is removed": {
			desired: dev, observed: withExtras(converged()),
			opts:  Options{Ownership: Ownership{CreatedGroups: map[int64]bool{10: true, 11: true}}},
			want:  []string{"RemoveMember", "Revoke", "DeleteGroup"},
			drift: []string{`group "admin": member eve@example.com`},
		},
		"additive: a grant Governor made is revoked when no rule declares it": {
			desired: dev, observed: withExtras(converged()),
			opts:  Options{Ownership: Ownership{CreatedGrants: map[string]bool{GrantID(10, ObjectRef{Type: ObjectApp, ID: "1111"}): true}}},
			want:  []string{"Revoke"},
			drift: []string{`group "Finance": member eve@example.com`, `group "admin": member eve@example.com`, `group "ops"`},
		},
		"authoritative: everything undeclared goes, Retool's default groups stay": {
			desired: dev, observed: withExtras(converged()), opts: Options{Mode: Authoritative},
			want: []string{"RemoveMember", "RemoveMember", "Revoke", "DeleteGroup"},
			check: func(t *testing.T, p Plan) {
				if p.Ops[0].GroupID != 1 && p.Ops[1].GroupID != 1 {
					t.Errorf("the admin group's undeclared member goes: %v", p.Ops)
				}
			},
		},
		"a renamed group is updated in place by its recorded id": {
			desired:  desired(t, space(t, func(in *access.SpaceInput) { in.Groups[0].DisplayName = "Finance team" }), "development", false),
			observed: converged(), opts: Options{Ownership: Ownership{GroupIDs: map[string]int64{"finance": 10}}},
			want: []string{"UpdateGroup"},
			check: func(t *testing.T, p Plan) {
				if *p.Ops[0].Update.Name != "Finance team" {
					t.Errorf("update = %+v", p.Ops[0].Update)
				}
			},
		},
		"grants not read are neither written nor revoked": {
			desired:  desired(t, space(t, func(in *access.SpaceInput) { in.Rules[1].Level = access.Use }), "development", false),
			observed: func() Observed { o := converged(); o.Groups[4].Grants = nil; return o }(),
			want:     []string{},
			check: func(t *testing.T, p Plan) {
				if p.Unverified != 1 || len(p.Grants) != 3 {
					t.Errorf("unverified = %d, grants = %+v", p.Unverified, p.Grants)
				}
			},
		},
		"a level change is one grant": {
			desired:  desired(t, space(t, func(in *access.SpaceInput) { in.Rules[1].Level = access.Use }), "development", false),
			observed: converged(), want: []string{"Grant", "Grant"},
			opts: Options{Ownership: Ownership{CreatedGroups: map[int64]bool{10: true}}},
		},
		"additive: a grant Governor made is lowered in an adopted group": {
			desired:  desired(t, space(t, func(in *access.SpaceInput) { in.Rules[1].Level = access.Use }), "development", false),
			observed: converged(), want: []string{"Grant"},
			opts:  Options{Ownership: Ownership{CreatedGrants: map[string]bool{GrantID(10, ObjectRef{Type: ObjectApp, ID: "0b0e3c9e-8d0e-4b8e-9a43-2f6c7d1e5a10"}): true}}},
			drift: []string{`group "Finance": resource "ledger-db": the instance grants own, more than the model (use); only Authoritative mode lowers it`},
		},
		"additive: an adopted group's grants and levels are never lowered": {
			desired: desired(t, space(t, func(in *access.SpaceInput) {
				in.Rules[1].Level = access.Use
				in.Groups[0].Universal.Resources = access.None
				in.Groups[0].Additional.AuditLog = false
			}), "development", false),
			observed: converged(), want: []string{},
			drift: []string{
				`group "Finance": app "ledger": the instance grants own, more than the model (use); only Authoritative mode lowers it`,
				`group "Finance": audit_log_access: the instance grants it, the model does not; only Authoritative mode lowers it`,
				`group "Finance": resource "ledger-db": the instance grants own, more than the model (use); only Authoritative mode lowers it`,
				`group "Finance": universal_resource_access: the instance grants use, more than the model (none); only Authoritative mode lowers it`,
			},
		},
		"authoritative: an adopted group is lowered": {
			desired: desired(t, space(t, func(in *access.SpaceInput) {
				in.Groups[0].Universal.Resources = access.None
			}), "development", false),
			observed: converged(), opts: Options{Mode: Authoritative}, want: []string{"UpdateGroup"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := NewPlan(tc.desired, tc.observed, tc.opts)
			if got := strings.Join(kinds(p), ","); got != strings.Join(tc.want, ",") {
				var buf bytes.Buffer
				p.Format(&buf)
				t.Fatalf("ops = %s, want %s\n%s", got, strings.Join(tc.want, ","), buf.String())
			}
			if strings.Join(p.Pending, "\n") != strings.Join(tc.pending, "\n") {
				t.Errorf("pending = %q, want %q", p.Pending, tc.pending)
			}
			if strings.Join(p.Drift, "\n") != strings.Join(tc.drift, "\n") {
				t.Errorf("drift = %q, want %q", p.Drift, tc.drift)
			}
			if tc.check != nil {
				tc.check(t, p)
			}
		})
	}
}

// withExtras adds what nothing declares: a member of Finance and of admin, a
// grant of Finance, and a group.
func withExtras(o Observed) Observed {
	o.Groups[4].Members = append(o.Groups[4].Members, ObservedMember{UserID: "user_e5", Email: "eve@example.com"})
	o.Groups[4].Grants[ObjectRef{Type: ObjectApp, ID: "1111"}] = "use"
	o.Groups[0].Members = append(o.Groups[0].Members, ObservedMember{UserID: "user_e5", Email: "eve@example.com"})
	o.Groups = append(o.Groups, ObservedGroup{ID: 11, Name: "ops", Grants: map[ObjectRef]string{}})
	return o
}

func TestPlanFormat(t *testing.T) {
	p := NewPlan(desired(t, space(t), "development", false), instance(), Options{})
	var buf bytes.Buffer
	p.Format(&buf)
	out := buf.String()
	for _, want := range []string{"Space payments, environment development", "6 call(s)", `POST /folders`, `app folder "finance/reports"`,
		`POST /groups                              "Finance" with 2 member(s)`, `edit on app folder "finance/reports" (new) (rule finance-folder)`} {
		if !strings.Contains(out, want) {
			t.Errorf("plan text lacks %q:\n%s", want, out)
		}
	}
}

// In Observe mode the plan is Additive's (its calls and its drift), and its
// text says nothing is written.
func TestPlanObserve(t *testing.T) {
	texts := func(p Plan) string {
		var out []string
		for _, op := range p.Ops {
			out = append(out, op.String())
		}
		return strings.Join(append(out, p.Drift...), "\n")
	}
	d := desired(t, space(t), "development", false)
	for name, o := range map[string]Observed{"an instance without the Space's groups": instance(), "extras by hand": withExtras(converged())} {
		observe, additive := NewPlan(d, o, Options{Mode: Observe}), NewPlan(d, o, Options{Mode: Additive})
		if len(observe.Ops)+len(observe.Drift) == 0 {
			t.Fatalf("%s: nothing planned", name)
		}
		if texts(observe) != texts(additive) {
			t.Errorf("%s: Observe plans\n%s\nAdditive plans\n%s", name, texts(observe), texts(additive))
		}
		var a, b bytes.Buffer
		observe.Format(&a)
		additive.Format(&b)
		if !strings.Contains(a.String(), "Observe mode: Governor writes nothing to the instance") || strings.Contains(b.String(), "Observe mode") {
			t.Errorf("%s: Observe plan:\n%s\nAdditive plan:\n%s", name, a.String(), b.String())
		}
	}
}

func TestSplitRepository(t *testing.T) {
	for in, want := range map[string]string{
		"https://github.com/acme/apps.git":       "acme apps",
		"git@github.com:acme/apps.git":           "acme apps",
		"ssh://git@gitlab.com/acme/sub/apps":     "acme/sub apps",
		"https://dev.azure.com/acme/proj/_git/x": "acme/proj/_git x",
	} {
		org, repo, err := splitRepository(in)
		if err != nil || org+" "+repo != want {
			t.Errorf("%s: %q %q %v, want %s", in, org, repo, err, want)
		}
	}
	if _, _, err := splitRepository("https://github.com/apps"); err == nil {
		t.Error("a repository without an owner is an error")
	}
}

// Members are matched in canonical form (access.EmailKey): an instance's
// "\u212Aarl@example.com" (Kelvin sign) is not the declared karl@example.com,
// while an ASCII case difference is.
func TestPlanMatchesMembersCanonically(t *testing.T) {
	snap := space(t, func(in *access.SpaceInput) {
		in.Groups[0].Members = append(in.Groups[0].Members, access.Member{Email: "karl@example.com"})
	})
	o := converged()
	kelvin := "\u212Aarl@example.com"
	o.Users[access.EmailKey(kelvin)] = "user_k1" // as the syncer keys what it observes
	for i := range o.Groups {
		if o.Groups[i].Name == "Finance" {
			o.Groups[i].Members = append(o.Groups[i].Members, ObservedMember{UserID: "user_k1", Email: kelvin})
			o.Groups[i].Members[0].Email = "ALICE@example.COM"
		}
	}
	p := NewPlan(desired(t, snap, "development", false), o, Options{Mode: Authoritative})
	if got := strings.Join(kinds(p), ","); got != "RemoveMember" {
		t.Fatalf("ops %s, want only the look-alike removed: %v", got, p.Ops)
	}
	if p.Ops[0].Member.UserID != "user_k1" {
		t.Errorf("removed %+v, want the look-alike user_k1", p.Ops[0].Member)
	}
	if !strings.Contains(strings.Join(p.Pending, ";"), "karl@example.com has no account") {
		t.Errorf("karl has no account (the look-alike is not his): pending %v", p.Pending)
	}
}
