package platform_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/controller"
	platformcontroller "github.com/governor-dev/governor/internal/controller/platform"
	"github.com/governor-dev/governor/internal/platform"
	"github.com/governor-dev/governor/internal/platform/emulator"
	"github.com/governor-dev/governor/internal/platform/retool"
	"github.com/governor-dev/governor/internal/platform/syncer"
	"github.com/governor-dev/governor/internal/spacemodel"
)

// TestObserveWritesNothing: a Space in Observe mode makes no write request
// to its instance (the emulator counts every request by method) while its
// child Space is missing, while groups and rules are created, changed and
// deleted, and when the Space itself is deleted with deletionPolicy Delete;
// its status lists the calls a sync would make and the drift. Switched to
// Additive, the next pass makes exactly the calls shown, after which the
// plan is empty and verify finds no difference.
func TestObserveWritesNothing(t *testing.T) {
	e := controlPlane(t)
	g := NewWithT(t)
	ctx := context.Background()
	const hubDomain, teamDomain, ns = "hub.observe.test", "team.observe.test", "obs-team"
	const timeout, interval = time.Minute, 50 * time.Millisecond

	srv := emulator.New(emulator.Options{Domain: hubDomain, RequestsPerMinute: -1})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	noWrites := func(g Gomega, when string) {
		st := srv.Stats()
		g.Expect(st.Writes()).To(BeZero(), "%s: requests %v", when, st.Requests)
	}
	secret := func(name, token string) {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: governorNamespace}, StringData: map[string]string{"token": token}}
		g.Expect(e.Client.Create(ctx, s)).To(Succeed())
		t.Cleanup(func() { _ = e.Client.Delete(ctx, s) })
	}
	environment := func(domain, secret string) []governorv1alpha1.Environment {
		return []governorv1alpha1.Environment{{Name: "development", Instance: &governorv1alpha1.Instance{
			URL: ts.URL, Domain: domain, TokenSecretRef: governorv1alpha1.SecretKeyReference{Name: secret, Key: "token"}}}}
	}
	get := func(g Gomega, name string) *governorv1alpha1.Space {
		s := &governorv1alpha1.Space{}
		g.Expect(e.Client.Get(ctx, client.ObjectKey{Name: name}, s)).To(Succeed())
		return s
	}
	// observing waits for the team Space's PlatformSynced to be Observing
	// at its current model revision, and returns the Space.
	observing := func(check func(g Gomega, s *governorv1alpha1.Space, st governorv1alpha1.EnvironmentPlatformStatus)) *governorv1alpha1.Space {
		t.Helper()
		var out *governorv1alpha1.Space
		g.Eventually(func(g Gomega) {
			s := get(g, ns)
			c := meta.FindStatusCondition(s.Status.Conditions, governorv1alpha1.ConditionPlatformSynced)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Reason).To(Equal(governorv1alpha1.ReasonObserving), c.Message)
			g.Expect(c.ObservedGeneration).To(Equal(s.Generation))
			g.Expect(s.Status.AccessModel).NotTo(BeNil())
			g.Expect(c.Message).To(ContainSubstring(access.ShortRevision(s.Status.AccessModel.Revision)))
			g.Expect(s.Status.Platform).To(HaveLen(1))
			check(g, s, s.Status.Platform[0])
			out = s
		}, timeout, interval).Should(Succeed())
		return out
	}
	setMode := func(mode governorv1alpha1.PlatformMode) {
		t.Helper()
		patch := fmt.Sprintf(`{"spec":{"platform":{"mode":%q}}}`, mode)
		g.Expect(e.Client.Patch(ctx, &governorv1alpha1.Space{ObjectMeta: metav1.ObjectMeta{Name: ns}}, client.RawPatch(types.MergePatchType, []byte(patch)))).To(Succeed())
	}
	calls := func(st governorv1alpha1.EnvironmentPlatformStatus) string {
		if st.Planned == nil {
			return ""
		}
		return strings.Join(st.Planned.Calls, "\n")
	}

	// The hub's admin Space (observing too: it writes nothing of its own)
	// and a team Space the instance does not have yet.
	secret("observe-hub", srv.Space("").Token())
	startOperator(t, e, -1)
	hub := &governorv1alpha1.Space{ObjectMeta: metav1.ObjectMeta{Name: "obs-hub"}, Spec: governorv1alpha1.SpaceSpec{
		Admin: true, DefaultGroups: new(bool), Environments: environment(hubDomain, "observe-hub"),
		Platform: &governorv1alpha1.Platform{Mode: governorv1alpha1.PlatformObserve}}}
	team := &governorv1alpha1.Space{ObjectMeta: metav1.ObjectMeta{Name: ns}, Spec: governorv1alpha1.SpaceSpec{
		DefaultGroups: new(bool), Environments: environment(teamDomain, "observe-team"),
		Platform: &governorv1alpha1.Platform{Mode: governorv1alpha1.PlatformObserve, DeletionPolicy: governorv1alpha1.DeletionDelete}}}
	g.Expect(e.Client.Create(ctx, hub)).To(Succeed())
	t.Cleanup(func() { _ = e.Client.Delete(ctx, hub) })
	g.Expect(e.Client.Create(ctx, team)).To(Succeed())
	t.Cleanup(func() { _ = e.Client.Delete(ctx, team) })

	// The child Space is planned, not created.
	observing(func(g Gomega, _ *governorv1alpha1.Space, st governorv1alpha1.EnvironmentPlatformStatus) {
		g.Expect(st.Planned).NotTo(BeNil())
		g.Expect(st.Planned.Count).To(BeEquivalentTo(1))
		g.Expect(st.Planned.Calls).To(ConsistOf(`POST /spaces "obs-team" domain team.observe.test (through the admin Space obs-hub)`))
	})
	g.Expect(srv.Space(teamDomain)).To(BeNil(), "Observe mode creates no Space")
	noWrites(g, "the child Space missing")

	// The team's Space as it was run by hand: users, an app in a folder, a
	// group nobody declares.
	admin, err := retool.New(retool.Options{URL: ts.URL, Domain: hubDomain, Token: srv.Space("").Token(), RequestsPerMinute: -1})
	g.Expect(err).NotTo(HaveOccurred())
	_, err = admin.CreateSpace(ctx, retool.SpaceCreate{Name: "Team", Domain: teamDomain})
	g.Expect(err).NotTo(HaveOccurred())
	sp := srv.Space(teamDomain)
	sp.AddUser("alice@example.com")
	sp.AddUser("bob@example.com")
	_, err = sp.AddApp("ledger", "finance")
	g.Expect(err).NotTo(HaveOccurred())
	inst, err := retool.New(retool.Options{URL: ts.URL, Domain: teamDomain, Token: sp.Token(), RequestsPerMinute: -1})
	g.Expect(err).NotTo(HaveOccurred())
	_, err = inst.CreateGroup(ctx, retool.GroupCreate{Name: "theirs"})
	g.Expect(err).NotTo(HaveOccurred())
	srv.ResetStats()
	secret("observe-team", sp.Token())

	// Groups and rules created: planned, with the drift.
	g.Eventually(func() error { return e.Client.Get(ctx, client.ObjectKey{Name: ns}, &corev1.Namespace{}) }, timeout, interval).Should(Succeed())
	finance := &governorv1alpha1.PermissionGroup{ObjectMeta: metav1.ObjectMeta{Name: "finance", Namespace: ns}, Spec: governorv1alpha1.PermissionGroupSpec{
		DisplayName: "Finance", Members: []governorv1alpha1.Member{{Email: "alice@example.com", GroupAdmin: true}, {Email: "bob@example.com"}}}}
	// Retool's All Users as the instance has it: the model gives everyone
	// what the instance does.
	everyone := &governorv1alpha1.PermissionGroup{ObjectMeta: metav1.ObjectMeta{Name: "everyone", Namespace: ns}, Spec: governorv1alpha1.PermissionGroupSpec{
		Builtin: governorv1alpha1.BuiltinAllUsers, Universal: &governorv1alpha1.UniversalAccess{Apps: "Edit", Workflows: "Edit", Resources: "Own", QueryLibrary: "Edit"},
		Additional: &governorv1alpha1.AdditionalAccess{AccountDetails: true}}}
	ledger := &governorv1alpha1.AccessRule{ObjectMeta: metav1.ObjectMeta{Name: "ledger", Namespace: ns}, Spec: governorv1alpha1.AccessRuleSpec{
		Group: "finance", Level: "Own", Targets: []governorv1alpha1.Target{
			{Kind: governorv1alpha1.TargetApp, Name: "ledger"},
			{Kind: governorv1alpha1.TargetFolder, FolderType: "App", Name: "finance/reports"}}}}
	for _, o := range []client.Object{finance, everyone, ledger} {
		g.Expect(e.Client.Create(ctx, o)).To(Succeed())
	}
	s := observing(func(g Gomega, s *governorv1alpha1.Space, st governorv1alpha1.EnvironmentPlatformStatus) {
		g.Expect(st.SpaceID).To(Equal(sp.ID()), "the Space created by hand is found by its domain")
		g.Expect(calls(st)).To(And(ContainSubstring(`POST /groups "Finance" with 2 member(s)`), ContainSubstring(`POST /folders app folder "finance/reports"`),
			ContainSubstring(`own on app/`)))
		g.Expect(st.Drift).NotTo(BeNil())
		g.Expect(st.Drift.Examples).To(ContainElement(`group "theirs"`))
		g.Expect(st.SyncedRevision).To(BeEmpty(), "the instance does not hold the model")
	})
	c := meta.FindStatusCondition(s.Status.Conditions, governorv1alpha1.ConditionPlatformSynced)
	g.Expect(c.Status).To(Equal(metav1.ConditionFalse), "the instance does not hold the model: %s", c.Message)
	g.Eventually(func(g Gomega) {
		g.Expect(meta.IsStatusConditionTrue(get(g, ns).Status.Conditions, governorv1alpha1.ConditionReady)).To(BeTrue(), "observing is where the Space was asked to be")
	}, timeout, interval).Should(Succeed())
	noWrites(g, "groups and rules created")

	// Changed: a rule's level, a new group and rule; then those deleted.
	g.Expect(e.Client.Get(ctx, client.ObjectKeyFromObject(ledger), ledger)).To(Succeed())
	ledger.Spec.Level = "Use"
	g.Expect(e.Client.Update(ctx, ledger)).To(Succeed())
	audit := &governorv1alpha1.PermissionGroup{ObjectMeta: metav1.ObjectMeta{Name: "audit", Namespace: ns}, Spec: governorv1alpha1.PermissionGroupSpec{
		Members: []governorv1alpha1.Member{{Email: "bob@example.com"}}}}
	auditLedger := &governorv1alpha1.AccessRule{ObjectMeta: metav1.ObjectMeta{Name: "audit-ledger", Namespace: ns}, Spec: governorv1alpha1.AccessRuleSpec{
		Group: "audit", Level: "Use", Targets: []governorv1alpha1.Target{{Kind: governorv1alpha1.TargetApp, Name: "ledger"}}}}
	g.Expect(e.Client.Create(ctx, audit)).To(Succeed())
	g.Expect(e.Client.Create(ctx, auditLedger)).To(Succeed())
	observing(func(g Gomega, _ *governorv1alpha1.Space, st governorv1alpha1.EnvironmentPlatformStatus) {
		g.Expect(calls(st)).To(And(ContainSubstring(`POST /groups "audit"`), ContainSubstring(`use on app/`), Not(ContainSubstring(`own on app/`))))
	})
	g.Expect(e.Client.Delete(ctx, auditLedger)).To(Succeed())
	g.Expect(e.Client.Delete(ctx, audit)).To(Succeed())
	for _, o := range []client.Object{auditLedger, audit} {
		g.Eventually(func() bool {
			return apierrors.IsNotFound(e.Client.Get(ctx, client.ObjectKeyFromObject(o), o))
		}, timeout, interval).Should(BeTrue(), "%s's finalizer is released without a call", o.GetName())
	}
	shown := observing(func(g Gomega, _ *governorv1alpha1.Space, st governorv1alpha1.EnvironmentPlatformStatus) {
		g.Expect(calls(st)).NotTo(ContainSubstring("audit"))
	}).Status.Platform[0].Planned
	noWrites(g, "groups and rules changed and deleted")
	t.Logf("planned: %d call(s): %s", shown.Count, strings.Join(shown.Calls, "; "))
	// At rest, resyncs of an observing Space write its status no more.
	time.Sleep(4 * time.Second)
	before := get(g, ns).ResourceVersion
	time.Sleep(5 * time.Second) // two resyncs
	g.Expect(get(g, ns).ResourceVersion).To(Equal(before), "an observing Space at rest is not written")
	g.Expect(get(g, ns).Status.Platform[0].Planned).To(Equal(shown))

	// Additive: the calls shown are made, and no other.
	setMode(governorv1alpha1.PlatformAdditive)
	g.Eventually(func(g Gomega) {
		s := get(g, ns)
		c := meta.FindStatusCondition(s.Status.Conditions, governorv1alpha1.ConditionPlatformSynced)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue), "%s: %s", c.Reason, c.Message)
		g.Expect(c.Reason).To(Equal("Synced"))
		g.Expect(s.Status.Platform[0].Planned).To(BeNil())
	}, timeout, interval).Should(Succeed())
	st := srv.Stats()
	g.Expect(st.Writes()).To(BeEquivalentTo(shown.Count), "Additive makes the calls Observe showed: %v", st.Requests)

	loaded, err := spacemodel.Load(ctx, e.Client, ns)
	g.Expect(err).NotTo(HaveOccurred())
	snap, problems := loaded.Compile()
	g.Expect(problems).To(BeEmpty())
	recorded, err := platformcontroller.LoadRecorded(ctx, e.Client, governorNamespace, ns, "development")
	g.Expect(err).NotTo(HaveOccurred())
	res := syncer.Pass(ctx, inst, syncer.Input{Model: snap, Environment: platform.Environment{Name: "development"}, Source: controller.PlatformSource(loaded.Space),
		Mode: platform.Additive, Recorded: recorded, GrantReads: -1})
	g.Expect(res.Err).To(BeNil())
	g.Expect(opTexts(res.Plan)).To(BeEmpty(), "the plan after Additive")
	v, err := syncer.Verify(ctx, inst, syncer.VerifyInput{Model: snap, Space: loaded.Input, Environment: "development"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(v.Objects).To(BeNumerically(">", 0))
	g.Expect(v.Differences).To(BeEmpty(), "governor platform verify finds no difference")

	// Back to Observe: deleting what Governor created deletes nothing, nor
	// does deleting the Space with deletionPolicy Delete.
	setMode(governorv1alpha1.PlatformObserve)
	observing(func(g Gomega, _ *governorv1alpha1.Space, st governorv1alpha1.EnvironmentPlatformStatus) {
		g.Expect(st.Planned).NotTo(BeNil())
		g.Expect(st.Planned.Count).To(BeZero())
	})
	srv.ResetStats()
	g.Expect(e.Client.Delete(ctx, ledger)).To(Succeed())
	g.Expect(e.Client.Delete(ctx, finance)).To(Succeed())
	for _, o := range []client.Object{ledger, finance} {
		g.Eventually(func() bool {
			return apierrors.IsNotFound(e.Client.Get(ctx, client.ObjectKeyFromObject(o), o))
		}, timeout, interval).Should(BeTrue(), "%s's finalizer is released without a call", o.GetName())
	}
	observing(func(g Gomega, _ *governorv1alpha1.Space, st governorv1alpha1.EnvironmentPlatformStatus) {
		g.Expect(calls(st)).To(MatchRegexp(`DELETE /groups/\d+ "Finance"`), "Governor created it: Additive would delete it")
	})
	g.Expect(e.Client.Delete(ctx, team)).To(Succeed())
	g.Eventually(func() bool {
		return apierrors.IsNotFound(e.Client.Get(ctx, client.ObjectKeyFromObject(team), &governorv1alpha1.Space{}))
	}, timeout, interval).Should(BeTrue(), "the Space's finalizers are released")
	noWrites(g, "groups, rules and the Space deleted")
	g.Expect(srv.Space(teamDomain)).NotTo(BeNil(), "deletionPolicy Delete is not followed in Observe mode")
	g.Expect(customGroups(t, inst)).To(ContainElement(HaveField("Name", "Finance")))
}

func opTexts(p platform.Plan) []string {
	out := make([]string, 0, len(p.Ops))
	for _, op := range p.Ops {
		out = append(out, op.String())
	}
	return out
}
