package controller_test

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/platform/emulator"
	"github.com/governor-dev/governor/internal/platform/retool"
)

const platformTimeout = 60 * time.Second

// instance is an emulated platform instance on loopback.
type instance struct {
	srv *emulator.Server
	ts  *httptest.Server
}

func newInstance(t *testing.T, opts emulator.Options) *instance {
	t.Helper()
	if opts.RequestsPerMinute == 0 {
		opts.RequestsPerMinute = -1 // the tests' clients keep their own budget
	}
	srv := emulator.New(opts)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &instance{srv: srv, ts: ts}
}

// admin is a client of the instance's admin Space.
func (i *instance) admin(t *testing.T) *retool.Client {
	t.Helper()
	c, err := retool.New(retool.Options{URL: i.ts.URL, Domain: i.srv.Space("").Domain(), Token: i.srv.Space("").Token(), RequestsPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// child creates a team Space in the instance, as the hub's admin would, and
// returns its handle.
func (i *instance) child(t *testing.T, domain string) *emulator.Space {
	t.Helper()
	if _, err := i.admin(t).CreateSpace(ctx(), retool.SpaceCreate{Name: domain, Domain: domain}); err != nil {
		t.Fatal(err)
	}
	return i.srv.Space(domain)
}

// as is a client of a Space of the instance, outside Governor's budget.
func (i *instance) as(t *testing.T, sp *emulator.Space) *retool.Client {
	t.Helper()
	c, err := retool.New(retool.Options{URL: i.ts.URL, Domain: sp.Domain(), Token: sp.Token(), RequestsPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func tokenSecret(t *testing.T, name, token string) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: governorNamespace}, StringData: map[string]string{"token": token}}
	create(t, s)
	t.Cleanup(func() { _ = env.Client.Delete(ctx(), s) })
	return s
}

func platformEnv(name string, inst *instance, domain, secret string, readOnly bool) governorv1alpha1.Environment {
	e := governorv1alpha1.Environment{Name: name, ReadOnly: readOnly, Instance: &governorv1alpha1.Instance{
		URL: inst.ts.URL, Domain: domain, TokenSecretRef: governorv1alpha1.SecretKeyReference{Name: secret, Key: "token"}}}
	return e
}

// eventuallySynced waits until every instance of the Space holds its current
// access model revision, and returns the Space.
func eventuallySynced(t *testing.T, space *governorv1alpha1.Space) *governorv1alpha1.Space {
	t.Helper()
	NewWithT(t).Eventually(func(g Gomega) {
		c := condition(g, space, governorv1alpha1.ConditionPlatformSynced)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue), "%s: %s", c.Reason, c.Message)
		g.Expect(space.Status.AccessModel).NotTo(BeNil())
		model := getModel(space.Name)
		g.Expect(model).NotTo(BeNil())
		for _, p := range space.Status.Platform {
			g.Expect(p.SyncedRevision).To(Equal(model.Snapshot.Revision()), p.Environment)
		}
	}, platformTimeout, interval).Should(Succeed())
	return space
}

// platformReason waits until PlatformSynced is False with reason, and
// returns its message.
func platformReason(t *testing.T, space *governorv1alpha1.Space, reason string) string {
	t.Helper()
	return platformReasonWithin(t, space, reason, platformTimeout)
}

func platformReasonWithin(t *testing.T, space *governorv1alpha1.Space, reason string, within time.Duration) string {
	t.Helper()
	var msg string
	NewWithT(t).Eventually(func(g Gomega) {
		c := condition(g, space, governorv1alpha1.ConditionPlatformSynced)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(c.Reason).To(Equal(reason), c.Message)
		msg = c.Message
	}, within, interval).Should(Succeed())
	return msg
}

func groupNamed(t *testing.T, c *retool.Client, name string) *retool.Group {
	t.Helper()
	groups, err := c.ListGroups(ctx())
	if err != nil {
		t.Fatal(err)
	}
	for i := range groups {
		if groups[i].Name == name {
			return &groups[i]
		}
	}
	return nil
}

func grantsOf(t *testing.T, c *retool.Client, group int64) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, typ := range []string{"folder", "app", "resource"} {
		objs, err := c.ListObjects(ctx(), group, typ)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			out[o.Type+"/"+o.ID] = o.AccessLevel
		}
	}
	return out
}

func emails(g *retool.Group) []string {
	var out []string
	for _, m := range g.Members {
		e := m.Email
		if m.IsGroupAdmin {
			e += " (admin)"
		}
		out = append(out, e)
	}
	slices.Sort(out)
	return out
}

func folderID(t *testing.T, c *retool.Client, typ, path string) string {
	t.Helper()
	folders, err := c.ListFolders(ctx())
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]retool.Folder{}
	for _, f := range folders {
		byID[f.ID] = f
	}
	for _, f := range folders {
		if f.FolderType != typ || f.IsSystemFolder {
			continue
		}
		parts := []string{f.Name}
		for p := f.ParentFolderID; p != nil && !byID[*p].IsSystemFolder; p = byID[*p].ParentFolderID {
			parts = append([]string{byID[*p].Name}, parts...)
		}
		if strings.Join(parts, "/") == path {
			return f.ID
		}
	}
	return ""
}

// platformSpace is a Space with a development and a read-only production
// instance, a custom group with a group admin, the built-in Admin group, an
// AllUsers group with settings, and rules on a folder path, an app, a
// resource overridden in production and a single workflow.
func platformSpace(t *testing.T, name string, mutate ...func(*governorv1alpha1.Space)) (space *governorv1alpha1.Space, dev, prod *instance, devSpace, prodSpace *emulator.Space) {
	t.Helper()
	dev, prod = newInstance(t, emulator.Options{Domain: "hub.dev.test"}), newInstance(t, emulator.Options{Domain: "hub.prod.test"})
	devSpace, prodSpace = dev.child(t, name+".dev.test"), prod.child(t, name+".prod.test")
	for _, sp := range []*emulator.Space{devSpace, prodSpace} {
		for _, u := range []string{"alice@example.com", "bob@example.com", "root@example.com"} {
			sp.AddUser(u)
		}
		if _, err := sp.AddApp("ledger", "finance"); err != nil {
			t.Fatal(err)
		}
		if _, err := sp.AddResource("ledger-db", ""); err != nil {
			t.Fatal(err)
		}
	}
	tokenSecret(t, name+"-dev", devSpace.Token())
	tokenSecret(t, name+"-prod", prodSpace.Token())
	space = newSpace(name, func(s *governorv1alpha1.Space) {
		s.Spec.DefaultGroups = new(bool)
		s.Spec.Environments = []governorv1alpha1.Environment{
			platformEnv("development", dev, name+".dev.test", name+"-dev", false),
			platformEnv("production", prod, name+".prod.test", name+"-prod", true),
		}
		for _, m := range mutate {
			m(s)
		}
	})
	ns := name
	create(t, space)
	t.Cleanup(func() { _ = env.Client.Delete(ctx(), space) })
	NewWithT(t).Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx(), client.ObjectKey{Name: ns}, &corev1.Namespace{})).To(Succeed())
	}, timeout, interval).Should(Succeed())
	create(t,
		&governorv1alpha1.PermissionGroup{ObjectMeta: metav1.ObjectMeta{Name: "finance", Namespace: ns}, Spec: governorv1alpha1.PermissionGroupSpec{
			DisplayName: "Finance",
			Members:     []governorv1alpha1.Member{{Email: "Alice@Example.com", GroupAdmin: true}, {Email: "bob@example.com"}, {Email: "new@example.com"}},
			Universal:   &governorv1alpha1.UniversalAccess{Resources: "Use"},
			Additional:  &governorv1alpha1.AdditionalAccess{AuditLog: true},
		}},
		&governorv1alpha1.PermissionGroup{ObjectMeta: metav1.ObjectMeta{Name: "admins", Namespace: ns}, Spec: governorv1alpha1.PermissionGroupSpec{
			Builtin: governorv1alpha1.BuiltinAdmin, Members: []governorv1alpha1.Member{{Email: "root@example.com"}}}},
		&governorv1alpha1.PermissionGroup{ObjectMeta: metav1.ObjectMeta{Name: "everyone", Namespace: ns}, Spec: governorv1alpha1.PermissionGroupSpec{
			// Own: above the edit Retool's All Users holds already, which
			// Additive mode never lowers.
			Builtin: governorv1alpha1.BuiltinAllUsers, Universal: &governorv1alpha1.UniversalAccess{Apps: "Own"}}},
		&governorv1alpha1.AccessRule{ObjectMeta: metav1.ObjectMeta{Name: "finance-folder", Namespace: ns}, Spec: governorv1alpha1.AccessRuleSpec{
			Group: "finance", Level: "Edit", Targets: []governorv1alpha1.Target{{Kind: governorv1alpha1.TargetFolder, FolderType: "App", Name: "finance/reports"}}}},
		&governorv1alpha1.AccessRule{ObjectMeta: metav1.ObjectMeta{Name: "ledger", Namespace: ns}, Spec: governorv1alpha1.AccessRuleSpec{
			Group: "finance", Level: "Own", Targets: []governorv1alpha1.Target{
				{Kind: governorv1alpha1.TargetApp, Name: "ledger"},
				{Kind: governorv1alpha1.TargetResource, Name: "ledger-db", Environments: []governorv1alpha1.EnvironmentLevel{{Name: "production", Level: "Use"}}},
				{Kind: governorv1alpha1.TargetWorkflow, Name: "payroll"},
			}}},
	)
	return space, dev, prod, devSpace, prodSpace
}

// TestPlatformSyncHoldsTheModel walks the rows of architecture.md's table.
func TestPlatformSyncHoldsTheModel(t *testing.T) {
	g := NewWithT(t)
	space, dev, prod, devSpace, prodSpace := platformSpace(t, "plat-rows")
	eventuallySynced(t, space)
	devc, prodc := dev.as(t, devSpace), prod.as(t, prodSpace)

	finance := groupNamed(t, devc, "Finance")
	g.Expect(finance).NotTo(BeNil(), "a custom group is created under its display name")
	g.Expect(emails(finance)).To(Equal([]string{"alice@example.com (admin)", "bob@example.com"}), "members by email, group admins kept")
	g.Expect(finance.UniversalResourceAccess).To(Equal("use"))
	g.Expect(finance.AuditLogAccess).To(BeTrue())
	g.Expect(finance.UserListAccess).To(BeFalse())
	g.Expect(emails(groupNamed(t, devc, "admin"))).To(ContainElement("root@example.com"), "the Admin builtin's members join Retool's admin group")
	g.Expect(groupNamed(t, devc, "All Users").UniversalAppAccess).To(Equal("own"), "AllUsers writes Retool's All Users group")

	reports := folderID(t, devc, "app", "finance/reports")
	g.Expect(reports).NotTo(BeEmpty(), "the missing folder is created under the existing finance folder")
	apps, err := devc.ListApps(ctx())
	g.Expect(err).NotTo(HaveOccurred())
	resources, err := devc.ListResources(ctx())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(grantsOf(t, devc, finance.ID)).To(Equal(map[string]string{
		"folder/" + reports: "edit", "app/" + apps[0].ID: "own", "resource/" + resources[0].ID: "own",
	}))
	prodFinance := groupNamed(t, prodc, "Finance")
	prodResources, _ := prodc.ListResources(ctx())
	g.Expect(grantsOf(t, prodc, prodFinance.ID)).To(HaveKeyWithValue("resource/"+prodResources[0].ID, "use"), "production's override")

	devSettings, _ := devc.GetSourceControlSettings(ctx())
	prodSettings, _ := prodc.GetSourceControlSettings(ctx())
	g.Expect(devSettings.VersionControlLocked).To(BeFalse())
	g.Expect(prodSettings.VersionControlLocked).To(BeTrue(), "a read-only environment is locked")

	g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(space), space)).To(Succeed())
	devStatus := space.Status.Platform[0]
	g.Expect(devStatus.Environment).To(Equal("development"))
	g.Expect(devStatus.SpaceID).To(BeEmpty(), "no admin Space created it")
	g.Expect(devStatus.Pending).To(ContainElement(ContainSubstring("member new@example.com has no account")))
	g.Expect(devStatus.NotExpressible).To(ContainElement(And(ContainSubstring("payroll"), ContainSubstring("grants no single workflow"))),
		"what the instance cannot hold is said apart from what waits")
	g.Expect(devStatus.NotExpressibleCount).To(BeEquivalentTo(len(devStatus.NotExpressible)))
	// The Space controller folds PlatformSynced into Ready a moment later.
	eventuallyReady(t, space) // pending items do not make the Space unready

	// What Governor created is recorded in Governor's namespace, beside the
	// Space (owned by it), not in the team's objects' status.
	rec := &corev1.ConfigMap{}
	g.Expect(env.Client.Get(ctx(), client.ObjectKey{Namespace: governorNamespace, Name: "governor-platform-plat-rows-development"}, rec)).To(Succeed())
	g.Expect(rec.Labels).To(HaveKeyWithValue("app.kubernetes.io/managed-by", "governor"))
	g.Expect(rec.OwnerReferences).To(ConsistOf(HaveField("UID", space.UID)))
	var record struct {
		Groups        map[string]int64  `json:"groups"`
		CreatedGroups []int64           `json:"createdGroups"`
		CreatedGrants []string          `json:"createdGrants"`
		Folders       map[string]string `json:"folders"`
	}
	g.Expect(json.Unmarshal([]byte(rec.Data["record.json"]), &record)).To(Succeed())
	g.Expect(record.Groups).To(HaveKeyWithValue("finance", finance.ID))
	g.Expect(record.CreatedGroups).To(ContainElement(finance.ID))
	g.Expect(record.CreatedGrants).To(ContainElement(itoa(finance.ID) + "/folder/" + reports))
	g.Expect(record.Folders).To(HaveKeyWithValue("app/finance/reports", reports))

	// The member signs in: the next resync places them.
	devSpace.AddUser("new@example.com")
	g.Eventually(func() []string { return emails(groupNamed(t, devc, "Finance")) }, platformTimeout, interval).Should(ContainElement("new@example.com"))
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

// TestPlatformAtRestWritesNothing: resyncs of a synced Space write nothing,
// to the instance or to the API server, and the budget was never exceeded.
func TestPlatformAtRestWritesNothing(t *testing.T) {
	g := NewWithT(t)
	space, dev, _, _, _ := platformSpace(t, "plat-rest")
	eventuallySynced(t, space)
	// A few resyncs settle what the first pass recorded and the first
	// comparison of the instance's access lists (effective drift).
	time.Sleep(6 * time.Second)
	dev.srv.ResetStats()
	before := resourceVersions(t, space)
	time.Sleep(7 * time.Second) // more than three resyncs
	st := dev.srv.Stats()
	g.Expect(st.Writes()).To(BeZero(), "requests at rest: %v", st.Requests)
	g.Expect(st.Total()).To(BeNumerically(">", 0), "resyncs read the instance")
	g.Expect(resourceVersions(t, space)).To(Equal(before), "nothing written to the API server at rest")
	g.Expect(st.MaxPerMinute).To(BeNumerically("<=", platformBudget))
}

func resourceVersions(t *testing.T, space *governorv1alpha1.Space) map[string]string {
	t.Helper()
	out := map[string]string{}
	s := &governorv1alpha1.Space{}
	if err := env.Client.Get(ctx(), client.ObjectKeyFromObject(space), s); err != nil {
		t.Fatal(err)
	}
	out["space"] = s.ResourceVersion
	var groups governorv1alpha1.PermissionGroupList
	var rules governorv1alpha1.AccessRuleList
	if err := env.Client.List(ctx(), &groups, client.InNamespace(space.Name)); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.List(ctx(), &rules, client.InNamespace(space.Name)); err != nil {
		t.Fatal(err)
	}
	for _, o := range groups.Items {
		out["group/"+o.Name] = o.ResourceVersion
	}
	for _, o := range rules.Items {
		out["rule/"+o.Name] = o.ResourceVersion
	}
	return out
}

// TestPlatformRuleChange: a rule change reaches the instance with exactly
// the grants that changed; a deleted rule and group are removed from it.
func TestPlatformRuleChangeAndDeletion(t *testing.T) {
	g := NewWithT(t)
	space, dev, _, devSpace, _ := platformSpace(t, "plat-change")
	eventuallySynced(t, space)
	devc := dev.as(t, devSpace)
	time.Sleep(3 * time.Second)
	dev.srv.ResetStats()

	rule := &governorv1alpha1.AccessRule{}
	g.Expect(env.Client.Get(ctx(), client.ObjectKey{Namespace: "plat-change", Name: "ledger"}, rule)).To(Succeed())
	rule.Spec.Level = "Use"
	g.Expect(env.Client.Update(ctx(), rule)).To(Succeed())
	finance := groupNamed(t, devc, "Finance")
	apps, _ := devc.ListApps(ctx())
	g.Eventually(func() map[string]string { return grantsOf(t, devc, finance.ID) }, platformTimeout, interval).Should(
		HaveKeyWithValue("app/"+apps[0].ID, "use"))
	eventuallySynced(t, space)
	st := dev.srv.Stats()
	g.Expect(st.Requests["POST /api/v2/permissions/grant"]).To(Equal(2), "the app and the resource: %v", st.Requests)
	g.Expect(st.Writes()).To(Equal(2), "nothing else is written: %v", st.Requests)

	// Deleting the folder rule revokes its grant; deleting the group removes it.
	folder := &governorv1alpha1.AccessRule{ObjectMeta: metav1.ObjectMeta{Namespace: "plat-change", Name: "finance-folder"}}
	g.Expect(env.Client.Delete(ctx(), folder)).To(Succeed())
	reports := folderID(t, devc, "app", "finance/reports")
	g.Eventually(func() map[string]string { return grantsOf(t, devc, finance.ID) }, platformTimeout, interval).ShouldNot(HaveKey("folder/" + reports))
	g.Eventually(func() bool {
		err := env.Client.Get(ctx(), client.ObjectKeyFromObject(folder), &governorv1alpha1.AccessRule{})
		return client.IgnoreNotFound(err) == nil && err != nil
	}, platformTimeout, interval).Should(BeTrue(), "the rule's finalizer is released once every environment synced without it")

	group := &governorv1alpha1.PermissionGroup{ObjectMeta: metav1.ObjectMeta{Namespace: "plat-change", Name: "finance"}}
	g.Expect(env.Client.Delete(ctx(), group)).To(Succeed())
	g.Eventually(func() *retool.Group { return groupNamed(t, devc, "Finance") }, platformTimeout, interval).Should(BeNil())
}

// TestPlatformModes: an unmanaged group, member and grant are left alone in
// Additive mode and removed in Authoritative mode.
func TestPlatformModes(t *testing.T) {
	g := NewWithT(t)
	space, dev, _, devSpace, _ := platformSpace(t, "plat-mode")
	eventuallySynced(t, space)
	devc := dev.as(t, devSpace)
	finance := groupNamed(t, devc, "Finance")
	_, err := devc.CreateGroup(ctx(), retool.GroupCreate{Name: "ops"})
	g.Expect(err).NotTo(HaveOccurred())
	admin := groupNamed(t, devc, "admin")
	eve := devSpace.AddUser("eve@example.com")
	_, err = devc.AddGroupMembers(ctx(), admin.ID, []retool.MemberInput{{ID: eve}})
	g.Expect(err).NotTo(HaveOccurred())
	extra, err := devSpace.AddApp("scratch", "")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(devc.Grant(ctx(), finance.ID, retool.ObjectRef{Type: "app", ID: extra.ID}, "use")).To(Succeed())
	// A grant to a user, not a group (Retool API 2.7+).
	bob := userID(t, devc, "bob@example.com")
	ledger := appNamed(t, devc, "ledger")
	g.Expect(devc.GrantTo(ctx(), retool.UserSubject(bob), retool.ObjectRef{Type: "app", ID: ledger}, "edit")).To(Succeed())

	// Additive: reported as drift, left alone.
	g.Eventually(func(g Gomega) {
		s := &governorv1alpha1.Space{}
		g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(space), s)).To(Succeed())
		dp := s.Status.Platform[0]
		g.Expect(dp.Drift).NotTo(BeNil())
		g.Expect(dp.Drift.Examples).To(ContainElements(`group "ops"`, `group "admin": member eve@example.com`,
			`user bob@example.com: edit on app "ledger" (app/`+ledger+`), granted to the user, not to a group; declared nowhere (only Authoritative mode revokes it)`))
	}, platformTimeout, interval).Should(Succeed())
	g.Expect(userGrantsOf(t, devc, bob)).To(HaveKeyWithValue("app/"+ledger, "edit"), "Additive mode leaves a user's grant alone")
	g.Expect(groupNamed(t, devc, "ops")).NotTo(BeNil())
	// Finance was created by Governor: what is added to it by hand is removed.
	g.Eventually(func() map[string]string { return grantsOf(t, devc, finance.ID) }, platformTimeout, interval).ShouldNot(HaveKey("app/" + extra.ID))
	// Eve, put in Retool's admin group by hand, reaches what the model gives
	// her nothing on: Retool's own access lists say so (effective drift).
	g.Eventually(func(g Gomega) {
		s := &governorv1alpha1.Space{}
		g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(space), s)).To(Succeed())
		ed := s.Status.Platform[0].EffectiveDrift
		g.Expect(ed).NotTo(BeNil())
		g.Expect(ed.Examples).To(ContainElement(And(HavePrefix("eve@example.com on "), HaveSuffix("instance own, model none"))))
		for _, e := range ed.Examples {
			g.Expect(e).To(HavePrefix("eve@example.com "), "only eve's access differs from the model")
		}
	}, platformTimeout, interval).Should(Succeed())

	// Authoritative: removed.
	g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(space), space)).To(Succeed())
	space.Spec.Platform = &governorv1alpha1.Platform{Mode: governorv1alpha1.PlatformAuthoritative}
	g.Expect(env.Client.Update(ctx(), space)).To(Succeed())
	g.Eventually(func() *retool.Group { return groupNamed(t, devc, "ops") }, platformTimeout, interval).Should(BeNil())
	g.Eventually(func() []string { return emails(groupNamed(t, devc, "admin")) }, platformTimeout, interval).ShouldNot(ContainElement("eve@example.com"))
	g.Expect(groupNamed(t, devc, "editor")).NotTo(BeNil(), "Retool's default groups stay")
	g.Eventually(func() map[string]string { return userGrantsOf(t, devc, bob) }, platformTimeout, interval).Should(BeEmpty(),
		"Authoritative mode revokes a grant to a user")
}

func userID(t *testing.T, c *retool.Client, email string) string {
	t.Helper()
	users, err := c.ListUsers(ctx())
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if u.Email == email {
			return u.ID
		}
	}
	t.Fatalf("no user %s", email)
	return ""
}

func appNamed(t *testing.T, c *retool.Client, name string) string {
	t.Helper()
	apps, err := c.ListApps(ctx())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range apps {
		if a.Name == name {
			return a.ID
		}
	}
	t.Fatalf("no app %s", name)
	return ""
}

// userGrantsOf is a user's direct grants on folders and apps.
func userGrantsOf(t *testing.T, c *retool.Client, user string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, typ := range []string{"folder", "app"} {
		objs, err := c.ListObjectsOf(ctx(), retool.UserSubject(user), typ)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			out[o.Type+"/"+o.ID] = o.AccessLevel
		}
	}
	return out
}

// TestPlatformInvitesMissingMembers: with inviteMissingMembers a member
// without an account is invited into the group, and placed on sign-in.
func TestPlatformInvitesMissingMembers(t *testing.T) {
	g := NewWithT(t)
	space, dev, _, devSpace, _ := platformSpace(t, "plat-invite", func(s *governorv1alpha1.Space) {
		s.Spec.Platform = &governorv1alpha1.Platform{InviteMissingMembers: true}
	})
	eventuallySynced(t, space)
	devc := dev.as(t, devSpace)
	invites, err := devc.ListUserInvites(ctx())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(invites).To(HaveLen(1))
	g.Expect(invites[0].InvitedEmail).To(Equal("new@example.com"))
	devSpace.AddUser("new@example.com")
	g.Eventually(func() []string { return emails(groupNamed(t, devc, "Finance")) }, platformTimeout, interval).Should(ContainElement("new@example.com"))
}

// TestPlatformAdminSpaceCreatesChild: the admin Space's connection creates a
// team's Space in the instance, and records its id.
func TestPlatformAdminSpaceCreatesChild(t *testing.T) {
	g := NewWithT(t)
	inst := newInstance(t, emulator.Options{Domain: "hub.admin.test"})
	tokenSecret(t, "admin-hub", inst.srv.Space("").Token())
	hub := newSpace("plat-hub", func(s *governorv1alpha1.Space) {
		s.Spec.Admin = true
		s.Spec.DefaultGroups = new(bool)
		s.Spec.Environments = []governorv1alpha1.Environment{platformEnv("hubenv", inst, "hub.admin.test", "admin-hub", false)}
	})
	create(t, hub)
	t.Cleanup(func() { _ = env.Client.Delete(ctx(), hub) })
	team := newSpace("plat-team", func(s *governorv1alpha1.Space) {
		s.Spec.DisplayName = "Team"
		s.Spec.DefaultGroups = new(bool)
		s.Spec.Environments = []governorv1alpha1.Environment{platformEnv("hubenv", inst, "team.admin.test", "admin-team", false)}
	})
	create(t, team)
	t.Cleanup(func() { _ = env.Client.Delete(ctx(), team) })

	// The team Space is created in the instance; until its token exists the
	// Space says where to make one.
	msg := platformReason(t, team, "TokenMissing")
	g.Expect(msg).To(ContainSubstring("Settings > API"))
	g.Expect(msg).To(ContainSubstring(governorNamespace + "/admin-team"))
	created := inst.srv.Space("team.admin.test")
	g.Expect(created).NotTo(BeNil())
	// Progressing while an installer may still be making the Secret, then
	// Stalled once the grace has passed without it.
	eventuallyReconciling(t, team, "TokenMissing")
	eventuallyStalled(t, team, "TokenMissing")
	tokenSecret(t, "admin-team", created.Token())
	eventuallySynced(t, team)
	g.Expect(team.Status.Platform[0].SpaceID).To(Equal(created.ID()))
}

// TestPlatformFailuresAreReportedAndRecovered: a missing token, a refused
// token, an unreachable instance and a rate limit storm each end in a
// condition, and the Space syncs once the cause is fixed.
func TestPlatformFailuresAreReportedAndRecovered(t *testing.T) {
	g := NewWithT(t)
	inst := newInstance(t, emulator.Options{Domain: "hub.fail.test"})
	sp := inst.child(t, "fail.fail.test")

	// An instance that is not listening yet.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	g.Expect(err).NotTo(HaveOccurred())
	downURL := "http://" + ln.Addr().String()
	g.Expect(ln.Close()).To(Succeed())
	down := newInstance(t, emulator.Options{Domain: "hub.down.test"})
	downSpace := down.child(t, "fail.down.test")
	tokenSecret(t, "fail-down", downSpace.Token())

	space := newSpace("plat-fail", func(s *governorv1alpha1.Space) {
		s.Spec.DefaultGroups = new(bool)
		s.Spec.Environments = []governorv1alpha1.Environment{
			platformEnv("development", inst, "fail.fail.test", "fail-token", false),
		}
	})
	create(t, space)
	t.Cleanup(func() { _ = env.Client.Delete(ctx(), space) })

	msg := platformReason(t, space, "TokenMissing")
	g.Expect(msg).To(ContainSubstring("Secret " + governorNamespace + "/fail-token not found"))
	eventuallyReconciling(t, space, "TokenMissing")
	eventuallyStalled(t, space, "TokenMissing")

	secret := tokenSecret(t, "fail-token", "not-a-token")
	msg = platformReason(t, space, "Unauthorized")
	g.Expect(msg).To(ContainSubstring("401"))

	secret.StringData = map[string]string{"token": sp.Token()}
	g.Expect(env.Client.Update(ctx(), secret)).To(Succeed())
	eventuallySynced(t, space)
	eventuallyReady(t, space)

	// Unreachable: Reconciling, not Stalled; then the instance comes up.
	g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(space), space)).To(Succeed())
	space.Spec.Environments = append(space.Spec.Environments, governorv1alpha1.Environment{Name: "qa", Instance: &governorv1alpha1.Instance{
		URL: downURL, Domain: "fail.down.test", TokenSecretRef: governorv1alpha1.SecretKeyReference{Name: "fail-down", Key: "token"}}})
	g.Expect(env.Client.Update(ctx(), space)).To(Succeed())
	msg = platformReason(t, space, "Unreachable")
	g.Expect(msg).To(ContainSubstring("qa"))
	g.Eventually(func(g Gomega) {
		r := condition(g, space, governorv1alpha1.ConditionReconciling)
		g.Expect(r).NotTo(BeNil())
		g.Expect(condition(g, space, governorv1alpha1.ConditionStalled)).To(BeNil())
	}, platformTimeout, interval).Should(Succeed())
	g.Expect(space.Status.Platform[0].SyncedRevision).NotTo(BeEmpty(), "development keeps syncing while qa is down")
	up, err := net.Listen("tcp", strings.TrimPrefix(downURL, "http://"))
	g.Expect(err).NotTo(HaveOccurred())
	srv := &http.Server{Handler: down.srv, ReadHeaderTimeout: time.Second}
	go func() { _ = srv.Serve(up) }()
	t.Cleanup(func() { _ = srv.Close() })
	eventuallySynced(t, space)
}

// TestPlatformRateLimitStorm: an instance that allows fewer requests than
// Governor's budget answers 429s; the sync backs off and completes.
func TestPlatformRateLimitStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: this test waits out the emulator's one-minute rate-limit window")
	}
	g := NewWithT(t)
	inst := newInstance(t, emulator.Options{Domain: "hub.storm.test", RequestsPerMinute: 8})
	sp := inst.child(t, "storm.storm.test")
	for _, u := range []string{"alice@example.com", "bob@example.com"} {
		sp.AddUser(u)
	}
	tokenSecret(t, "storm-token", sp.Token())
	space := newSpace("plat-storm", func(s *governorv1alpha1.Space) {
		s.Spec.DefaultGroups = new(bool)
		s.Spec.Environments = []governorv1alpha1.Environment{platformEnv("development", inst, "storm.storm.test", "storm-token", false)}
	})
	create(t, space)
	t.Cleanup(func() { _ = env.Client.Delete(ctx(), space) })
	NewWithT(t).Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx(), client.ObjectKey{Name: "plat-storm"}, &corev1.Namespace{})).To(Succeed())
	}, timeout, interval).Should(Succeed())
	for i := range 12 {
		create(t, &governorv1alpha1.PermissionGroup{ObjectMeta: metav1.ObjectMeta{Name: "g" + strconv.Itoa(i), Namespace: "plat-storm"}, Spec: governorv1alpha1.PermissionGroupSpec{
			Members: []governorv1alpha1.Member{{Email: []string{"alice@example.com", "bob@example.com"}[i%2]}}}})
	}
	msg := platformReasonWithin(t, space, "RateLimited", 3*time.Minute)
	g.Expect(msg).To(ContainSubstring("429"))
	g.Expect(condition(g, space, governorv1alpha1.ConditionStalled)).To(BeNil(), "a rate limit is not the user's to fix in the object")
	g.Expect(inst.srv.Stats().Throttled).To(BeNumerically(">", 0), "the storm happened")
	inst.srv.SetRequestsPerMinute(0) // the instance's limit is raised
	NewWithT(t).Eventually(func(g Gomega) {
		c := condition(g, space, governorv1alpha1.ConditionPlatformSynced)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue), "%s: %s", c.Reason, c.Message)
		g.Expect(space.Status.Platform[0].Groups).To(Equal(int32(12)))
	}, 3*time.Minute, interval).Should(Succeed())
	g.Expect(groupNamed(t, inst.as(t, sp), "g11")).NotTo(BeNil())
}

// TestPlatformDeletionNeverBlocksForever: a group deleted while its instance
// is unreachable goes after a bounded number of attempts, with an event
// saying what may be left behind.
func TestPlatformDeletionNeverBlocksForever(t *testing.T) {
	g := NewWithT(t)
	space, dev, _, _, _ := platformSpace(t, "plat-gone")
	eventuallySynced(t, space)
	group := &governorv1alpha1.PermissionGroup{}
	g.Expect(env.Client.Get(ctx(), client.ObjectKey{Namespace: "plat-gone", Name: "finance"}, group)).To(Succeed())
	g.Expect(group.Finalizers).To(ContainElement(governorv1alpha1.PlatformFinalizer))

	dev.ts.Close() // the development instance goes away
	g.Expect(env.Client.Delete(ctx(), group)).To(Succeed())
	g.Eventually(func() bool {
		err := env.Client.Get(ctx(), client.ObjectKeyFromObject(group), &governorv1alpha1.PermissionGroup{})
		return client.IgnoreNotFound(err) == nil && err != nil
	}, 2*time.Minute, interval).Should(BeTrue(), "the group is released after its attempts")
	g.Eventually(func() []string {
		var events eventsv1.EventList
		_ = env.Client.List(ctx(), &events, client.InNamespace("plat-gone"))
		var reasons []string
		for _, e := range events.Items {
			if e.Regarding.Name == "finance" {
				reasons = append(reasons, e.Reason)
			}
		}
		return reasons
	}, timeout, interval).Should(ContainElement("PlatformLeftBehind"))
}

// TestPlatformLetsGoWithTheSpace: deleting a Space (Retain) or dropping its
// instances never leaves its groups and rules waiting for the platform, so
// the namespace Governor created for it goes too.
func TestPlatformLetsGoWithTheSpace(t *testing.T) {
	g := NewWithT(t)
	space, _, _, _, _ := platformSpace(t, "plat-bye")
	eventuallySynced(t, space)

	// Without instances, a deleted group goes at once.
	updateSpace(g, space, func(s *governorv1alpha1.Space) { s.Spec.Environments = nil })
	g.Eventually(func(g Gomega) {
		rule := &governorv1alpha1.AccessRule{}
		g.Expect(env.Client.Get(ctx(), client.ObjectKey{Namespace: "plat-bye", Name: "ledger"}, rule)).To(Succeed())
		g.Expect(rule.Finalizers).NotTo(ContainElement(governorv1alpha1.PlatformFinalizer))
	}, platformTimeout, interval).Should(Succeed())

	// A synced Space goes: the namespace it created goes with it.
	fresh, _, _, _, _ := platformSpace(t, "plat-bye2")
	eventuallySynced(t, fresh)
	g.Expect(env.Client.Delete(ctx(), fresh)).To(Succeed())
	g.Eventually(func() bool {
		err := env.Client.Get(ctx(), client.ObjectKey{Name: "plat-bye2"}, &corev1.Namespace{})
		return client.IgnoreNotFound(err) == nil && err != nil
	}, 2*time.Minute, interval).Should(BeTrue(), "the namespace the Space created is deleted, its groups and rules not held")
}

// hungInstance is an address that accepts connections and never answers.
func hungInstance(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return "http://" + ln.Addr().String()
}

// refusedPort is an address nothing listens on.
func refusedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return "http://" + addr
}

func platformStatusOf(g Gomega, space *governorv1alpha1.Space, env string) governorv1alpha1.EnvironmentPlatformStatus {
	g.Expect(env != "").To(BeTrue())
	for _, p := range space.Status.Platform {
		if p.Environment == env {
			return p
		}
	}
	return governorv1alpha1.EnvironmentPlatformStatus{}
}

// TestPlatformEnvironmentsAreIndependent: an instance that accepts and
// never answers (qa) and one whose port is refused (staging) delay no
// other environment: a change reaches development in seconds, and
// PlatformSynced never says the Space holds a revision that qa has not
// confirmed.
func TestPlatformEnvironmentsAreIndependent(t *testing.T) {
	g := NewWithT(t)
	tokenSecret(t, "indep-qa", "token")
	tokenSecret(t, "indep-staging", "token")
	space, dev, _, devSpace, _ := platformSpace(t, "plat-indep", func(s *governorv1alpha1.Space) {
		s.Spec.Environments = append(s.Spec.Environments,
			governorv1alpha1.Environment{Name: "qa", Instance: &governorv1alpha1.Instance{URL: hungInstance(t), TokenSecretRef: governorv1alpha1.SecretKeyReference{Name: "indep-qa", Key: "token"}}},
			governorv1alpha1.Environment{Name: "staging", Instance: &governorv1alpha1.Instance{URL: refusedPort(t), TokenSecretRef: governorv1alpha1.SecretKeyReference{Name: "indep-staging", Key: "token"}}})
	})
	devc := dev.as(t, devSpace)
	g.Eventually(func(g Gomega) {
		c := condition(g, space, governorv1alpha1.ConditionPlatformSynced)
		g.Expect(c).NotTo(BeNil())
		model := getModel(space.Name)
		g.Expect(model).NotTo(BeNil())
		g.Expect(platformStatusOf(g, space, "development").SyncedRevision).To(Equal(model.Snapshot.Revision()))
		g.Expect(platformStatusOf(g, space, "staging").Message).To(ContainSubstring("unreachable"))
		g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(c.Message).To(ContainSubstring("staging"), "the refused port is named")
	}, platformTimeout, interval).Should(Succeed())

	// A change reaches development while qa hangs.
	group := &governorv1alpha1.PermissionGroup{}
	g.Expect(env.Client.Get(ctx(), client.ObjectKey{Namespace: "plat-indep", Name: "finance"}, group)).To(Succeed())
	group.Spec.Members = append(group.Spec.Members, governorv1alpha1.Member{Email: "root@example.com"})
	g.Expect(env.Client.Update(ctx(), group)).To(Succeed())
	start := time.Now()
	g.Eventually(func() []string { return emails(groupNamed(t, devc, "Finance")) }, 5*time.Second, 20*time.Millisecond).
		Should(ContainElement("root@example.com"), "the change reaches the healthy instance while another hangs")
	t.Logf("the change reached development in %s while qa hangs", time.Since(start))

	c := condition(g, space, governorv1alpha1.ConditionPlatformSynced)
	g.Expect(c.Status).To(Equal(metav1.ConditionFalse), "%s: %s", c.Reason, c.Message)
	g.Expect(platformStatusOf(g, space, "qa").SyncedRevision).To(BeEmpty(), "qa never confirmed a revision")
}

// TestPlatformSyncedNamesTheRevision: a new revision makes PlatformSynced
// False (Syncing) before any instance holds it, and True once every
// environment confirmed it.
func TestPlatformSyncedNamesTheRevision(t *testing.T) {
	g := NewWithT(t)
	space, _, _, _, _ := platformSpace(t, "plat-rev")
	eventuallySynced(t, space)
	synced := condition(g, space, governorv1alpha1.ConditionPlatformSynced)

	// Watch the condition from the moment of the change.
	wc, err := client.NewWithWatch(env.Config, client.Options{Scheme: env.Scheme})
	g.Expect(err).NotTo(HaveOccurred())
	w, err := wc.Watch(ctx(), &governorv1alpha1.SpaceList{}, client.MatchingFields{"metadata.name": space.Name})
	g.Expect(err).NotTo(HaveOccurred())
	defer w.Stop()
	seen := make(chan string, 1000)
	go func() {
		for ev := range w.ResultChan() {
			if s, ok := ev.Object.(*governorv1alpha1.Space); ok {
				if c := meta.FindStatusCondition(s.Status.Conditions, governorv1alpha1.ConditionPlatformSynced); c != nil {
					select {
					case seen <- c.Reason + ": " + c.Message:
					default:
					}
				}
			}
		}
	}()
	group := &governorv1alpha1.PermissionGroup{}
	g.Expect(env.Client.Get(ctx(), client.ObjectKey{Namespace: "plat-rev", Name: "finance"}, group)).To(Succeed())
	before := getModel(space.Name).Snapshot.Revision()
	group.Spec.Members = append(group.Spec.Members, governorv1alpha1.Member{Email: "root@example.com"})
	g.Expect(env.Client.Update(ctx(), group)).To(Succeed())
	g.Eventually(func() string { return getModel(space.Name).Snapshot.Revision() }, timeout, interval).ShouldNot(Equal(before))
	eventuallySynced(t, space)
	after := condition(g, space, governorv1alpha1.ConditionPlatformSynced)
	g.Expect(after.Message).NotTo(Equal(synced.Message), "True names the new revision")
	time.Sleep(100 * time.Millisecond) // the watch delivers what it saw
	var sawSyncing bool
	for len(seen) > 0 {
		if strings.HasPrefix(<-seen, "Syncing: ") {
			sawSyncing = true
		}
	}
	g.Expect(sawSyncing).To(BeTrue(), "PlatformSynced went through Syncing")
}

// spaceEvents lists the reasons and notes of the events about a Space.
func spaceEvents(g Gomega, space string) []string {
	var events eventsv1.EventList
	g.Expect(env.Client.List(ctx(), &events)).To(Succeed())
	var out []string
	for _, e := range events.Items {
		if e.Regarding.Kind == "Space" && e.Regarding.Name == space {
			out = append(out, e.Reason+": "+e.Note)
		}
	}
	return out
}

// TestPlatformLostStateIsRecreated: recorded ids are hints. A group deleted
// in the instance is created again with an event; a child Space deleted
// from the instance is created again, and the Space says its token must be
// issued again, naming the Secret.
func TestPlatformLostStateIsRecreated(t *testing.T) {
	g := NewWithT(t)
	inst := newInstance(t, emulator.Options{Domain: "hub.lost.test"})
	tokenSecret(t, "lost-hub", inst.srv.Space("").Token())
	hub := newSpace("plat-lost-hub", func(s *governorv1alpha1.Space) {
		s.Spec.Admin = true
		s.Spec.DefaultGroups = new(bool)
		s.Spec.Environments = []governorv1alpha1.Environment{platformEnv("hubenv", inst, "hub.lost.test", "lost-hub", false)}
	})
	create(t, hub)
	t.Cleanup(func() { _ = env.Client.Delete(ctx(), hub) })
	team := newSpace("plat-lost", func(s *governorv1alpha1.Space) {
		s.Spec.DefaultGroups = new(bool)
		s.Spec.Environments = []governorv1alpha1.Environment{platformEnv("hubenv", inst, "lost.lost.test", "lost-team", false)}
	})
	create(t, team)
	t.Cleanup(func() { _ = env.Client.Delete(ctx(), team) })
	g.Eventually(func() *emulator.Space { return inst.srv.Space("lost.lost.test") }, platformTimeout, interval).ShouldNot(BeNil())
	first := inst.srv.Space("lost.lost.test")
	first.AddUser("alice@example.com")
	tokenSecret(t, "lost-team", first.Token())
	g.Eventually(func() error {
		return env.Client.Get(ctx(), client.ObjectKey{Name: "plat-lost"}, &corev1.Namespace{})
	}, timeout, interval).Should(Succeed())
	create(t, &governorv1alpha1.PermissionGroup{ObjectMeta: metav1.ObjectMeta{Name: "ops", Namespace: "plat-lost"},
		Spec: governorv1alpha1.PermissionGroupSpec{Members: []governorv1alpha1.Member{{Email: "alice@example.com"}}}})
	eventuallySynced(t, team)

	// A group deleted in Retool's UI comes back, with an event.
	c := inst.as(t, first)
	ops := groupNamed(t, c, "ops")
	g.Expect(ops).NotTo(BeNil())
	g.Expect(c.DeleteGroup(ctx(), ops.ID)).To(Succeed())
	g.Eventually(func() *retool.Group { return groupNamed(t, c, "ops") }, platformTimeout, interval).ShouldNot(BeNil())
	g.Expect(groupNamed(t, c, "ops").ID).NotTo(Equal(ops.ID))
	g.Eventually(func(g Gomega) []string { return spaceEvents(g, "plat-lost") }, timeout, interval).
		Should(ContainElement(ContainSubstring("PlatformObjectGone: hubenv: group")))

	// The Space itself deleted in the instance: created again; its new token
	// must be issued.
	g.Expect(inst.admin(t).DeleteSpace(ctx(), first.ID())).To(Succeed())
	// (A pass that listed the Space just before it went may first see its
	// token refused; the next one creates it again.)
	g.Eventually(func(g Gomega) {
		c := condition(g, team, governorv1alpha1.ConditionPlatformSynced)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal("Unauthorized"), c.Message)
		g.Expect(c.Message).To(ContainSubstring("created again"))
		g.Expect(c.Message).To(ContainSubstring("Secret " + governorNamespace + "/lost-team"))
	}, platformTimeout, interval).Should(Succeed())
	second := inst.srv.Space("lost.lost.test")
	g.Expect(second).NotTo(BeNil())
	g.Expect(second.ID()).NotTo(Equal(first.ID()))
	g.Eventually(func(g Gomega) []string { return spaceEvents(g, "plat-lost") }, timeout, interval).
		Should(ContainElement(ContainSubstring("SpaceRecreated")))
	secret := &corev1.Secret{}
	g.Expect(env.Client.Get(ctx(), client.ObjectKey{Namespace: governorNamespace, Name: "lost-team"}, secret)).To(Succeed())
	secret.StringData = map[string]string{"token": second.Token()}
	g.Expect(env.Client.Update(ctx(), secret)).To(Succeed())
	second.AddUser("alice@example.com")
	eventuallySynced(t, team)
	g.Expect(groupNamed(t, inst.as(t, second), "ops")).NotTo(BeNil(), "the re-created Space holds the model")
}
