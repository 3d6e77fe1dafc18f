package controller_test

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/platform/emulator"
)

// TestPlatformExpressibleCondition: a None override beneath a folder grant
// cannot be held by an instance (Retool has no deny), and the rule says so
// in PlatformExpressible=False, naming the target, the environment and the
// level the instance grants instead; fixed, it is True. The condition is
// written by the rule's one status writer, once per change.
func TestPlatformExpressibleCondition(t *testing.T) {
	g := NewWithT(t)
	const name = "plat-expr"
	dev, prod := newInstance(t, emulator.Options{Domain: "hub.dev.test"}), newInstance(t, emulator.Options{Domain: "hub.prod.test"})
	devSpace, prodSpace := dev.child(t, name+".dev.test"), prod.child(t, name+".prod.test")
	for _, sp := range []*emulator.Space{devSpace, prodSpace} {
		sp.AddUser("alice@example.com")
		if _, err := sp.AddResource("ledger-db", "finance"); err != nil {
			t.Fatal(err)
		}
	}
	tokenSecret(t, name+"-dev", devSpace.Token())
	tokenSecret(t, name+"-prod", prodSpace.Token())
	space := newSpace(name, func(s *governorv1alpha1.Space) {
		s.Spec.DefaultGroups = new(bool)
		s.Spec.Environments = []governorv1alpha1.Environment{
			platformEnv("development", dev, name+".dev.test", name+"-dev", false),
			platformEnv("production", prod, name+".prod.test", name+"-prod", true),
		}
	})
	create(t, space)
	t.Cleanup(func() { _ = env.Client.Delete(ctx(), space) })
	g.Eventually(func() error { return env.Client.Get(ctx(), client.ObjectKey{Name: name}, &corev1.Namespace{}) }, timeout, interval).Should(Succeed())
	rules := watchStatusWrites(t, &governorv1alpha1.AccessRuleList{}, name)

	folder := &governorv1alpha1.AccessRule{ObjectMeta: metav1.ObjectMeta{Name: "team-folder", Namespace: name}, Spec: governorv1alpha1.AccessRuleSpec{
		Group: "team", Level: "Edit", Targets: []governorv1alpha1.Target{{Kind: governorv1alpha1.TargetFolder, FolderType: "Resource", Name: "finance"}}}}
	ledger := &governorv1alpha1.AccessRule{ObjectMeta: metav1.ObjectMeta{Name: "team-ledger", Namespace: name}, Spec: governorv1alpha1.AccessRuleSpec{
		Group: "team", Level: "Edit", Targets: []governorv1alpha1.Target{{Kind: governorv1alpha1.TargetResource, Name: "ledger-db",
			Environments: []governorv1alpha1.EnvironmentLevel{{Name: "production", Level: "None"}}}}}}
	create(t,
		&governorv1alpha1.PermissionGroup{ObjectMeta: metav1.ObjectMeta{Name: "team", Namespace: name}, Spec: governorv1alpha1.PermissionGroupSpec{
			Members: []governorv1alpha1.Member{{Email: "alice@example.com"}}}},
		folder, ledger)

	g.Eventually(func(g Gomega) {
		c := condition(g, ledger, governorv1alpha1.ConditionPlatformExpressible)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(c.Reason).To(Equal(governorv1alpha1.ReasonNotExpressible))
		g.Expect(c.Message).To(HavePrefix(`resource "ledger-db" in production: the instance grants group team edit, not none (the platform has no deny, and rule team-folder's grant on folder "finance"`))
		g.Expect(c.ObservedGeneration).To(Equal(ledger.Generation))
	}, platformTimeout, interval).Should(Succeed())
	g.Eventually(func(g Gomega) {
		c := condition(g, folder, governorv1alpha1.ConditionPlatformExpressible)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue), c.Message)
	}, platformTimeout, interval).Should(Succeed())
	g.Expect(conditionStatus(ledger, governorv1alpha1.ConditionReady)).To(Equal(metav1.ConditionTrue), "inexpressible is not unready: the rule is in the model")

	// At rest (resyncs every 2s publish the same verdict), nothing is written.
	rules.drain(time.Second)
	settled := rules.counts["team-ledger"]
	rules.drain(5 * time.Second)
	g.Expect(rules.counts["team-ledger"]).To(Equal(settled), "no status write while the verdict stays the same")
	folderWrites := rules.counts["team-folder"]

	// Fixed: the override goes, and the rule is expressible.
	g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(ledger), ledger)).To(Succeed())
	ledger.Spec.Targets[0].Environments = nil
	g.Expect(env.Client.Update(ctx(), ledger)).To(Succeed())
	g.Eventually(func(g Gomega) {
		c := condition(g, ledger, governorv1alpha1.ConditionPlatformExpressible)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue), c.Message)
		g.Expect(c.Reason).To(Equal("Expressible"))
		g.Expect(c.ObservedGeneration).To(Equal(ledger.Generation))
	}, platformTimeout, interval).Should(Succeed())
	rules.drain(time.Second)
	settled = rules.counts["team-ledger"]
	rules.drain(5 * time.Second)
	g.Expect(rules.counts["team-ledger"]).To(Equal(settled), "no status write at rest")
	g.Expect(rules.counts["team-folder"]).To(Equal(folderWrites), "the other rule's verdict did not change: not written")

	// One writer: the rule's object reconciler.
	g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(ledger), ledger)).To(Succeed())
	g.Expect(statusManagers(ledger)).To(Equal([]string{"governor-model/Apply"}))

	// A Space without instances: no verdict, no condition.
	g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(space), space)).To(Succeed())
	space.Spec.Environments = nil
	g.Expect(env.Client.Update(ctx(), space)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(ledger), ledger)).To(Succeed())
		g.Expect(conditionStatus(ledger, governorv1alpha1.ConditionPlatformExpressible)).To(BeEmpty())
	}, platformTimeout, interval).Should(Succeed())
}

// conditionStatus is the status of obj's condition of condType ("" when absent).
func conditionStatus(obj *governorv1alpha1.AccessRule, condType string) metav1.ConditionStatus {
	for _, c := range obj.Status.Conditions {
		if c.Type == condType {
			return c.Status
		}
	}
	return ""
}
