package controller_test

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/platform/emulator"
	"github.com/governor-dev/governor/internal/platform/importer"
	"github.com/governor-dev/governor/internal/platform/retool"
	"github.com/governor-dev/governor/internal/platform/syncer"
	"github.com/governor-dev/governor/internal/spacemodel"
)

// TestImportedObjectsRoundTrip is the adoption's round trip through the
// operator: a hand-run instance (groups with levels, flags, members, a group
// admin and a deactivated member, nested folders granted one by one, object
// grants, a user in no group but All Users) is imported, the objects are
// created on the API server beside the Space, and the operator syncs them
// in Additive, then Authoritative mode without a single write to the
// instance; verify then finds every user's level to be the model's.
func TestImportedObjectsRoundTrip(t *testing.T) {
	g := NewWithT(t)
	const name = "adopt-rt"
	domain := name + ".dev.test"
	dev := newInstance(t, emulator.Options{Domain: "hub.dev.test"})
	sp := dev.child(t, domain)
	c := dev.as(t, sp)
	alice, bob, carol := sp.AddUser("alice@example.com"), sp.AddUser("bob@example.com"), sp.AddInactiveUser("carol@example.com")
	sp.AddUser("dave@example.org") // in All Users only
	for _, a := range []struct{ name, path string }{{"ledger", "finance/reports"}, {"payouts", "finance"}, {"status", ""}} {
		_, err := sp.AddApp(a.name, a.path)
		g.Expect(err).NotTo(HaveOccurred())
	}
	_, err := sp.AddResource("orders-db", "")
	g.Expect(err).NotTo(HaveOccurred())
	none, use := "none", "use"
	_, err = c.UpdateGroup(ctx(), groupNamed(t, c, "All Users").ID, retool.GroupUpdate{UniversalAppAccess: &use, UniversalResourceAccess: &none, UniversalWorkflowAccess: &none})
	g.Expect(err).NotTo(HaveOccurred())
	finance, err := c.CreateGroup(ctx(), retool.GroupCreate{Name: "Finance Team", UniversalResourceAccess: "use", AuditLogAccess: true,
		Members: []retool.MemberInput{{ID: alice, IsGroupAdmin: true}, {ID: carol}}})
	g.Expect(err).NotTo(HaveOccurred())
	support, err := c.CreateGroup(ctx(), retool.GroupCreate{Name: "Support", Members: []retool.MemberInput{{ID: bob}}})
	g.Expect(err).NotTo(HaveOccurred())
	apps, _ := c.ListApps(ctx())
	resources, _ := c.ListResources(ctx())
	for _, gr := range []struct {
		group int64
		obj   retool.ObjectRef
		level string
	}{
		{finance.ID, retool.ObjectRef{Type: "folder", ID: folderID(t, c, "app", "finance")}, "edit"},
		{finance.ID, retool.ObjectRef{Type: "folder", ID: folderID(t, c, "app", "finance/reports")}, "own"},
		{support.ID, retool.ObjectRef{Type: "resource", ID: resources[0].ID}, "own"},
		{support.ID, retool.ObjectRef{Type: "app", ID: apps[2].ID}, "edit"},
	} {
		g.Expect(c.Grant(ctx(), gr.group, gr.obj, gr.level)).To(Succeed())
	}

	observed, err := syncer.ObserveAll(ctx(), c, syncer.ObserveOptions{})
	g.Expect(err).NotTo(HaveOccurred())
	res, err := importer.Import([]importer.Environment{{Name: "development", Observed: observed}}, importer.Options{Namespace: name})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.Exact()).To(BeTrue(), "%v", res.Notes)
	g.Expect(res.ChangesAccess()).To(BeFalse(), "%v", res.Notes)
	g.Expect(res.Calls).To(BeEmpty())
	g.Expect(res.JITDomains).To(Equal([]string{"example.org"}))

	tokenSecret(t, name+"-dev", sp.Token())
	space := newSpace(name, func(s *governorv1alpha1.Space) {
		s.Spec.DefaultGroups = new(bool)
		s.Spec.Environments = []governorv1alpha1.Environment{platformEnv("development", dev, domain, name+"-dev", false)}
		s.Spec.SSO = &governorv1alpha1.SSO{JIT: &governorv1alpha1.JIT{Enabled: true, AllowedDomains: res.JITDomains}}
	})
	dev.srv.ResetStats()
	create(t, space)
	t.Cleanup(func() { _ = env.Client.Delete(ctx(), space) })
	g.Eventually(func() error { return env.Client.Get(ctx(), client.ObjectKey{Name: name}, &corev1.Namespace{}) }, timeout, interval).Should(Succeed())
	for i := range res.Groups {
		create(t, &res.Groups[i])
	}
	for i := range res.Rules {
		create(t, &res.Rules[i])
	}
	g.Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(space), space)).To(Succeed())
		g.Expect(space.Status.AccessModel).NotTo(BeNil())
		g.Expect(space.Status.AccessModel.Groups).To(BeEquivalentTo(len(res.Groups)))
		g.Expect(space.Status.AccessModel.Rules).To(BeEquivalentTo(len(res.Rules)))
	}, timeout, interval).Should(Succeed())
	eventuallySynced(t, space)
	g.Expect(dev.srv.Stats().Writes()).To(BeZero(), "the imported objects hold the instance as it is: %v", dev.srv.Stats().Requests)

	patch := []byte(`{"spec":{"platform":{"mode":"Authoritative"}}}`)
	g.Expect(env.Client.Patch(ctx(), space, client.RawPatch(types.MergePatchType, patch))).To(Succeed())
	time.Sleep(3 * platformOptions.Resync) // a few resyncs in Authoritative mode
	eventuallySynced(t, space)
	g.Expect(dev.srv.Stats().Writes()).To(BeZero(), "Authoritative mode finds nothing undeclared: %v", dev.srv.Stats().Requests)

	model := getModel(name)
	g.Expect(model).NotTo(BeNil())
	loaded, err := spacemodel.Load(ctx(), env.Client, name)
	g.Expect(err).NotTo(HaveOccurred())
	v, err := syncer.Verify(ctx(), c, syncer.VerifyInput{Model: model.Snapshot, Space: loaded.Input, Environment: "development"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(v.Differences).To(BeEmpty())
	g.Expect(v.Users).To(Equal(3), "alice, bob and dave; carol is deactivated")
}
