package platform

import (
	"bytes"
	"strings"
	"testing"

	"github.com/governor-dev/governor/internal/access"
)

// verifySpace: team (alice, and the IdP group finance-team) has Edit on the
// app folder finance and Use on resource ledger-db (None in production);
// bob is a Viewer, root an Admin.
func verifySpace(t *testing.T) *access.Snapshot {
	t.Helper()
	snap, problems := access.Compile(access.SpaceInput{
		Name:         "payments",
		Environments: []access.Environment{{Name: "development"}, {Name: "production", ReadOnly: true}},
		Groups: []access.Group{
			{Name: "team", DisplayName: "Team", Members: []access.Member{{Email: "alice@example.com"}}, IdPGroups: []string{"finance-team"}},
			{Name: "viewer", Builtin: access.Viewer, Members: []access.Member{{Email: "bob@example.com"}}},
			{Name: "admin", Builtin: access.Admin, Members: []access.Member{{Email: "root@example.com"}}},
		},
		Rules: []access.Rule{
			{Name: "finance", Group: "team", Level: access.Edit, Targets: []access.RuleTarget{{Kind: access.App, Folder: true, Name: "finance"}}},
			{Name: "ledger", Group: "team", Level: access.Use, Targets: []access.RuleTarget{{Kind: access.Resource, Name: "ledger-db",
				Environments: []access.EnvironmentLevel{{Name: "production", Level: access.None}}}}},
		},
	})
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	return snap
}

func verifyUsers() []InstanceUser {
	return []InstanceUser{
		{ID: "user_a", Email: "Alice@example.com", Active: true},
		{ID: "user_b", Email: "bob@example.com", Active: true},
		{ID: "user_r", Email: "root@example.com", Active: true},
		{ID: "user_c", Email: "carol@example.com", Active: true},
		{ID: "user_d", Email: "dave@example.com", Active: true},
		{ID: "user_x", Email: "gone@example.com", Active: false},
	}
}

// heldApp is app "ledger" in finance/reports as an instance that holds the
// model answers it: alice through Team, bob through viewer, root through admin.
func heldApp(extra ...AccessEntry) InstanceObject {
	return InstanceObject{Type: ObjectApp, Kind: access.App, ID: "uuid-ledger", Name: "ledger", Folder: "finance/reports",
		Users: append([]AccessEntry{
			{UserID: "user_a", Level: "edit", Source: AccessSource{Groups: []string{"Team"}, Inherited: "folder app_8"}},
			{UserID: "user_b", Level: "use", Source: AccessSource{Groups: []string{"viewer"}, Universal: true}},
			{UserID: "user_r", Level: "own", Source: AccessSource{Groups: []string{"admin"}, Universal: true}},
		}, extra...)}
}

func TestVerify(t *testing.T) {
	snap := verifySpace(t)
	viewerAndAdmin := []AccessEntry{
		{UserID: "user_b", Level: "use", Source: AccessSource{Groups: []string{"viewer"}, Universal: true}},
		{UserID: "user_r", Level: "own", Source: AccessSource{Groups: []string{"admin"}, Universal: true}},
	}
	cases := map[string]struct {
		env     string
		objects []InstanceObject
		idp     map[string][]string
		want    []Difference
	}{
		"an instance that holds the model": {
			env: "development",
			objects: []InstanceObject{heldApp(),
				{Type: ObjectFolder, Kind: access.App, ID: "app_7", Name: "finance", Users: heldApp().Users},
				{Type: ObjectResource, Kind: access.Resource, ID: "r1", Name: "ledger-db", Users: append([]AccessEntry{
					{UserID: "user_a", Level: "use", Source: AccessSource{Groups: []string{"Team"}}}}, viewerAndAdmin[0], AccessEntry{UserID: "user_r", Level: "own"})},
				{Type: ObjectWorkflow, Kind: access.Workflow, ID: "w1", Name: "payroll", Users: viewerAndAdmin},
			},
		},
		"a sub-folder the folder grant did not reach": {
			env:     "development",
			objects: []InstanceObject{{Type: ObjectApp, Kind: access.App, ID: "uuid-ledger", Name: "ledger", Folder: "finance/reports", Users: viewerAndAdmin}},
			want: []Difference{{User: "alice@example.com", Object: `app "ledger" in folder "finance/reports"`, InstanceLevel: "none", InstanceSource: "no access",
				ModelLevel: "edit", Decided: "group team: folder rule finance on finance"}},
		},
		"a grant behind Governor's back names exactly the user it affects": {
			env:     "development",
			objects: []InstanceObject{heldApp(AccessEntry{UserID: "user_c", Level: "own", Source: AccessSource{Direct: true}})},
			want: []Difference{{User: "carol@example.com", Object: `app "ledger" in folder "finance/reports"`, InstanceLevel: "own", InstanceSource: "a grant to the user",
				ModelLevel: "none", Decided: "not a member of the Space"}},
		},
		"an environment override the instance does not hold": {
			env: "production",
			objects: []InstanceObject{{Type: ObjectResource, Kind: access.Resource, ID: "r1", Name: "ledger-db", Users: append([]AccessEntry{
				{UserID: "user_a", Level: "use", Source: AccessSource{Groups: []string{"Team"}}}}, viewerAndAdmin...)}},
			want: []Difference{{User: "alice@example.com", Object: `resource "ledger-db"`, InstanceLevel: "use", InstanceSource: "group Team",
				ModelLevel: "none", Decided: "group team: object rule ledger (override for production)"}},
		},
		"a member through an IdP group, told by the caller": {
			env:     "development",
			idp:     map[string][]string{"dave@example.com": {"finance-team"}},
			objects: []InstanceObject{heldApp(AccessEntry{UserID: "user_d", Level: "edit", Source: AccessSource{Groups: []string{"Team"}}})},
		},
		"a member through an IdP group, not told": {
			env:     "development",
			objects: []InstanceObject{heldApp(AccessEntry{UserID: "user_d", Level: "edit", Source: AccessSource{Groups: []string{"Team"}}})},
			want: []Difference{{User: "dave@example.com", Object: `app "ledger" in folder "finance/reports"`, InstanceLevel: "edit", InstanceSource: "group Team",
				ModelLevel: "none", Decided: "not a member of the Space"}},
		},
		"a deactivated user is not compared; an unknown one is, by id": {
			env: "development",
			objects: []InstanceObject{heldApp(AccessEntry{UserID: "user_x", Level: "own", Source: AccessSource{Direct: true}},
				AccessEntry{UserID: "user_zz", Level: "use", Source: AccessSource{Universal: true}})},
			want: []Difference{{User: "user_zz", Object: `app "ledger" in folder "finance/reports"`, InstanceLevel: "use", InstanceSource: "a universal level",
				ModelLevel: "none", Decided: "the user's account is not in the instance's user list"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			res, err := Verify(VerifyInput{Snapshot: snap, Environment: tc.env, Users: verifyUsers(), Objects: tc.objects, IdPGroups: tc.idp})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Differences) != len(tc.want) {
				var buf bytes.Buffer
				res.Format(&buf)
				t.Fatalf("differences = %d, want %d\n%s", len(res.Differences), len(tc.want), buf.String())
			}
			for i := range tc.want {
				if res.Differences[i] != tc.want[i] {
					t.Errorf("difference:\n got %+v\nwant %+v", res.Differences[i], tc.want[i])
				}
			}
		})
	}
}

func TestVerifyFormat(t *testing.T) {
	res, err := Verify(VerifyInput{Snapshot: verifySpace(t), Environment: "development", Users: verifyUsers(),
		Objects: []InstanceObject{heldApp(AccessEntry{UserID: "user_c", Level: "own", Source: AccessSource{Direct: true}})}})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	res.Format(&buf)
	out := buf.String()
	for _, want := range []string{"Space payments, environment development", "1 object(s), 5 user(s)", "1 difference(s):",
		`carol@example.com on app "ledger" in folder "finance/reports": instance own (a grant to the user), model none (not a member of the Space)`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	res, _ = Verify(VerifyInput{Snapshot: verifySpace(t), Environment: "development", Users: verifyUsers(), Objects: []InstanceObject{heldApp()}})
	buf.Reset()
	res.Format(&buf)
	if !strings.Contains(buf.String(), "No difference") {
		t.Errorf("output:\n%s", buf.String())
	}
	if _, err := Verify(VerifyInput{Snapshot: verifySpace(t), Environment: "qa", Users: verifyUsers(), Objects: []InstanceObject{heldApp()}}); err == nil {
		t.Error("an environment the Space does not declare is an error")
	}
}

func TestVerifyObjects(t *testing.T) {
	items := []InstanceItem{
		{Type: ObjectApp, ID: "u1", Name: "top", FolderID: "app_1"},
		{Type: ObjectApp, ID: "u2", Name: "nested", FolderID: "app_10"},
		{Type: ObjectApp, ID: "u3", Name: "draft", FolderID: "app_7"},
		{Type: ObjectApp, ID: "u4", Name: "archived", FolderID: "app_2"},
		{Type: ObjectWorkflow, ID: "w1", Name: "payroll", FolderID: "workflow_11"},
		{Type: ObjectResource, ID: "r1", Name: "ledger-db"},
	}
	objects, outside := VerifyObjects(recordedFolders(), items)
	var got []string
	for _, o := range objects {
		got = append(got, o.String())
	}
	want := []string{
		`app folder "Terraform Example App Folder"`, `app folder "Terraform Example App Folder/Example Subfolder"`,
		`workflow folder "Terraform Example Workflow Folder"`, `resource folder "Terraform Example Resource Folder"`,
		`app "top"`, `app "nested" in folder "Terraform Example App Folder/Example Subfolder"`,
		`workflow "payroll" in folder "Terraform Example Workflow Folder"`, `resource "ledger-db"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("objects:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if outside != 2 {
		t.Errorf("outside = %d, want 2 (a draft and an archived app)", outside)
	}
}

func TestIdPGroupsFromInstance(t *testing.T) {
	in := access.SpaceInput{
		Groups: []access.Group{
			{Name: "team", DisplayName: "Team", Members: []access.Member{{Email: "alice@example.com"}}, IdPGroups: []string{"finance-team"}},
			{Name: "viewer", Builtin: access.Viewer},
			{Name: "plain", Members: []access.Member{{Email: "alice@example.com"}}},
		},
		SSO: access.SSO{RoleMappings: []access.RoleMapping{{IdPGroup: "readers", Group: "viewer"}}},
	}
	groups := []ObservedGroup{
		{ID: 3, Name: "viewer", Members: []ObservedMember{{Email: "Bob@example.com"}}},
		{ID: 9, Name: "Team", Members: []ObservedMember{{Email: "alice@example.com"}, {Email: "dave@example.com"}}},
		{ID: 10, Name: "plain", Members: []ObservedMember{{Email: "eve@example.com"}}},
	}
	got := IdPGroupsFromInstance(in, groups)
	want := map[string][]string{"bob@example.com": {"readers"}, "dave@example.com": {"finance-team"}}
	if len(got) != len(want) || strings.Join(got["bob@example.com"], ",") != "readers" || strings.Join(got["dave@example.com"], ",") != "finance-team" {
		t.Errorf("IdP groups = %v, want %v", got, want)
	}
}
