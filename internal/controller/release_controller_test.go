package controller_test

import (
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
)

func release(ns, name, app, version string, state governorv1alpha1.ReleaseState) *governorv1alpha1.Release {
	return &governorv1alpha1.Release{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       governorv1alpha1.ReleaseSpec{App: app, Version: version, Ref: "v" + version, State: state},
	}
}

func phaseOf(g Gomega, r *governorv1alpha1.Release) governorv1alpha1.ReleasePhase {
	g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(r), r)).To(Succeed())
	return r.Status.Phase
}

func TestReleasesAreOrderedBySemanticVersion(t *testing.T) {
	g := NewWithT(t)
	const ns = "releases"
	// Each release's ref is a tag of the Space's repository (file://, read in process).
	repo := newGitRepo(t, "")
	commits := map[string]string{}
	for _, v := range []string{"1.9.0", "1.10.0", "2.0.0-rc.1", "0.1.0"} {
		commits[v] = repo.commit(v)
		repo.tag("v"+v, commits[v])
	}
	space := newSpace("releases")
	space.Spec.SourceControl = sourceControl("file://"+repo.dir, "")
	create(t, space)
	eventuallyReady(t, space)

	v1_9 := release(ns, "payouts-1-9-0", "payouts", "1.9.0", governorv1alpha1.ReleasePublished)
	v1_10 := release(ns, "payouts-1-10-0", "payouts", "1.10.0", governorv1alpha1.ReleasePublished) // 1.10 > 1.9: not string order
	v2rc := release(ns, "payouts-2-0-0-rc-1", "payouts", "2.0.0-rc.1", governorv1alpha1.ReleaseDraft)
	dup := release(ns, "payouts-1-10-0-again", "payouts", "1.10.0", governorv1alpha1.ReleasePublished)
	other := release(ns, "ledger-0-1-0", "ledger", "0.1.0", governorv1alpha1.ReleaseDraft)
	create(t, v1_9, v1_10, v2rc)
	g.Eventually(func(g Gomega) {
		g.Expect(phaseOf(g, v1_10)).To(Equal(governorv1alpha1.PhaseLive))
		g.Expect(phaseOf(g, v1_9)).To(Equal(governorv1alpha1.PhaseSuperseded))
		g.Expect(phaseOf(g, v2rc)).To(Equal(governorv1alpha1.PhaseDraft))
	}, timeout, interval).Should(Succeed())
	eventuallyCommit(t, v1_9, commits["1.9.0"])
	eventuallyCommit(t, v1_10, commits["1.10.0"])
	eventuallyCommit(t, v2rc, commits["2.0.0-rc.1"])

	create(t, dup, other)
	msg := eventuallyStalled(t, dup, "DuplicateVersion")
	g.Expect(msg).To(ContainSubstring("spec.version"))
	g.Expect(msg).To(ContainSubstring("payouts-1-10-0"))
	g.Expect(phaseOf(g, dup)).To(Equal(governorv1alpha1.PhaseFailed))

	g.Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(space), space)).To(Succeed())
		g.Expect(space.Status.Releases).To(Equal([]governorv1alpha1.AppReleaseStatus{
			{App: "ledger"}, {App: "payouts", Live: "1.10.0"},
		}))
	}, timeout, interval).Should(Succeed())

	// Publishing the release candidate makes it live and supersedes 1.10.0.
	patch := client.MergeFrom(v2rc.DeepCopy())
	v2rc.Spec.State = governorv1alpha1.ReleasePublished
	g.Expect(env.Client.Patch(ctx(), v2rc, patch)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(phaseOf(g, v2rc)).To(Equal(governorv1alpha1.PhaseLive))
		g.Expect(phaseOf(g, v1_10)).To(Equal(governorv1alpha1.PhaseSuperseded))
		g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(space), space)).To(Succeed())
		g.Expect(space.Status.Releases).To(ContainElement(governorv1alpha1.AppReleaseStatus{App: "payouts", Live: "2.0.0-rc.1"}))
	}, timeout, interval).Should(Succeed())

	// Deleting the live release brings the next one back.
	g.Expect(env.Client.Delete(ctx(), v2rc)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(phaseOf(g, v1_10)).To(Equal(governorv1alpha1.PhaseLive))
	}, timeout, interval).Should(Succeed())
}
