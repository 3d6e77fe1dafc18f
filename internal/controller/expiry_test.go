package controller_test

import (
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/controller"
)

// offsetClock is the operator's clock in these tests: the real time moved
// by an offset a test sets (0 otherwise), so that the model controller's
// requeues, which wait in real time, still fall on the clock's instants.
type offsetClock struct{ offset atomic.Int64 }

func (c *offsetClock) Now() time.Time                  { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *offsetClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

var testClock = &offsetClock{}

// canUse asks the live model whether user may use app/catalog.
func canUse(g Gomega, space, user string) bool {
	m := getModel(space)
	g.Expect(m).NotTo(BeNil())
	d, err := m.Snapshot.Check(access.Request{User: user, Action: "use", Target: access.Target{Type: access.TargetApp, Name: "catalog"}})
	g.Expect(err).NotTo(HaveOccurred())
	return d.Allowed
}

// A member and a rule with expires leave the model at exactly that
// instant (the model controller compiles again then, without polling),
// the object's status and printer columns follow, and an event says so.
func TestMembersAndRulesExpire(t *testing.T) {
	g := NewWithT(t)
	space := newSpace("expiry")
	create(t, space)
	eventuallyReady(t, space)
	ns := "expiry"

	// RFC 3339 to the second, as the API keeps it: 4 to 5 seconds ahead.
	ends := time.Now().Truncate(time.Second).Add(5 * time.Second)
	expires := metav1.NewTime(ends)
	group := &governorv1alpha1.PermissionGroup{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "contractors"},
		Spec: governorv1alpha1.PermissionGroupSpec{Members: []governorv1alpha1.Member{
			{Email: "keep@example.com"},
			{Email: "temp@example.com", Expires: &expires},
		}},
	}
	rule := &governorv1alpha1.AccessRule{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "contractors-catalog"},
		Spec: governorv1alpha1.AccessRuleSpec{Group: "contractors", Level: governorv1alpha1.LevelUse,
			Targets: []governorv1alpha1.Target{{Kind: governorv1alpha1.TargetApp, Name: "catalog"}}},
	}
	freeze := &governorv1alpha1.AccessRule{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "keep-payouts"},
		Spec: governorv1alpha1.AccessRuleSpec{Group: "contractors", Level: governorv1alpha1.LevelUse, Expires: &expires,
			Targets: []governorv1alpha1.Target{{Kind: governorv1alpha1.TargetApp, Name: "payouts"}}},
	}
	create(t, group, rule, freeze)
	eventuallyReady(t, group)
	eventuallyReady(t, freeze)

	// Before: temp may, the status says it ends soon.
	g.Eventually(func(g Gomega) {
		g.Expect(canUse(g, "expiry", "temp@example.com")).To(BeTrue())
		g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(group), group)).To(Succeed())
		g.Expect(group.Status.MemberCount).To(BeEquivalentTo(2))
		g.Expect(group.Status.NextExpiry).NotTo(BeNil())
		g.Expect(group.Status.NextExpiry.Time.Equal(ends)).To(BeTrue())
		g.Expect(group.Status.Expiring).To(HaveLen(1))
		g.Expect(group.Status.Expiring[0].Email).To(Equal("temp@example.com"))
		g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(freeze), freeze)).To(Succeed())
		g.Expect(freeze.Status.Expiring).To(HaveLen(1))
	}, timeout, interval).Should(Succeed())
	before := getModel("expiry").Snapshot
	g.Expect(before.NextExpiry().Equal(ends)).To(BeTrue(), "the model knows when it ends: %v", before.NextExpiry())
	g.Expect(time.Now().Before(ends)).To(BeTrue(), "the test took too long to set up")

	// At the instant: out of the model within a second, not before.
	g.Eventually(func(g Gomega) {
		g.Expect(canUse(g, "expiry", "temp@example.com")).To(BeFalse())
	}, 10*time.Second, 10*time.Millisecond).Should(Succeed())
	gone := time.Now()
	g.Expect(gone.Before(ends)).To(BeFalse(), "temp left the model before the expiry")
	g.Expect(gone.Sub(ends)).To(BeNumerically("<", time.Second), "temp left the model %v after the expiry", gone.Sub(ends))
	after := getModel("expiry").Snapshot
	g.Expect(after.At().Before(ends)).To(BeFalse())
	g.Expect(canUse(g, "expiry", "keep@example.com")).To(BeTrue())
	g.Expect(after.Expired()).To(HaveLen(2))
	d, err := after.Check(access.Request{User: "keep@example.com", Action: "use", Target: access.Target{Type: access.TargetApp, Name: "payouts"}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(d.Allowed).To(BeFalse(), "the rule keep-payouts has ended")

	// The statuses: the member counted out and listed as expired; the rule
	// Ready with reason Expired (Healthy to Argo CD), listed as expired.
	g.Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(group), group)).To(Succeed())
		g.Expect(group.Status.MemberCount).To(BeEquivalentTo(1))
		g.Expect(group.Status.NextExpiry).To(BeNil())
		g.Expect(group.Status.Expiring).To(BeEmpty())
		g.Expect(group.Status.Expired).To(HaveLen(1))
		g.Expect(group.Status.Expired[0].Email).To(Equal("temp@example.com"))
		r := condition(g, freeze, governorv1alpha1.ConditionReady)
		g.Expect(r).NotTo(BeNil())
		g.Expect(r.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(r.Reason).To(Equal("Expired"))
		g.Expect(freeze.Status.Expired).To(HaveLen(1))
	}, timeout, interval).Should(Succeed())
	g.Expect(group.Spec.Members).To(HaveLen(2), "the operator never writes the user's spec")

	// An event tells the namespace's owners.
	g.Eventually(func(g Gomega) {
		var events eventsv1.EventList
		g.Expect(env.Client.List(ctx(), &events, client.InNamespace(ns))).To(Succeed())
		var reasons []string
		for _, e := range events.Items {
			if e.Regarding.Name == "contractors" {
				reasons = append(reasons, e.Reason+": "+e.Note)
			}
		}
		g.Expect(reasons).To(ContainElement(ContainSubstring("MemberExpired: the membership of temp@example.com ended at")))
	}, timeout, interval).Should(Succeed())
}

// The operator's clock decides what has ended: moved an hour ahead, a
// membership that ends in half an hour of real time is already out.
func TestExpiryFollowsTheInjectedClock(t *testing.T) {
	g := NewWithT(t)
	testClock.offset.Store(int64(time.Hour))
	t.Cleanup(func() { testClock.offset.Store(0) })
	space := newSpace("expiry-clock")
	create(t, space)
	eventuallyReady(t, space)
	expires := metav1.NewTime(time.Now().Add(30 * time.Minute).Truncate(time.Second))
	create(t,
		&governorv1alpha1.PermissionGroup{ObjectMeta: metav1.ObjectMeta{Namespace: "expiry-clock", Name: "contractors"},
			Spec: governorv1alpha1.PermissionGroupSpec{Members: []governorv1alpha1.Member{{Email: "temp@example.com", Expires: &expires}}}},
		&governorv1alpha1.AccessRule{ObjectMeta: metav1.ObjectMeta{Namespace: "expiry-clock", Name: "contractors-catalog"},
			Spec: governorv1alpha1.AccessRuleSpec{Group: "contractors", Level: governorv1alpha1.LevelUse,
				Targets: []governorv1alpha1.Target{{Kind: governorv1alpha1.TargetApp, Name: "catalog"}}}},
	)
	group := &governorv1alpha1.PermissionGroup{ObjectMeta: metav1.ObjectMeta{Namespace: "expiry-clock", Name: "contractors"}}
	g.Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(group), group)).To(Succeed())
		g.Expect(group.Status.Expired).To(HaveLen(1))
		g.Expect(group.Status.MemberCount).To(BeEquivalentTo(0))
		m := getModel("expiry-clock")
		g.Expect(m).NotTo(BeNil())
		g.Expect(m.Generations).To(HaveKey(controller.ObjectRef{Kind: "PermissionGroup", Name: "contractors"}))
		g.Expect(canUse(g, "expiry-clock", "temp@example.com")).To(BeFalse())
	}, timeout, interval).Should(Succeed())
}

// The platform sync projects the model: a member whose membership ends is
// removed from the instances' group, with no change to the sync itself.
func TestPlatformRemovesAnExpiredMember(t *testing.T) {
	g := NewWithT(t)
	space, dev, _, devSpace, _ := platformSpace(t, "plat-expiry")
	eventuallySynced(t, space)
	devc := dev.as(t, devSpace)
	g.Expect(emails(groupNamed(t, devc, "Finance"))).To(ContainElement("bob@example.com"))

	group := &governorv1alpha1.PermissionGroup{}
	g.Expect(env.Client.Get(ctx(), client.ObjectKey{Namespace: "plat-expiry", Name: "finance"}, group)).To(Succeed())
	ends := metav1.NewTime(time.Now().Truncate(time.Second).Add(4 * time.Second))
	for i := range group.Spec.Members {
		if group.Spec.Members[i].Email == "bob@example.com" {
			group.Spec.Members[i].Expires = &ends
		}
	}
	g.Expect(env.Client.Update(ctx(), group)).To(Succeed())
	g.Consistently(func() []string { return emails(groupNamed(t, devc, "Finance")) }, time.Until(ends.Time)-500*time.Millisecond, 200*time.Millisecond).
		Should(ContainElement("bob@example.com"), "bob stays until his membership ends")
	g.Eventually(func() []string { return emails(groupNamed(t, devc, "Finance")) }, platformTimeout, interval).
		ShouldNot(ContainElement("bob@example.com"))
	gone := time.Now()
	g.Expect(gone.Before(ends.Time)).To(BeFalse())
	g.Expect(gone.Sub(ends.Time)).To(BeNumerically("<", expiryReachesInstances), "bob left the instance %v after his membership ended", gone.Sub(ends.Time))
	g.Expect(emails(groupNamed(t, devc, "Finance"))).To(ContainElement("alice@example.com (admin)"), "the other members stay")
}

// expiryReachesInstances bounds how long after an expiry the instances
// follow: the model changes at the instant, and the sync follows the model
// (in seconds; the platform timeout is for a busy machine's worst case).
const expiryReachesInstances = 15 * time.Second

// A rule that ends takes its grants off the instances at its instant, in
// every environment, and leaves the group's other grants.
func TestPlatformRevokesAnExpiredRule(t *testing.T) {
	g := NewWithT(t)
	space, dev, prod, devSpace, prodSpace := platformSpace(t, "plat-rule-expiry")
	eventuallySynced(t, space)
	devc, prodc := dev.as(t, devSpace), prod.as(t, prodSpace)
	finance := groupNamed(t, devc, "Finance")
	prodFinance := groupNamed(t, prodc, "Finance")
	g.Expect(finance).NotTo(BeNil())
	g.Expect(prodFinance).NotTo(BeNil())
	devReports, prodReports := "folder/"+folderID(t, devc, "app", "finance/reports"), "folder/"+folderID(t, prodc, "app", "finance/reports")
	apps, err := devc.ListApps(ctx())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(grantsOf(t, devc, finance.ID)).To(HaveKeyWithValue(devReports, "edit"))
	g.Expect(grantsOf(t, prodc, prodFinance.ID)).To(HaveKeyWithValue(prodReports, "edit"))

	rule := &governorv1alpha1.AccessRule{}
	g.Expect(env.Client.Get(ctx(), client.ObjectKey{Namespace: "plat-rule-expiry", Name: "finance-folder"}, rule)).To(Succeed())
	ends := metav1.NewTime(time.Now().Truncate(time.Second).Add(4 * time.Second))
	rule.Spec.Expires = &ends
	g.Expect(env.Client.Update(ctx(), rule)).To(Succeed())
	g.Consistently(func() map[string]string { return grantsOf(t, devc, finance.ID) }, time.Until(ends.Time)-500*time.Millisecond, 200*time.Millisecond).
		Should(HaveKey(devReports), "the grant stays until the rule ends")
	g.Eventually(func() map[string]string { return grantsOf(t, devc, finance.ID) }, platformTimeout, interval).ShouldNot(HaveKey(devReports))
	gone := time.Now()
	g.Expect(gone.Before(ends.Time)).To(BeFalse())
	g.Expect(gone.Sub(ends.Time)).To(BeNumerically("<", expiryReachesInstances), "the grant left the instance %v after the rule ended", gone.Sub(ends.Time))
	g.Eventually(func() map[string]string { return grantsOf(t, prodc, prodFinance.ID) }, platformTimeout, interval).ShouldNot(HaveKey(prodReports))
	g.Expect(grantsOf(t, devc, finance.ID)).To(HaveKeyWithValue("app/"+apps[0].ID, "own"), "the group's other rules stay")
	g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(rule), rule)).To(Succeed())
	g.Expect(rule.DeletionTimestamp).To(BeNil(), "an ended rule is status, not deleted")
}
