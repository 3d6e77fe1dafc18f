package emulator_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/governor-dev/governor/internal/platform/emulator"
	"github.com/governor-dev/governor/internal/platform/retool"
	"github.com/governor-dev/governor/internal/platform/retool/retooltest"
)

// instance serves an emulator and a client of its admin Space, every
// exchange validated against openapi.yaml.
type instance struct {
	emu    *emulator.Server
	url    string
	client *retool.Client
}

func newInstance(t *testing.T, opts emulator.Options) *instance {
	t.Helper()
	if opts.Token == "" {
		opts.Token = "admin-token"
	}
	if opts.RequestsPerMinute == 0 {
		opts.RequestsPerMinute = -1
	}
	emu, err := emulator.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	c, err := retool.New(retool.Options{URL: srv.URL, Token: opts.Token, RequestsPerMinute: -1,
		HTTPClient: &http.Client{Transport: retooltest.ValidatingTransport(t, nil)}})
	if err != nil {
		t.Fatal(err)
	}
	return &instance{emu: emu, url: srv.URL, client: c}
}

func get[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// status is the HTTP status of an API error (200 for none).
func status(err error) int {
	if err == nil {
		return 200
	}
	var ae *retool.APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return -1
}

func TestSystemFoldersAsRecorded(t *testing.T) {
	inst := newInstance(t, emulator.Options{})
	ctx := context.Background()
	admin := inst.emu.Space("")
	admin.AddUser("luke@example.com")
	admin.AddInactiveUser("dormant@example.com")
	got := map[string]string{}
	for _, f := range get[[]retool.Folder](t)(inst.client.ListFolders(ctx)) {
		parent := "-"
		if f.ParentFolderID != nil {
			parent = *f.ParentFolderID
		}
		got[f.ID] = fmt.Sprintf("%s %s parent=%s system=%t", f.FolderType, f.Name, parent, f.IsSystemFolder)
	}
	// TestAccFoldersDataSource: the system folders of a real instance with
	// one user who signed in.
	want := map[string]string{
		"app_1":      "app root parent=- system=true",
		"app_2":      "app archive parent=app_1 system=true",
		"app_3":      "app personalRoot parent=- system=true",
		"workflow_4": "workflow root parent=- system=true",
		"workflow_5": "workflow archive parent=workflow_4 system=true",
		"file_6":     "file root parent=- system=true",
		"app_7":      "app (1) luke@example.com's Drafts parent=app_3 system=true",
		"app_8":      "app (1) luke@example.com's Trash parent=app_7 system=true",
		"resource_1": "resource root parent=- system=true",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("folders:\n got %v\nwant %v", got, want)
	}
	f := get[retool.Folder](t)(inst.client.CreateFolder(ctx, "team", "", retool.FolderTypeApp))
	if f.ParentFolderID == nil || *f.ParentFolderID != "app_1" || f.ID != "app_9" {
		t.Errorf("a new top-level folder is %+v, want app_9 under the app root app_1", f)
	}
}

func TestDefaultGroupsAsRecorded(t *testing.T) {
	inst := newInstance(t, emulator.Options{})
	groups := get[[]retool.Group](t)(inst.client.ListGroups(context.Background()))
	got := map[string]string{}
	for _, g := range groups {
		got[g.Name] = fmt.Sprintf("%d %s/%s/%s/%s list=%t audit=%t unpublished=%t analytics=%t theme=%t account=%t", g.ID,
			g.UniversalAppAccess, g.UniversalResourceAccess, g.UniversalWorkflowAccess, g.UniversalQueryLibraryAccess,
			g.UserListAccess, g.AuditLogAccess, g.UnpublishedReleaseAccess, g.UsageAnalyticsAccess, g.ThemeAccess, g.AccountDetailsAccess)
	}
	// TestAccGroupsDataSource (architecture.md's table).
	want := map[string]string{
		"admin":     "1 own/own/own/edit list=true audit=true unpublished=true analytics=true theme=true account=true",
		"editor":    "2 edit/own/edit/edit list=true audit=false unpublished=true analytics=false theme=false account=true",
		"viewer":    "3 use/use/use/use list=true audit=false unpublished=false analytics=false theme=false account=true",
		"All Users": "4 edit/own/edit/edit list=false audit=false unpublished=false analytics=false theme=false account=true",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("default groups:\n got %v\nwant %v", got, want)
	}
}

func TestAllUsersAndAdminRefused(t *testing.T) {
	inst := newInstance(t, emulator.Options{})
	ctx := context.Background()
	c := inst.client
	alice := inst.emu.Space("").AddUser("alice@example.com")
	const adminID, allUsersID, editorID = 1, 4, 2
	for _, tc := range []struct {
		name string
		do   func() error
		want int
	}{
		{"add a member to All Users", func() error {
			_, err := c.AddGroupMembers(ctx, allUsersID, []retool.MemberInput{{ID: alice, IsGroupAdmin: true}})
			return err
		}, 400},
		{"remove a member of All Users", func() error { return c.RemoveGroupMember(ctx, allUsersID, alice) }, 400},
		{"lower the admin group's app level", func() error {
			_, err := c.UpdateGroup(ctx, adminID, retool.GroupUpdate{UniversalAppAccess: ptr(retool.AccessUse)})
			return err
		}, 400},
		{"take a flag from the admin group", func() error {
			_, err := c.UpdateGroup(ctx, adminID, retool.GroupUpdate{AuditLogAccess: ptr(false)})
			return err
		}, 400},
		{"set the admin group's level it has", func() error {
			_, err := c.UpdateGroup(ctx, adminID, retool.GroupUpdate{UniversalAppAccess: ptr(retool.AccessOwn)})
			return err
		}, 200},
		{"change All Users' levels", func() error {
			_, err := c.UpdateGroup(ctx, allUsersID, retool.GroupUpdate{UniversalResourceAccess: ptr(retool.AccessUse)})
			return err
		}, 200},
		{"change the editor group's levels", func() error {
			_, err := c.UpdateGroup(ctx, editorID, retool.GroupUpdate{UniversalAppAccess: ptr(retool.AccessUse)})
			return err
		}, 200},
		{"add a member to the admin group", func() error {
			_, err := c.AddGroupMembers(ctx, adminID, []retool.MemberInput{{ID: alice}})
			return err
		}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := status(tc.do()); got != tc.want {
				t.Errorf("status %d, want %d", got, tc.want)
			}
		})
	}
	all := get[retool.Group](t)(c.GetGroup(ctx, allUsersID))
	if len(all.Members) != 1 || all.Members[0].ID != alice || all.Members[0].IsGroupAdmin {
		t.Errorf("All Users' members = %+v, want alice as she joined", all.Members)
	}
}

func TestInvitesExpireAfterSevenDays(t *testing.T) {
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		after   time.Duration
		claimed bool
	}{
		{"signed in the next day", 24 * time.Hour, true},
		{"signed in a second before expiry", 7*24*time.Hour - time.Second, true},
		{"signed in at expiry", 7 * 24 * time.Hour, false},
		{"signed in a month later", 30 * 24 * time.Hour, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := &clock{t: start}
			inst := newInstance(t, emulator.Options{Now: clk.Now})
			ctx := context.Background()
			g := get[retool.Group](t)(inst.client.CreateGroup(ctx, retool.GroupCreate{Name: "finance"}))
			inv := get[retool.UserInvite](t)(inst.client.CreateUserInvite(ctx, "erin@example.com", []int64{g.ID}))
			if inv.ExpiresAt != "2026-03-08T09:00:00.000Z" {
				t.Errorf("expires_at %s, want 7 days after creation", inv.ExpiresAt)
			}
			clk.Advance(tc.after)
			pending := len(get[retool.Group](t)(inst.client.GetGroup(ctx, g.ID)).UserInvites)
			erin := inst.emu.Space("").AddUser("erin@example.com")
			members := get[retool.Group](t)(inst.client.GetGroup(ctx, g.ID)).Members
			claimed := slices.ContainsFunc(members, func(m retool.GroupMember) bool { return m.ID == erin })
			if claimed != tc.claimed || (pending == 1) != tc.claimed {
				t.Errorf("invite listed by the group %t, claimed %t; want %t", pending == 1, claimed, tc.claimed)
			}
		})
	}
}

func TestInactiveUsers(t *testing.T) {
	inst := newInstance(t, emulator.Options{Domain: "admin.example.com"})
	ctx := context.Background()
	resp, u := call(t, inst.emu, "POST", "/emulator/v1/spaces/admin.example.com/users", "admin-token",
		`{"email":"gone@example.com","first_name":"Gone","last_name":"Away","active":false}`)
	if resp.StatusCode != 200 || u["active"] != false || u["first_name"] != "Gone" {
		t.Fatalf("an inactive user: %d %v", resp.StatusCode, u)
	}
	if resp, _ := call(t, inst.emu, "POST", "/emulator/v1/spaces/admin.example.com/users", "admin-token", `{"email":"x@example.com","active":"no"}`); resp.StatusCode != 400 {
		t.Errorf("active as a string: %d, want 400", resp.StatusCode)
	}
	users := get[*retool.User](t)(inst.client.FindUserByEmail(ctx, "gone@example.com"))
	if users == nil || users.Active || users.LastActive != nil {
		t.Errorf("GET /users: %+v, want the user inactive, never active", users)
	}
	app := get[emulator.Object](t)(inst.emu.Space("").AddApp("Payroll", ""))
	list := get[retool.AccessList](t)(inst.client.AccessList(ctx, retool.ObjectApp, app.ID))
	if len(list.User) != 0 {
		t.Errorf("access list of the app names %+v, want no inactive user", list.User)
	}
	for _, f := range get[[]retool.Folder](t)(inst.client.ListFolders(ctx)) {
		if strings.Contains(f.Name, "Drafts") {
			t.Errorf("an inactive user has drafts: %+v", f)
		}
	}
}

func TestUserSubjectGrants(t *testing.T) {
	inst := newInstance(t, emulator.Options{})
	ctx := context.Background()
	c := inst.client
	sp := inst.emu.Space("")
	alice := retool.UserSubject(sp.AddUser("alice@example.com"))
	app := get[emulator.Object](t)(sp.AddApp("Payroll", "finance"))
	res := get[emulator.Object](t)(sp.AddResource("db", ""))
	for _, tc := range []struct {
		name string
		sub  retool.Subject
		obj  retool.ObjectRef
		want int
	}{
		{"a user on a folder", alice, retool.ObjectRef{Type: retool.ObjectFolder, ID: app.FolderID}, 200},
		{"a user on an app", alice, retool.ObjectRef{Type: retool.ObjectApp, ID: app.ID}, 200},
		{"a user on a resource", alice, retool.ObjectRef{Type: retool.ObjectResource, ID: res.ID}, 400},
		{"a user who does not exist", retool.UserSubject("user_0123abcd"), retool.ObjectRef{Type: retool.ObjectApp, ID: app.ID}, 404},
		{"a group by its id", retool.GroupSubject(4), retool.ObjectRef{Type: retool.ObjectResource, ID: res.ID}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := status(c.GrantTo(ctx, tc.sub, tc.obj, retool.AccessEdit)); got != tc.want {
				t.Errorf("grant: status %d, want %d", got, tc.want)
			}
		})
	}
	if got := get[[]retool.ObjectAccess](t)(c.ListObjectsOf(ctx, alice, retool.ObjectApp)); len(got) != 1 || got[0].ID != app.ID || got[0].AccessLevel != "edit" {
		t.Errorf("alice's app grants = %+v", got)
	}
	if err := c.RevokeFrom(ctx, alice, retool.ObjectRef{Type: retool.ObjectApp, ID: app.ID}); err != nil {
		t.Fatal(err)
	}
	if got := get[[]retool.ObjectAccess](t)(c.ListObjectsOf(ctx, alice, retool.ObjectApp)); len(got) != 0 {
		t.Errorf("alice's app grants after revoke = %+v", got)
	}
	if got := get[[]retool.ObjectAccess](t)(c.ListObjectsOf(ctx, alice, retool.ObjectFolder)); len(got) != 1 || got[0].ID != app.FolderID {
		t.Errorf("alice's folder grants = %+v", got)
	}
	// The group list is unchanged by user grants.
	if got := get[[]retool.ObjectAccess](t)(c.ListObjects(ctx, 4, retool.ObjectFolder)); len(got) != 0 {
		t.Errorf("All Users' folder grants = %+v, want none", got)
	}
}

// entry renders an access list entry: "id level direct,universal,groups=...,inherited=...".
func entry(e retool.AccessListEntry) string {
	var src []string
	if s := e.Sources; s != nil {
		if s.Direct {
			src = append(src, "direct")
		}
		if s.Universal {
			src = append(src, "universal")
		}
		for _, g := range s.Groups {
			src = append(src, "group:"+g.ID)
		}
		if s.Inherited != nil {
			src = append(src, "inherited:"+s.Inherited.ID)
		}
	}
	return e.Subject.ID + " " + e.AccessLevel + " " + strings.Join(src, ",")
}

func TestAccessListRules(t *testing.T) {
	for _, mode := range []string{emulator.FolderGrantsDirect, emulator.FolderGrantsNested} {
		t.Run(mode, func(t *testing.T) {
			inst := newInstance(t, emulator.Options{FolderGrants: mode})
			ctx := context.Background()
			c := inst.client
			sp := inst.emu.Space("")
			// All Users reaches nothing by itself, so that each level below
			// has one source.
			get[retool.Group](t)(c.UpdateGroup(ctx, 4, retool.GroupUpdate{UniversalAppAccess: ptr("none"),
				UniversalResourceAccess: ptr("none"), UniversalWorkflowAccess: ptr("none")}))
			alice, bob := sp.AddUser("alice@example.com"), sp.AddUser("bob@example.com")
			top := get[emulator.Object](t)(sp.AddApp("Top", "finance"))
			deep := get[emulator.Object](t)(sp.AddApp("Deep", "finance/reports"))
			flow := get[emulator.Object](t)(sp.AddWorkflow("Nightly", "jobs"))
			finance, reports := top.FolderID, deep.FolderID
			fin := get[retool.Group](t)(c.CreateGroup(ctx, retool.GroupCreate{Name: "finance",
				Members: []retool.MemberInput{{ID: alice}}, UniversalWorkflowAccess: retool.AccessUse}))
			if err := c.Grant(ctx, fin.ID, retool.ObjectRef{Type: retool.ObjectFolder, ID: finance}, retool.AccessEdit); err != nil {
				t.Fatal(err)
			}
			if err := c.GrantTo(ctx, retool.UserSubject(bob), retool.ObjectRef{Type: retool.ObjectApp, ID: deep.ID}, retool.AccessOwn); err != nil {
				t.Fatal(err)
			}
			g := fmt.Sprint(fin.ID)
			nested := mode == emulator.FolderGrantsNested
			// admin, editor and viewer reach every app, folder and workflow
			// by their universal levels (they have no members here).
			defaults := func(more ...string) []string {
				return append([]string{"1 own universal", "2 edit universal", "3 use universal"}, more...)
			}
			for _, tc := range []struct {
				name        string
				typ, id     string
				groups      []string
				users       []string
				nestedGroup []string // when nested differs
				nestedUsers []string
			}{
				{"an app in the granted folder: inherited", retool.ObjectApp, top.ID,
					defaults(g + " edit inherited:" + finance),
					[]string{alice + " edit group:" + g}, nil, nil},
				{"an app in a sub-folder: not reached unless nested", retool.ObjectApp, deep.ID,
					defaults(),
					[]string{bob + " own direct"},
					defaults(g + " edit inherited:" + finance),
					[]string{alice + " edit group:" + g, bob + " own direct"}},
				{"the granted folder itself: direct", retool.ObjectFolder, finance,
					defaults(g + " edit direct"),
					[]string{alice + " edit group:" + g}, nil, nil},
				{"a sub-folder: not reached unless nested", retool.ObjectFolder, reports,
					defaults(), []string{},
					defaults(g + " edit inherited:" + finance),
					[]string{alice + " edit group:" + g}},
				{"a workflow: universal", retool.ObjectWorkflow, flow.ID,
					defaults(g + " use universal"),
					[]string{alice + " use group:" + g}, nil, nil},
				{"a folder by its number", retool.ObjectFolder, strings.TrimPrefix(finance, "app_"),
					defaults(g + " edit direct"),
					[]string{alice + " edit group:" + g}, nil, nil},
			} {
				t.Run(tc.name, func(t *testing.T) {
					list := get[retool.AccessList](t)(c.AccessList(ctx, tc.typ, tc.id))
					var groups, users []string
					for _, e := range list.Group {
						groups = append(groups, entry(e))
					}
					for _, e := range list.User {
						users = append(users, entry(e))
					}
					wantGroups, wantUsers := tc.groups, tc.users
					if nested && tc.nestedGroup != nil {
						wantGroups, wantUsers = tc.nestedGroup, tc.nestedUsers
					}
					if fmt.Sprint(groups) != fmt.Sprint(wantGroups) || fmt.Sprint(users) != fmt.Sprint(append([]string{}, wantUsers...)) {
						t.Errorf("groups %q, want %q\nusers %q, want %q", groups, wantGroups, users, wantUsers)
					}
				})
			}
			if _, err := c.AccessList(ctx, retool.ObjectApp, "6f1c1f7e-0000-4000-8000-000000000000"); status(err) != 404 {
				t.Errorf("the access list of a missing app: %v, want 404", err)
			}
		})
	}
}

func TestFolderGrantsOption(t *testing.T) {
	if _, err := emulator.Open(emulator.Options{FolderGrants: "deep"}); err == nil || !strings.Contains(err.Error(), "folder grants") {
		t.Errorf("FolderGrants deep: err = %v, want one naming folder grants", err)
	}
}

func TestSourceControlSettingsDefaults(t *testing.T) {
	inst := newInstance(t, emulator.Options{})
	got := get[retool.SourceControlSettings](t)(inst.client.GetSourceControlSettings(context.Background()))
	// Retool's document: auto branch naming and branch clean-up default to
	// true, the rest to false.
	want := retool.SourceControlSettings{AutoBranchNamingEnabled: true, AutoCleanupBranchesEnabled: true}
	if got != want {
		t.Errorf("settings = %+v, want %+v", got, want)
	}
}

func TestSSOConfig(t *testing.T) {
	inst := newInstance(t, emulator.Options{Domain: "hub.example.com"})
	ctx := context.Background()
	c := inst.client
	if cfg, err := c.GetSSOConfig(ctx); err != nil || cfg != nil {
		t.Fatalf("GET before any: %+v %v, want none (404)", cfg, err)
	}
	for _, tc := range []struct {
		name, body string
		want       int
	}{
		{"google", `{"data":{"config_type":"google","google_client_id":"id","google_client_secret":"s","disable_email_password_login":true}}`, 200},
		{"google without its secret", `{"data":{"config_type":"google","google_client_id":"id","disable_email_password_login":true}}`, 400},
		{"google with JIT (an oidc field)", `{"data":{"config_type":"google","google_client_id":"id","google_client_secret":"s","disable_email_password_login":true,"jit_enabled":true}}`, 400},
		{"oidc with jit_enabled a string", `{"data":{"config_type":"oidc","oidc_client_id":"i","oidc_client_secret":"s","oidc_scopes":"openid","oidc_auth_url":"https://a","oidc_token_url":"https://t","jwt_email_key":"e","jwt_first_name_key":"f","jwt_last_name_key":"l","jit_enabled":"yes","trigger_login_automatically":false,"disable_email_password_login":false}}`, 400},
		{"oidc with an empty client id (minLength 1)", `{"data":{"config_type":"oidc","oidc_client_id":"","oidc_client_secret":"s","oidc_scopes":"openid","oidc_auth_url":"https://a","oidc_token_url":"https://t","jwt_email_key":"e","jwt_first_name_key":"f","jwt_last_name_key":"l","jit_enabled":true,"trigger_login_automatically":false,"disable_email_password_login":false}}`, 400},
		{"an unknown type", `{"data":{"config_type":"ldap"}}`, 400},
		{"a field beside data", `{"data":{"config_type":"google","google_client_id":"id","google_client_secret":"s","disable_email_password_login":true},"x":1}`, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := call(t, inst.emu, "POST", "/api/v2/sso/config", "admin-token", tc.body)
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d: %v", resp.StatusCode, tc.want, body)
			}
		})
	}
	sent := retool.SSOConfig{ConfigType: retool.SSOOIDC, OIDCClientID: "governor", OIDCClientSecret: "s3cret", OIDCScopes: "openid email",
		OIDCAuthURL: "https://idp.example.com/auth", OIDCTokenURL: "https://idp.example.com/token", JWTEmailKey: "idToken.email",
		JWTFirstNameKey: "idToken.given_name", JWTLastNameKey: "idToken.family_name", JWTRolesKey: "idToken.groups",
		RolesMapping: "payments-admins->payments-admins", RestrictedDomain: "example.com", JITEnabled: ptr(false),
		TriggerLoginAutomatically: ptr(false)}
	got := get[retool.SSOConfig](t)(c.SetSSOConfig(ctx, sent))
	if got.OIDCClientSecret == sent.OIDCClientSecret || !retool.IsEncryptedSecret(got.OIDCClientSecret) {
		t.Errorf("the client secret came back as %q, want it encrypted", got.OIDCClientSecret)
	}
	again := get[*retool.SSOConfig](t)(c.GetSSOConfig(ctx))
	got.OIDCClientSecret, again.OIDCClientSecret, sent.OIDCClientSecret = "", "", ""
	if !reflect.DeepEqual(got, sent) || !reflect.DeepEqual(*again, sent) {
		t.Errorf("POST answered %+v, GET %+v; want what was sent but the secret", got, *again)
	}
	// A child Space created with copy_sso_settings starts with the parent's.
	get[retool.Space](t)(c.CreateSpace(ctx, retool.SpaceCreate{Name: "payments", Domain: "payments.example.com", CopySSOSettings: true}))
	req := httptest.NewRequest("GET", "/api/v2/sso/config", nil)
	req.Host = "payments.example.com"
	req.Header.Set("Authorization", "Bearer "+inst.emu.Space("payments.example.com").Token())
	rec := httptest.NewRecorder()
	inst.emu.ServeHTTP(rec, req)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"roles_mapping":"payments-admins-\u003epayments-admins"`) {
		t.Errorf("the child's SSO = %d %s, want the parent's", rec.Code, rec.Body)
	}
	if err := c.DeleteSSOConfig(ctx); err != nil {
		t.Fatal(err)
	}
	if cfg := get[*retool.SSOConfig](t)(c.GetSSOConfig(ctx)); cfg != nil {
		t.Errorf("after DELETE: %+v, want none", cfg)
	}
}

func TestDefaultRequestBudget(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := emulator.New(emulator.Options{Token: "tk", Now: clk.Now})
	for i := range emulator.DefaultRequestsPerMinute {
		if resp, _ := call(t, s, "GET", "/api/v2/groups", "tk", ""); resp.StatusCode != 200 {
			t.Fatalf("request %d: %d", i+1, resp.StatusCode)
		}
	}
	if resp, _ := call(t, s, "GET", "/api/v2/groups", "tk", ""); resp.StatusCode != 429 {
		t.Errorf("request 301 in a minute: %d, want 429", resp.StatusCode)
	}
	unlimited := emulator.New(emulator.Options{Token: "tk", Now: clk.Now, RequestsPerMinute: -1})
	for range emulator.DefaultRequestsPerMinute + 1 {
		if resp, _ := call(t, unlimited, "GET", "/api/v2/groups", "tk", ""); resp.StatusCode != 200 {
			t.Fatalf("unlimited: %d", resp.StatusCode)
		}
	}
}

func TestStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	opts := emulator.Options{Domain: "hub.example.com", StateDir: dir}
	first := newInstance(t, opts)
	c := first.client
	sp := first.emu.Space("")
	alice := sp.AddUser("alice@example.com")
	app := get[emulator.Object](t)(sp.AddApp("Payroll", "finance"))
	g := get[retool.Group](t)(c.CreateGroup(ctx, retool.GroupCreate{Name: "finance", Members: []retool.MemberInput{{ID: alice, IsGroupAdmin: true}}}))
	if err := c.Grant(ctx, g.ID, retool.ObjectRef{Type: retool.ObjectFolder, ID: app.FolderID}, retool.AccessEdit); err != nil {
		t.Fatal(err)
	}
	if err := c.GrantTo(ctx, retool.UserSubject(alice), retool.ObjectRef{Type: retool.ObjectApp, ID: app.ID}, retool.AccessOwn); err != nil {
		t.Fatal(err)
	}
	get[retool.UserInvite](t)(c.CreateUserInvite(ctx, "bob@example.com", []int64{g.ID}))
	get[retool.Space](t)(c.CreateSpace(ctx, retool.SpaceCreate{Name: "payments", Domain: "payments.example.com"}))
	childToken := first.emu.Space("payments.example.com").MintToken("Groups > Read")
	get[retool.SSOConfig](t)(c.SetSSOConfig(ctx, retool.SSOConfig{ConfigType: retool.SSOGoogle, GoogleClientID: "id", GoogleClientSecret: "s"}))
	if err := first.emu.Save(); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, c)

	second := newInstance(t, opts) // the admin token is kept too
	if after := snapshot(t, second.client); after != before {
		t.Errorf("after a restart:\n%s\nwant\n%s", after, before)
	}
	resp, _ := call(t, second.emu, "GET", "/api/v2/groups", childToken, "")
	req := httptest.NewRequest("GET", "/api/v2/apps", nil)
	req.Host = "payments.example.com"
	req.Header.Set("Authorization", "Bearer "+childToken)
	rec := httptest.NewRecorder()
	second.emu.ServeHTTP(rec, req)
	if resp.StatusCode != 401 || rec.Code != 403 {
		t.Errorf("the child's scoped token after a restart: %d on the admin Space, %d beyond its scope; want 401 and 403", resp.StatusCode, rec.Code)
	}
	// Ids go on from where they were.
	next := get[retool.Group](t)(second.client.CreateGroup(ctx, retool.GroupCreate{Name: "auditors"}))
	if next.ID <= g.ID {
		t.Errorf("a group created after the restart has id %d, not after %d", next.ID, g.ID)
	}
	if _, err := emulator.Open(emulator.Options{Domain: "other.example.com", StateDir: dir}); err == nil || !strings.Contains(err.Error(), "hub.example.com") {
		t.Errorf("another instance's state: err = %v, want one naming the instance it holds", err)
	}
}

// snapshot renders what the admin Space answers.
func snapshot(t *testing.T, c *retool.Client) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	line := func(v any) {
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(j)
		b.WriteByte('\n')
	}
	line(get[[]retool.Group](t)(c.ListGroups(ctx)))
	line(get[[]retool.User](t)(c.ListUsers(ctx)))
	line(get[[]retool.UserInvite](t)(c.ListUserInvites(ctx)))
	line(get[[]retool.Folder](t)(c.ListFolders(ctx)))
	apps := get[[]retool.App](t)(c.ListApps(ctx))
	line(apps)
	line(get[[]retool.ObjectAccess](t)(c.ListObjects(ctx, 5, retool.ObjectFolder)))
	line(get[[]retool.Space](t)(c.ListSpaces(ctx)))
	line(get[*retool.SSOConfig](t)(c.GetSSOConfig(ctx)))
	line(get[retool.SourceControlSettings](t)(c.GetSourceControlSettings(ctx)))
	for _, a := range apps {
		line(get[retool.AccessList](t)(c.AccessList(ctx, retool.ObjectApp, a.ID)))
	}
	return b.String()
}

func ptr[T any](v T) *T { return &v }
