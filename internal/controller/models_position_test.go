package controller_test

import (
	"strconv"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/controller"
	"github.com/governor-dev/governor/internal/revision"
)

// TestModelPositionCountsDeletions: deleting a group leaves no object to
// read a resourceVersion from, yet the model's position moves past every
// group that remains, so an ordered token issued before the deletion is
// never answered by a replica that still holds the group. The Space's
// status carries the ordered token.
func TestModelPositionCountsDeletions(t *testing.T) {
	g := NewWithT(t)
	const ns = "positions"
	space := newSpace(ns)
	create(t, space)
	eventuallyReady(t, space)
	doomed := &governorv1alpha1.PermissionGroup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "doomed"},
		Spec: governorv1alpha1.PermissionGroupSpec{Members: []governorv1alpha1.Member{{Email: "dora@example.com"}}}}
	create(t, doomed)
	eventuallyReady(t, doomed)
	ref := controller.ObjectRef{Kind: "PermissionGroup", Name: "doomed"}
	g.Eventually(func() bool { m := getModel(ns); return m != nil && m.Generations[ref] != 0 }, timeout, interval).Should(BeTrue())
	before := getModel(ns)

	g.Expect(env.Client.Delete(ctx(), doomed)).To(Succeed())
	g.Eventually(func() bool { _, in := getModel(ns).Generations[ref]; return in }, timeout, interval).Should(BeFalse())
	after := getModel(ns)
	var groups governorv1alpha1.PermissionGroupList
	g.Expect(env.Client.List(ctx(), &groups, client.InNamespace(ns))).To(Succeed())
	for i := range groups.Items {
		rv, err := strconv.ParseUint(groups.Items[i].ResourceVersion, 10, 64)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(after.Position[revision.KindGroup]).To(BeNumerically(">", rv),
			"the position after the deletion is not past group %s: the deletion was not counted", groups.Items[i].Name)
	}
	tokBefore, err := revision.Parse(before.Token())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(tokBefore.Ordered).To(BeTrue())
	g.Expect(models.Reached(ns, before.Token())).To(BeTrue())
	g.Expect(after.Position.AtLeast(tokBefore.Position)).To(BeTrue())
	g.Expect(tokBefore.Position.AtLeast(after.Position)).To(BeFalse(), "the deletion did not move the position")

	g.Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(space), space)).To(Succeed())
		g.Expect(space.Status.AccessModel).NotTo(BeNil())
		g.Expect(space.Status.AccessModel.RevisionToken).To(HavePrefix(space.Status.AccessModel.Revision + "@"))
		g.Expect(strings.Count(space.Status.AccessModel.RevisionToken, ".")).To(Equal(2))
	}, timeout, interval).Should(Succeed())
}
