package retool_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/governor-dev/governor/internal/platform/emulator"
	"github.com/governor-dev/governor/internal/platform/retool"
	"github.com/governor-dev/governor/internal/platform/retool/retooltest"
)

func TestGroupsAndMembers(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, emulator.Options{}, retool.Options{})
	c := f.client
	admin := f.emu.Space("")
	alice, bob := admin.AddUser("alice@example.com"), admin.AddUser("bob@example.com")

	groups := must[[]retool.Group](t)(c.ListGroups(ctx))
	var names []string
	for _, g := range groups {
		names = append(names, fmt.Sprintf("%d:%s", g.ID, g.Name))
	}
	if want := []string{"1:admin", "2:editor", "3:viewer", "4:All Users"}; !slices.Equal(names, want) {
		t.Fatalf("default groups = %v, want %v", names, want)
	}
	if all := groups[3]; len(all.Members) != 2 {
		t.Errorf("All Users has %d members, want the 2 users", len(all.Members))
	}

	g := must[retool.Group](t)(c.CreateGroup(ctx, retool.GroupCreate{
		Name: "finance", Members: []retool.MemberInput{{ID: alice, IsGroupAdmin: true}},
		UniversalAppAccess: retool.AccessUse, AuditLogAccess: true,
	}))
	if g.ID <= 4 || g.Name != "finance" || g.UniversalAppAccess != "use" || g.UniversalResourceAccess != "none" || !g.AuditLogAccess || g.ThemeAccess {
		t.Errorf("created group = %+v", g)
	}
	if len(g.Members) != 1 || g.Members[0].ID != alice || g.Members[0].Email != "alice@example.com" || !g.Members[0].IsGroupAdmin {
		t.Errorf("members = %+v, want alice as group admin", g.Members)
	}
	if _, err := c.CreateGroup(ctx, retool.GroupCreate{Name: "finance"}); !retool.IsConflict(err) {
		t.Errorf("a second group named finance: err = %v, want 409", err)
	}

	before := f.emu.Stats().Requests["PATCH /api/v2/groups/{groupId}"]
	got := must[retool.Group](t)(c.UpdateGroup(ctx, g.ID, retool.GroupUpdate{}))
	if after := f.emu.Stats().Requests["PATCH /api/v2/groups/{groupId}"]; after != before || got.Name != "finance" {
		t.Errorf("an empty update sent %d PATCH, want none", after-before)
	}
	got = must[retool.Group](t)(c.UpdateGroup(ctx, g.ID, retool.GroupUpdate{
		Name: ptr("finance-team"), UniversalWorkflowAccess: ptr(retool.AccessEdit), AuditLogAccess: ptr(false), ThemeAccess: ptr(true),
	}))
	if got.Name != "finance-team" || got.UniversalWorkflowAccess != "edit" || got.AuditLogAccess || !got.ThemeAccess ||
		got.UniversalAppAccess != "use" || len(got.Members) != 1 {
		t.Errorf("updated group = %+v, want the four fields changed and the rest kept", got)
	}
	if _, err := c.UpdateGroup(ctx, g.ID, retool.GroupUpdate{UniversalAppAccess: ptr("write")}); err == nil || !strings.Contains(err.Error(), "400") {
		t.Errorf("a level outside the enum: err = %v, want 400", err)
	}

	got = must[retool.Group](t)(c.AddGroupMembers(ctx, g.ID, []retool.MemberInput{{ID: alice}, {ID: bob, IsGroupAdmin: true}}))
	admins := map[string]bool{}
	for _, m := range got.Members {
		admins[m.ID] = m.IsGroupAdmin
	}
	if len(admins) != 2 || admins[alice] || !admins[bob] {
		t.Errorf("after adding: %+v, want alice (no longer admin) and bob (admin)", got.Members)
	}
	if _, err := c.AddGroupMembers(ctx, g.ID, []retool.MemberInput{{ID: "user_0000"}}); err == nil || !strings.Contains(err.Error(), "user_0000") {
		t.Errorf("an unknown user: err = %v, want 400 naming it", err)
	}
	if err := c.RemoveGroupMember(ctx, g.ID, alice); err != nil {
		t.Fatal(err)
	}
	got = must[retool.Group](t)(c.GetGroup(ctx, g.ID))
	if len(got.Members) != 1 || got.Members[0].ID != bob {
		t.Errorf("after removing alice: %+v", got.Members)
	}
	if err := c.DeleteGroup(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetGroup(ctx, g.ID); !retool.IsNotFound(err) {
		t.Errorf("deleted group: err = %v, want 404", err)
	}
	if err := c.DeleteGroup(ctx, 1); err == nil {
		t.Error("deleting the default admin group succeeded")
	}
}

func TestUsersPaginationAndInvites(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, emulator.Options{}, retool.Options{})
	c := f.client
	admin := f.emu.Space("")
	for i := range 250 {
		admin.AddUser(fmt.Sprintf("user%03d@example.com", i))
	}
	users := must[[]retool.User](t)(c.ListUsers(ctx))
	seen := map[string]bool{}
	for _, u := range users {
		if !strings.HasPrefix(u.ID, "user_") || !u.Active {
			t.Errorf("user %+v", u)
		}
		seen[u.Email] = true
	}
	if len(users) != 250 || len(seen) != 250 {
		t.Fatalf("ListUsers: %d users (%d distinct), want 250", len(users), len(seen))
	}
	if n := f.emu.Stats().Requests["GET /api/v2/users"]; n != 3 {
		t.Errorf("ListUsers of 250 took %d pages, want 3 (100 a page)", n)
	}
	u := must[*retool.User](t)(c.FindUserByEmail(ctx, "USER042@example.com"))
	if u == nil || u.Email != "user042@example.com" {
		t.Errorf("FindUserByEmail = %+v", u)
	}
	if u := must[*retool.User](t)(c.FindUserByEmail(ctx, "nobody@example.com")); u != nil {
		t.Errorf("FindUserByEmail(nobody) = %+v, want nil", u)
	}

	g := must[retool.Group](t)(c.CreateGroup(ctx, retool.GroupCreate{Name: "ops"}))
	inv := must[retool.UserInvite](t)(c.CreateUserInvite(ctx, "carol@example.com", []int64{g.ID}))
	if inv.InvitedEmail != "carol@example.com" || inv.ClaimedBy != nil || len(inv.Groups) != 1 || inv.Groups[0].ID != g.ID {
		t.Errorf("invite = %+v", inv)
	}
	if _, err := c.CreateUserInvite(ctx, "user001@example.com", nil); err == nil {
		t.Error("inviting an existing user succeeded")
	}
	invites := must[[]retool.UserInvite](t)(c.ListUserInvites(ctx))
	if len(invites) != 1 || invites[0].ID != inv.ID {
		t.Errorf("ListUserInvites = %+v", invites)
	}
	if got := must[retool.Group](t)(c.GetGroup(ctx, g.ID)); len(got.UserInvites) != 1 || len(got.Members) != 0 {
		t.Errorf("group before sign-in: %d invites, %d members; want 1 and 0", len(got.UserInvites), len(got.Members))
	}
	carol := admin.AddUser("carol@example.com")
	got := must[retool.Group](t)(c.GetGroup(ctx, g.ID))
	if len(got.UserInvites) != 0 || len(got.Members) != 1 || got.Members[0].ID != carol {
		t.Errorf("group after carol signed in: %+v", got)
	}
	invites = must[[]retool.UserInvite](t)(c.ListUserInvites(ctx))
	if invites[0].ClaimedBy == nil || *invites[0].ClaimedBy != carol {
		t.Errorf("invite after sign-in: %+v, want claimed by %s", invites[0], carol)
	}
}

func TestFoldersObjectsAndGrants(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, emulator.Options{}, retool.Options{})
	c := f.client
	admin := f.emu.Space("")
	payroll := must[emulator.Object](t)(admin.AddApp("Payroll", "finance/reports"))
	flow := must[emulator.Object](t)(admin.AddWorkflow("Nightly", "jobs"))
	db := must[emulator.Object](t)(admin.AddResource("payroll-db", "databases"))

	folders := must[[]retool.Folder](t)(c.ListFolders(ctx))
	roots := map[string]string{}
	byID := map[string]retool.Folder{}
	for _, fo := range folders {
		byID[fo.ID] = fo
		if fo.Name == "root" && fo.ParentFolderID == nil {
			if !fo.IsSystemFolder || !strings.HasPrefix(fo.ID, fo.FolderType+"_") {
				t.Errorf("root folder %+v", fo)
			}
			roots[fo.FolderType] = fo.ID
		}
	}
	if len(roots) != 4 || roots["file"] == "" {
		t.Fatalf("root folders %v, want one per type (app, workflow, resource) and Retool's file root", roots)
	}
	reports := byID[payroll.FolderID]
	if reports.Name != "reports" || reports.ParentFolderID == nil || byID[*reports.ParentFolderID].Name != "finance" {
		t.Errorf("the app's folder is %+v, want finance/reports", reports)
	}

	hr := must[retool.Folder](t)(c.CreateFolder(ctx, "hr", "", retool.FolderTypeApp))
	if hr.ParentFolderID == nil || *hr.ParentFolderID != roots["app"] || hr.IsSystemFolder || hr.FolderType != "app" {
		t.Errorf("created folder %+v, want under the app root", hr)
	}
	sub := must[retool.Folder](t)(c.CreateFolder(ctx, "payroll", hr.ID, retool.FolderTypeApp))
	if _, err := c.CreateFolder(ctx, "hr", "", retool.FolderTypeApp); !retool.IsConflict(err) {
		t.Errorf("a second hr folder: err = %v, want 409", err)
	}
	if _, err := c.CreateFolder(ctx, "x", roots["resource"], retool.FolderTypeApp); err == nil {
		t.Error("an app folder under the resource root succeeded")
	}
	if err := c.DeleteFolder(ctx, hr.ID); err != nil {
		t.Fatal(err)
	}
	for _, fo := range must[[]retool.Folder](t)(c.ListFolders(ctx)) {
		if fo.ID == hr.ID {
			t.Errorf("folder %s is still listed after its deletion", hr.ID)
		}
		if fo.ID == sub.ID && (fo.ParentFolderID == nil || *fo.ParentFolderID != roots["app"]) {
			t.Errorf("the deleted folder's sub-folder is %+v, want it moved up to the app root", fo)
		}
	}

	apps := must[[]retool.App](t)(c.ListApps(ctx))
	if len(apps) != 1 || apps[0].ID != payroll.ID || apps[0].Name != "Payroll" || apps[0].FolderID != payroll.FolderID {
		t.Errorf("ListApps = %+v", apps)
	}
	wfs := must[[]retool.Workflow](t)(c.ListWorkflows(ctx))
	if len(wfs) != 1 || wfs[0].ID != flow.ID || byID[wfs[0].FolderID].FolderType != "workflow" {
		t.Errorf("ListWorkflows = %+v", wfs)
	}
	res := must[[]retool.Resource](t)(c.ListResources(ctx))
	if len(res) != 1 || res[0].ID != db.ID || res[0].DisplayName != "payroll-db" {
		t.Errorf("ListResources = %+v", res)
	}

	g := must[retool.Group](t)(c.CreateGroup(ctx, retool.GroupCreate{Name: "auditors"}))
	for _, gr := range []struct {
		obj   retool.ObjectRef
		level string
	}{
		{retool.ObjectRef{Type: retool.ObjectFolder, ID: sub.ID}, retool.AccessUse},
		{retool.ObjectRef{Type: retool.ObjectFolder, ID: roots["workflow"]}, retool.AccessEdit},
		{retool.ObjectRef{Type: retool.ObjectApp, ID: payroll.ID}, retool.AccessOwn},
		{retool.ObjectRef{Type: retool.ObjectResource, ID: db.ID}, retool.AccessUse},
		{retool.ObjectRef{Type: retool.ObjectFolder, ID: sub.ID}, retool.AccessEdit}, // replaces use
	} {
		if err := c.Grant(ctx, g.ID, gr.obj, gr.level); err != nil {
			t.Fatalf("grant %v %s: %v", gr.obj, gr.level, err)
		}
	}
	folderGrants := must[[]retool.ObjectAccess](t)(c.ListObjects(ctx, g.ID, retool.ObjectFolder))
	want := map[string]string{sub.ID: "edit", roots["workflow"]: "edit"}
	if len(folderGrants) != 2 || want[folderGrants[0].ID] != folderGrants[0].AccessLevel || want[folderGrants[1].ID] != folderGrants[1].AccessLevel {
		t.Errorf("folder grants = %+v, want %v", folderGrants, want)
	}
	if a := must[[]retool.ObjectAccess](t)(c.ListObjects(ctx, g.ID, retool.ObjectApp)); len(a) != 1 || a[0].ID != payroll.ID || a[0].AccessLevel != "own" {
		t.Errorf("app grants = %+v", a)
	}
	if err := c.Revoke(ctx, g.ID, retool.ObjectRef{Type: retool.ObjectFolder, ID: sub.ID}); err != nil {
		t.Fatal(err)
	}
	if a := must[[]retool.ObjectAccess](t)(c.ListObjects(ctx, g.ID, retool.ObjectFolder)); len(a) != 1 || a[0].ID != roots["workflow"] {
		t.Errorf("folder grants after revoke = %+v", a)
	}
	err := c.Grant(ctx, g.ID, retool.ObjectRef{Type: retool.ObjectApp, ID: "6f1c1f7e-0000-4000-8000-000000000000"}, retool.AccessUse)
	if !retool.IsNotFound(err) {
		t.Errorf("grant on a missing app: err = %v, want 404", err)
	}
	if err := c.Grant(ctx, 999, retool.ObjectRef{Type: retool.ObjectApp, ID: payroll.ID}, retool.AccessUse); !retool.IsNotFound(err) {
		t.Errorf("grant to a missing group: err = %v, want 404", err)
	}
	if err := c.DeleteFolder(ctx, sub.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteFolder(ctx, sub.ID); !retool.IsNotFound(err) {
		t.Errorf("deleting it again: err = %v, want 404", err)
	}
}

func TestSourceControl(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, emulator.Options{}, retool.Options{})
	c := f.client
	s := must[retool.SourceControlSettings](t)(c.GetSourceControlSettings(ctx))
	if s.VersionControlLocked {
		t.Error("a new Space is locked")
	}
	s.VersionControlLocked = true
	if got := must[retool.SourceControlSettings](t)(c.UpdateSourceControlSettings(ctx, s)); !got.VersionControlLocked {
		t.Error("the update did not lock")
	}
	if got := must[retool.SourceControlSettings](t)(c.GetSourceControlSettings(ctx)); !got.VersionControlLocked {
		t.Error("the lock did not stay")
	}

	if cfg := must[*retool.SourceControlConfig](t)(c.GetSourceControlConfig(ctx)); cfg != nil {
		t.Errorf("a new Space has a config: %+v", cfg)
	}
	in := retool.SourceControlConfig{Provider: "GitHub", Org: "acme", Repo: "retool-apps", DefaultBranch: "main",
		Config: map[string]any{"type": "Personal", "personal_access_token": "ghp_secret"}}
	got := must[retool.SourceControlConfig](t)(c.PutSourceControlConfig(ctx, in))
	if got.Repo != "retool-apps" || got.Config["personal_access_token"] != retool.EncryptedSecret || got.Config["type"] != "Personal" {
		t.Errorf("created config = %+v", got)
	}
	in.DefaultBranch = "release"
	must[retool.SourceControlConfig](t)(c.PutSourceControlConfig(ctx, in))
	cfg := must[*retool.SourceControlConfig](t)(c.GetSourceControlConfig(ctx))
	if cfg == nil || cfg.DefaultBranch != "release" {
		t.Errorf("config after update = %+v", cfg)
	}
}

func TestSpacesAndTokens(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, emulator.Options{Domain: "admin.example.com"}, retool.Options{})
	c := f.client
	sp := must[retool.Space](t)(c.CreateSpace(ctx, retool.SpaceCreate{Name: "Finance", Domain: "finance.example.com", CopySSOSettings: true}))
	if !strings.HasPrefix(sp.ID, "org_") || sp.Domain != "finance.example.com" || sp.Name != "Finance" {
		t.Errorf("created Space = %+v", sp)
	}
	if _, err := c.CreateSpace(ctx, retool.SpaceCreate{Name: "Again", Domain: "finance.example.com"}); !retool.IsConflict(err) {
		t.Errorf("a second Space on the domain: err = %v, want 409", err)
	}
	spaces := must[[]retool.Space](t)(c.ListSpaces(ctx))
	if len(spaces) != 1 || spaces[0].ID != sp.ID || spaces[0].Domain != "finance.example.com" {
		t.Errorf("ListSpaces = %+v", spaces)
	}

	child := f.emu.Space("finance.example.com")
	cc := f.newClient(t, retool.Options{Domain: "finance.example.com", Token: child.Token()})
	groups := must[[]retool.Group](t)(cc.ListGroups(ctx))
	if len(groups) != 4 || groups[0].Name != "admin" || groups[0].ID == 1 {
		t.Errorf("the child Space's groups = %+v, want its own four default groups", groups)
	}
	must[retool.Group](t)(cc.CreateGroup(ctx, retool.GroupCreate{Name: "only-in-finance"}))
	if adminGroups := must[[]retool.Group](t)(c.ListGroups(ctx)); len(adminGroups) != 4 {
		t.Errorf("the admin Space sees %d groups, want its own 4", len(adminGroups))
	}

	wrong := f.newClient(t, retool.Options{Domain: "finance.example.com", Token: adminToken})
	_, err := wrong.ListGroups(ctx)
	if !retool.IsUnauthorized(err) || !strings.Contains(err.Error(), "401") {
		t.Errorf("the admin token on the child's domain: err = %v, want 401", err)
	}
	back := f.newClient(t, retool.Options{Token: child.Token()})
	if _, err := back.ListGroups(ctx); !retool.IsUnauthorized(err) {
		t.Errorf("the child's token on the admin Space: err = %v, want 401", err)
	}
	if _, err := cc.CreateSpace(ctx, retool.SpaceCreate{Name: "n", Domain: "n.example.com"}); !retool.IsForbidden(err) {
		t.Errorf("a child Space creating a Space: err = %v, want 403", err)
	}

	if err := c.DeleteSpace(ctx, sp.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteSpace(ctx, sp.ID); !retool.IsNotFound(err) {
		t.Errorf("deleting it again: err = %v, want 404", err)
	}
	if _, err := cc.ListGroups(ctx); !retool.IsUnauthorized(err) {
		t.Errorf("a deleted Space's token: err = %v, want 401", err)
	}
}

func TestForbiddenNamesTheScope(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, emulator.Options{}, retool.Options{})
	reader := f.newClient(t, retool.Options{Token: f.emu.Space("").MintToken("Groups > Read")})
	if _, err := reader.ListGroups(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := reader.CreateGroup(ctx, retool.GroupCreate{Name: "x"})
	if !retool.IsForbidden(err) || !strings.Contains(err.Error(), `"Groups > Write"`) || !strings.Contains(err.Error(), "POST /api/v2/groups") {
		t.Errorf("err = %v, want 403 naming the scope and the call", err)
	}
}

// TestEveryOperationValidated checks that the tests of this package
// exercised, through the validating transport, every operation of
// openapi.yaml (run with the rest of the package).
func TestEveryOperationValidated(t *testing.T) {
	ctx := context.Background()
	base, _ := releaseRepository(t, "o", "r") // the Space's repository, for the release
	f := newFixture(t, emulator.Options{GitBaseURL: base}, retool.Options{})
	c := f.client
	admin := f.emu.Space("")
	alice := admin.AddUser("alice@example.com")
	app := must[emulator.Object](t)(admin.AddApp("A", "x"))
	admin.AddWorkflow("W", "")
	admin.AddResource("R", "")
	g := must[retool.Group](t)(c.CreateGroup(ctx, retool.GroupCreate{Name: "g"}))
	steps := []func() error{
		func() error { _, err := c.ListGroups(ctx); return err },
		func() error { _, err := c.GetGroup(ctx, g.ID); return err },
		func() error { _, err := c.UpdateGroup(ctx, g.ID, retool.GroupUpdate{Name: ptr("h")}); return err },
		func() error { _, err := c.AddGroupMembers(ctx, g.ID, []retool.MemberInput{{ID: alice}}); return err },
		func() error { return c.RemoveGroupMember(ctx, g.ID, alice) },
		func() error { _, err := c.ListUsers(ctx); return err },
		func() error { _, err := c.CreateUserInvite(ctx, "b@example.com", []int64{g.ID}); return err },
		func() error { _, err := c.ListUserInvites(ctx); return err },
		func() error { _, err := c.ListFolders(ctx); return err },
		func() error {
			fo, err := c.CreateFolder(ctx, "f", "", retool.FolderTypeApp)
			if err != nil {
				return err
			}
			return c.DeleteFolder(ctx, fo.ID)
		},
		func() error { _, err := c.ListApps(ctx); return err },
		func() error { _, err := c.ListWorkflows(ctx); return err },
		func() error { _, err := c.ListResources(ctx); return err },
		func() error {
			return c.Grant(ctx, g.ID, retool.ObjectRef{Type: retool.ObjectApp, ID: app.ID}, retool.AccessUse)
		},
		func() error { _, err := c.ListObjects(ctx, g.ID, retool.ObjectApp); return err },
		func() error { return c.Revoke(ctx, g.ID, retool.ObjectRef{Type: retool.ObjectApp, ID: app.ID}) },
		func() error { _, err := c.AccessList(ctx, retool.ObjectApp, app.ID); return err },
		func() error {
			_, err := c.SetSSOConfig(ctx, retool.SSOConfig{ConfigType: retool.SSOGoogle, GoogleClientID: "id", GoogleClientSecret: "s"})
			return err
		},
		func() error { _, err := c.GetSSOConfig(ctx); return err },
		func() error { return c.DeleteSSOConfig(ctx) },
		func() error { _, err := c.GetSourceControlSettings(ctx); return err },
		func() error { _, err := c.UpdateSourceControlSettings(ctx, retool.SourceControlSettings{}); return err },
		func() error { _, err := c.GetSourceControlConfig(ctx); return err },
		func() error {
			_, err := c.PutSourceControlConfig(ctx, retool.SourceControlConfig{Provider: "GitLab", Org: "o", Repo: "r", DefaultBranch: "main",
				Config: map[string]any{"project_id": 1, "url": "https://gitlab.example.com", "project_access_token": "t"}})
			return err
		},
		func() error {
			_, err := c.CreateRelease(ctx, retool.ElementApp, app.ID, retool.ReleaseCreate{Version: "0.1.0"})
			return err
		},
		func() error { _, err := c.ListReleases(ctx, retool.ElementApp, app.ID); return err },
		func() error {
			sp, err := c.CreateSpace(ctx, retool.SpaceCreate{Name: "s", Domain: "s.example.com"})
			if err != nil {
				return err
			}
			if _, err := c.ListSpaces(ctx); err != nil {
				return err
			}
			return c.DeleteSpace(ctx, sp.ID)
		},
		func() error { return c.DeleteGroup(ctx, g.ID) },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	// POST and DELETE /source_control/config, GET and PATCH /folders/{id},
	// GET and PUT /spaces/{id} are served by the emulator (the replay tests use them) but not called
	// by the client.
	notCalled := []string{"GET /folders/{folderId}", "GET /spaces/{spaceId}", "POST /source_control/config",
		"PATCH /folders/{folderId}", "PUT /spaces/{spaceId}", "DELETE /source_control/config"}
	seen := f.transport.Operations()
	for _, op := range retooltest.DocumentOperations(t) {
		if !slices.Contains(seen, op) && !slices.Contains(notCalled, op) {
			t.Errorf("the client never called %s", op)
		}
	}
}
