package importer_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/platform"
	"github.com/governor-dev/governor/internal/platform/importer"
	"github.com/governor-dev/governor/internal/platform/retool"
	"github.com/governor-dev/governor/internal/platform/syncer"
)

func observe(t *testing.T, inst *instance) platform.Observed {
	t.Helper()
	o, err := syncer.ObserveAll(context.Background(), inst.c, syncer.ObserveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func groupID(t *testing.T, c *retool.Client, name string) int64 {
	t.Helper()
	gs, err := c.ListGroups(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gs {
		if g.Name == name {
			return g.ID
		}
	}
	t.Fatalf("no group %q", name)
	return 0
}

func findGroup(res importer.Result, name string) *governorv1alpha1.PermissionGroup {
	for i := range res.Groups {
		if res.Groups[i].Name == name {
			return &res.Groups[i]
		}
	}
	return nil
}

func findRule(res importer.Result, name string) *governorv1alpha1.AccessRule {
	for i := range res.Rules {
		if res.Rules[i].Name == name {
			return &res.Rules[i]
		}
	}
	return nil
}

// TestRecordedInstanceState imports an instance as the upstream recordings
// show one: system folders, Retool's default groups with their levels, All
// Users at edit/own/edit/edit with account details, 22 users of whom 20 are
// deactivated. The default groups become the built-in roles under the
// names the Space controller gives them, All Users keeps the instance's
// levels, nothing else is declared, and the round trip is exact.
func TestRecordedInstanceState(t *testing.T) {
	inst := newInstance(t, "acme.test")
	for i := 0; i < 20; i++ {
		inst.sp.AddInactiveUser(fmt.Sprintf("former%02d@example.com", i))
	}
	inst.sp.AddUser("owner@example.com")
	inst.sp.AddUser("dev@example.com")
	ctx := context.Background()
	if _, err := inst.c.AddGroupMembers(ctx, groupID(t, inst.c, "admin"), []retool.MemberInput{{ID: userID(t, inst.c, "owner@example.com")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := inst.sp.AddApp("payouts", ""); err != nil {
		t.Fatal(err)
	}
	res, err := importer.Import([]importer.Environment{{Name: "production", Observed: observe(t, inst)}}, importer.Options{Namespace: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range res.Groups {
		names = append(names, g.Name+"/"+string(g.Spec.Builtin))
	}
	if got := strings.Join(names, " "); got != "admin/Admin all-users/AllUsers editor/Editor viewer/Viewer" {
		t.Errorf("groups: %s", got)
	}
	if len(res.Rules) != 0 {
		t.Errorf("rules: %+v", res.Rules)
	}
	all := findGroup(res, "all-users").Spec
	if u := all.Universal; u == nil || u.Apps != "Edit" || u.Workflows != "Edit" || u.Resources != "Own" || u.QueryLibrary != "Edit" {
		t.Errorf("All Users' levels: %+v", u)
	}
	if a := all.Additional; a == nil || !a.AccountDetails || a.UserList {
		t.Errorf("All Users' flags: %+v", a)
	}
	if m := findGroup(res, "admin").Spec.Members; len(m) != 1 || m[0].Email != "owner@example.com" {
		t.Errorf("admin members: %+v", m)
	}
	// dev@ is in All Users only: a member of the Space through JIT alone.
	if strings.Join(res.JITDomains, ",") != "example.com" {
		t.Errorf("JIT domains: %v", res.JITDomains)
	}
	if !res.Exact() {
		t.Errorf("not exact: %v", res.Notes)
	}
	snap, in := model(t, res, "production")
	for _, mode := range []platform.Mode{platform.Additive, platform.Authoritative} {
		if p := plan(t, inst.c, snap, "production", mode, false).Plan; len(p.Ops) > 0 {
			t.Errorf("%s plan: %+v", mode, p.Ops)
		}
	}
	v, err := syncer.Verify(ctx, inst.c, syncer.VerifyInput{Model: snap, Space: in, Environment: "production"})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Differences) > 0 || v.Users != 2 {
		t.Errorf("verify: %d users, differences %+v", v.Users, v.Differences)
	}
}

func userID(t *testing.T, c *retool.Client, email string) string {
	t.Helper()
	u, err := c.FindUserByEmail(context.Background(), email)
	if err != nil || u == nil {
		t.Fatalf("user %s: %v", email, err)
	}
	return u.ID
}

func folderID(t *testing.T, c *retool.Client, typ, name string) string {
	t.Helper()
	fs, err := c.ListFolders(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if f.FolderType == typ && f.Name == name && !f.IsSystemFolder {
			return f.ID
		}
	}
	t.Fatalf("no %s folder %q", typ, name)
	return ""
}

// TestImportTranslatesGrants checks the translation of one hand-made
// instance: folder and object grants merged into one rule per group and
// level with sorted targets; a sub-folder that its parent's grant does not
// reach; grants that give nothing; a grant to a single user; members,
// group admins, deactivated members and invitations; and the comments the
// YAML carries.
func TestImportTranslatesGrants(t *testing.T) {
	inst := newInstance(t, "acme.test")
	ctx := context.Background()
	c := inst.c
	alice := inst.sp.AddUser("alice@example.com")
	bob := inst.sp.AddUser("bob@example.com")
	carol := inst.sp.AddInactiveUser("carol@example.com")
	for _, a := range []struct{ name, path string }{{"payouts", "finance"}, {"ledger", "finance/reports"}, {"refunds", "finance"}, {"status", ""}} {
		if _, err := inst.sp.AddApp(a.name, a.path); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := inst.sp.AddResource("orders-db", ""); err != nil {
		t.Fatal(err)
	}
	none := "none"
	if _, err := c.UpdateGroup(ctx, groupID(t, c, "All Users"), retool.GroupUpdate{UniversalAppAccess: &none, UniversalResourceAccess: &none, UniversalWorkflowAccess: &none}); err != nil {
		t.Fatal(err)
	}
	g, err := c.CreateGroup(ctx, retool.GroupCreate{Name: "Finance Team", UniversalResourceAccess: "use", UserListAccess: true,
		Members: []retool.MemberInput{{ID: alice, IsGroupAdmin: true}, {ID: carol}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateUserInvite(ctx, "dana@example.com", []int64{g.ID}); err != nil {
		t.Fatal(err)
	}
	apps, _ := c.ListApps(ctx)
	appID := map[string]string{}
	for _, a := range apps {
		appID[a.Name] = a.ID
	}
	resources, _ := c.ListResources(ctx)
	grants := []struct {
		obj   retool.ObjectRef
		level string
	}{
		{retool.ObjectRef{Type: "folder", ID: folderID(t, c, "app", "finance")}, "edit"},
		{retool.ObjectRef{Type: "app", ID: appID["status"]}, "use"},
		{retool.ObjectRef{Type: "app", ID: appID["refunds"]}, "own"},
		{retool.ObjectRef{Type: "app", ID: appID["payouts"]}, "use"},     // below the folder's edit: nothing
		{retool.ObjectRef{Type: "resource", ID: resources[0].ID}, "use"}, // the universal level already: kept
	}
	for _, gr := range grants {
		if err := c.Grant(ctx, g.ID, gr.obj, gr.level); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.GrantTo(ctx, retool.UserSubject(bob), retool.ObjectRef{Type: "app", ID: appID["ledger"]}, "edit"); err != nil {
		t.Fatal(err)
	}

	res, err := importer.Import([]importer.Environment{{Name: "development", Observed: observe(t, inst)}}, importer.Options{Namespace: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	fin := findGroup(res, "finance-team")
	if fin == nil || fin.Spec.DisplayName != "Finance Team" || fin.Spec.Builtin != "" {
		t.Fatalf("finance-team: %+v", fin)
	}
	wantMembers := []governorv1alpha1.Member{{Email: "alice@example.com", GroupAdmin: true}, {Email: "carol@example.com"}, {Email: "dana@example.com"}}
	if fmt.Sprint(fin.Spec.Members) != fmt.Sprint(wantMembers) {
		t.Errorf("members: %+v", fin.Spec.Members)
	}
	if u := fin.Spec.Universal; u == nil || u.Resources != "Use" || u.Apps != "None" {
		t.Errorf("universal: %+v", u)
	}
	if a := fin.Spec.Additional; a == nil || !a.UserList || a.AuditLog {
		t.Errorf("additional: %+v", a)
	}
	targets := func(name string) string {
		r := findRule(res, name)
		if r == nil {
			return "<none>"
		}
		var out []string
		for _, tg := range r.Spec.Targets {
			out = append(out, string(tg.Kind)+":"+string(tg.FolderType)+":"+tg.Name)
		}
		return r.Spec.Group + " " + string(r.Spec.Level) + " " + strings.Join(out, " ")
	}
	if got := targets("finance-team-edit"); got != "finance-team Edit Folder:App:finance" {
		t.Errorf("finance-team-edit: %s", got)
	}
	if got := targets("finance-team-use"); got != "finance-team Use App::status Resource::orders-db" {
		t.Errorf("finance-team-use: %s", got)
	}
	if got := targets("finance-team-own"); got != "finance-team Own App::refunds" {
		t.Errorf("finance-team-own: %s", got)
	}
	if len(res.Rules) != 3 {
		t.Errorf("rules: %d", len(res.Rules))
	}
	var out bytes.Buffer
	if err := importer.Write(&out, res, []string{"governor platform import --space acme --env development"}); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		"# governor platform import --space acme --env development\n",
		"[differs] user bob@example.com: edit on app \"ledger\", granted to the user alone",
		// The sub-folder finance/reports: no grant, but the rule on finance
		// would reach it.
		"[changes access] app folder \"finance/reports\": the group has no access there in the instance",
		"app \"payouts\": the grant (use) is below what the group has there anyway (edit",
		"members deactivated in the instance, kept",
		"members invited and not signed in yet (the invitation adds them when they sign in): dana@example.com",
	} {
		if !strings.Contains(strings.Join(strings.Fields(strings.ReplaceAll(text, "\n#", "")), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("the YAML lacks %q:\n%s", want, text)
		}
	}
	if res.Exact() {
		t.Error("exact, with a grant to a single user")
	}
	// Every document parses back into the objects.
	docs := strings.Split(text, "\n---\n")
	if len(docs) != 1+len(res.Groups)+len(res.Rules) {
		t.Fatalf("%d documents", len(docs))
	}
	var back governorv1alpha1.AccessRule
	found := false
	for _, d := range docs[1:] {
		if strings.Contains(d, "kind: AccessRule") && strings.Contains(d, "name: finance-team-own") {
			if err := yaml.UnmarshalStrict([]byte(d), &back); err != nil {
				t.Fatal(err)
			}
			found = true
		}
	}
	if !found || back.Namespace != "acme" || back.Spec.Targets[0].Name != "refunds" {
		t.Errorf("parsed back: %+v", back)
	}
	if strings.Contains(text, "status:") || strings.Contains(text, "creationTimestamp") {
		t.Errorf("the YAML holds status or creationTimestamp:\n%s", text)
	}

	// The round trip: a sync makes the calls announced (the inherited
	// grant on finance/reports), after which nothing is left to do.
	snap, _ := model(t, res, "development")
	p := plan(t, c, snap, "development", platform.Additive, false).Plan
	for _, op := range p.Ops {
		if !announced(op, res.Calls, false) {
			t.Errorf("unannounced call %+v", op)
		}
	}
	if len(p.Ops) != 1 || p.Ops[0].Kind != platform.OpGrant || p.Ops[0].Level != "edit" {
		t.Errorf("plan: %+v", p.Ops)
	}
	auth := plan(t, c, snap, "development", platform.Authoritative, false).Plan
	kinds := map[platform.OpKind]int{}
	for _, op := range auth.Ops {
		kinds[op.Kind]++
		if !announced(op, res.Calls, true) {
			t.Errorf("unannounced call in Authoritative mode %+v", op)
		}
	}
	if kinds[platform.OpRevoke] != 1 || len(auth.Ops) != 2 {
		t.Errorf("Authoritative plan: %+v", auth.Ops)
	}
}

// TestImportEnvironments imports two instances of one Space: a resource
// whose level differs becomes an environments: level, an app whose level
// differs takes the first environment's and says so, and a group only one
// instance has is declared (created in the other by a sync).
func TestImportEnvironments(t *testing.T) {
	ctx := context.Background()
	envs := map[string]*instance{"development": newInstance(t, "acme.test"), "production": newInstance(t, "acme.test")}
	for env, inst := range envs {
		alice := inst.sp.AddUser("alice@example.com")
		if _, err := inst.sp.AddApp("refunds", ""); err != nil {
			t.Fatal(err)
		}
		for _, r := range []string{"orders-db", "audit-db", "dev-db"} {
			if r == "dev-db" && env != "development" {
				continue
			}
			if _, err := inst.sp.AddResource(r, ""); err != nil {
				t.Fatal(err)
			}
		}
		none := "none"
		if _, err := inst.c.UpdateGroup(ctx, groupID(t, inst.c, "All Users"), retool.GroupUpdate{UniversalAppAccess: &none, UniversalResourceAccess: &none, UniversalWorkflowAccess: &none}); err != nil {
			t.Fatal(err)
		}
		g, err := inst.c.CreateGroup(ctx, retool.GroupCreate{Name: "Support", Members: []retool.MemberInput{{ID: alice}}})
		if err != nil {
			t.Fatal(err)
		}
		rs, _ := inst.c.ListResources(ctx)
		apps, _ := inst.c.ListApps(ctx)
		level := map[string]string{"development": "edit", "production": "use"}[env]
		for _, r := range rs {
			switch {
			case r.DisplayName == "orders-db":
				_ = inst.c.Grant(ctx, g.ID, retool.ObjectRef{Type: "resource", ID: r.ID}, level)
			case r.DisplayName == "audit-db" && env == "production":
				_ = inst.c.Grant(ctx, g.ID, retool.ObjectRef{Type: "resource", ID: r.ID}, "use")
			case r.DisplayName == "dev-db":
				_ = inst.c.Grant(ctx, g.ID, retool.ObjectRef{Type: "resource", ID: r.ID}, "own")
			}
		}
		if err := inst.c.Grant(ctx, g.ID, retool.ObjectRef{Type: "app", ID: apps[0].ID}, level); err != nil {
			t.Fatal(err)
		}
		if env == "production" {
			if _, err := inst.c.CreateGroup(ctx, retool.GroupCreate{Name: "On-call"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	res, err := importer.Import([]importer.Environment{
		{Name: "development", Observed: observe(t, envs["development"])},
		{Name: "production", Observed: observe(t, envs["production"])},
	}, importer.Options{Namespace: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	checkObjects(t, res)
	edit := findRule(res, "support-edit")
	if edit == nil {
		t.Fatalf("no support-edit rule: %+v", res.Rules)
	}
	got := fmt.Sprint(edit.Spec.Targets)
	want := fmt.Sprint([]governorv1alpha1.Target{{Kind: "App", Name: "refunds"}, {Kind: "Resource", Name: "orders-db", Environments: []governorv1alpha1.EnvironmentLevel{{Name: "production", Level: "Use"}}}})
	if got != want {
		t.Errorf("support-edit targets:\n got %s\nwant %s", got, want)
	}
	// audit-db: Use in production only; development's level without a rule
	// (None) is its environment level there.
	use := findRule(res, "support-use")
	if use == nil || fmt.Sprint(use.Spec.Targets) != fmt.Sprint([]governorv1alpha1.Target{{Kind: "Resource", Name: "audit-db", Environments: []governorv1alpha1.EnvironmentLevel{{Name: "development", Level: "None"}}}}) {
		t.Errorf("support-use: %+v", use)
	}
	// dev-db is only in development: no level for production.
	if own := findRule(res, "support-own"); own == nil || len(own.Spec.Targets[0].Environments) != 0 {
		t.Errorf("support-own: %+v", own)
	}
	if findGroup(res, "on-call") == nil {
		t.Error("the production-only group is not imported")
	}
	var notes []string
	for _, n := range res.Notes {
		notes = append(notes, n.String())
	}
	joined := strings.Join(notes, "\n")
	for _, want := range []string{
		"production: app \"refunds\": use in the production instance, edit in the manifest (development's",
		"development: the group is not in the development instance: a sync creates it there",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("notes lack %q:\n%s", want, joined)
		}
	}
	snap, in := model(t, res, "development", "production")
	// Development is the reference: nothing to do but create On-call.
	p := plan(t, envs["development"].c, snap, "development", platform.Additive, false).Plan
	if len(p.Ops) != 1 || p.Ops[0].Kind != platform.OpCreateGroup || p.Ops[0].GroupName != "On-call" {
		t.Errorf("development plan: %+v", p.Ops)
	}
	// Production: the resource levels hold; the app's level is the one note.
	p = plan(t, envs["production"].c, snap, "production", platform.Additive, false).Plan
	if len(p.Ops) != 1 || p.Ops[0].Kind != platform.OpGrant || p.Ops[0].Level != "edit" || p.Ops[0].Object.Type != platform.ObjectApp {
		t.Errorf("production plan: %+v", p.Ops)
	}
	v, err := syncer.Verify(ctx, envs["production"].c, syncer.VerifyInput{Model: snap, Space: in, Environment: "production"})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Differences) != 1 || !strings.Contains(v.Differences[0].Object, "refunds") {
		t.Errorf("production verify: %+v", v.Differences)
	}
}

// TestImportReportsWhatTheModelCannotHold covers what the emulator cannot
// make: grants on resource configurations, names a rule cannot carry,
// members whose email is not canonical.
func TestImportReportsWhatTheModelCannotHold(t *testing.T) {
	o := platform.Observed{
		Users:    map[string]string{"alice@example.com": "user_1"},
		Inactive: map[string]bool{},
		Folders: []platform.Folder{
			{ID: "app_1", Name: "root", Type: "app", System: true},
			{ID: "app_2", Name: "Old Stuff", ParentID: "app_1", Type: "app"},
		},
		Apps:       map[string]string{"Refund Tool": "a1"},
		AppFolders: map[string]string{"Refund Tool": "app_1"},
		Groups: []platform.ObservedGroup{{ID: 7, Name: "Ops",
			Members: []platform.ObservedMember{{UserID: "user_1", Email: "alice@example.com"}, {UserID: "user_2", Email: "k\u212Aarl@example.com"}},
			Grants: map[platform.ObjectRef]string{
				{Type: platform.ObjectFolder, ID: "app_2"}: "edit",
				{Type: platform.ObjectApp, ID: "a1"}:       "own",
			},
			OtherGrants: map[platform.ObjectRef]string{{Type: "resource_configuration", ID: "rc_1"}: "use"},
		}},
	}
	res, err := importer.Import([]importer.Environment{{Name: "production", Observed: o}}, importer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var notes []string
	for _, n := range res.Notes {
		notes = append(notes, fmt.Sprintf("%s|%t|%s", n.Group, n.Inexact, n.Text))
	}
	joined := strings.Join(notes, "\n")
	for _, want := range []string{
		"ops|false|grant use on resource_configuration/rc_1: the model has no resource configuration target",
		"ops|true|app folder \"Old Stuff\": the group has edit there in the instance and none in the model; a rule cannot name a folder path with whitespace",
		"ops|true|app \"Refund Tool\": the group has own there in the instance and none in the model",
		"ops|true|member \"k\u212Aarl@example.com\" is left out",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("notes lack %q:\n%s", want, joined)
		}
	}
	if len(res.Rules) != 0 {
		t.Errorf("rules: %+v", res.Rules)
	}
	if _, err := importer.Import(nil, importer.Options{}); err == nil {
		t.Error("no environment: no error")
	}
	if _, err := importer.Import([]importer.Environment{{Name: "a"}, {Name: "a"}}, importer.Options{}); err == nil || !strings.Contains(err.Error(), `"a" twice`) {
		t.Errorf("an environment twice: %v", err)
	}
}
