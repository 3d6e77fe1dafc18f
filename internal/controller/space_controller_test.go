package controller_test

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
)

func newSpace(name string, mutate ...func(*governorv1alpha1.Space)) *governorv1alpha1.Space {
	s := &governorv1alpha1.Space{ObjectMeta: metav1.ObjectMeta{Name: name}}
	for _, m := range mutate {
		m(s)
	}
	return s
}

func create(t *testing.T, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := env.Client.Create(ctx(), o); err != nil {
			t.Fatalf("creating %T %s: %v", o, o.GetName(), err)
		}
	}
}

func groupNames(t *testing.T, ns string) map[string]governorv1alpha1.BuiltinRole {
	t.Helper()
	var list governorv1alpha1.PermissionGroupList
	if err := env.Client.List(ctx(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	out := map[string]governorv1alpha1.BuiltinRole{}
	for _, g := range list.Items {
		out[g.Name] = g.Spec.Builtin
	}
	return out
}

func TestSpaceProvisionsNamespaceAdminsAndDefaultGroups(t *testing.T) {
	g := NewWithT(t)
	space := newSpace("provision", func(s *governorv1alpha1.Space) {
		s.Spec.Admins = []governorv1alpha1.Subject{{Kind: "User", Name: "alice@example.com"}, {Kind: "Group", Name: "payments-leads"}}
	})
	create(t, space)
	eventuallyReady(t, space)

	g.Expect(space.Status.Namespace).To(Equal("provision"))
	g.Expect(space.Finalizers).To(ContainElement(governorv1alpha1.SpaceFinalizer))
	ns := &corev1.Namespace{}
	g.Expect(env.Client.Get(ctx(), client.ObjectKey{Name: "provision"}, ns)).To(Succeed())
	g.Expect(ns.Labels).To(HaveKeyWithValue(governorv1alpha1.LabelSpace, "provision"))
	g.Expect(ns.Labels).To(HaveKeyWithValue(governorv1alpha1.LabelManagedBy, "governor"))
	g.Expect(ns.Labels).NotTo(HaveKey("app.kubernetes.io/instance"), "never Argo CD's tracking label")
	g.Expect(metav1.IsControlledBy(ns, space) || len(ns.OwnerReferences) == 1).To(BeTrue())

	binding := &rbacv1.RoleBinding{}
	g.Expect(env.Client.Get(ctx(), client.ObjectKey{Namespace: "provision", Name: "governor-space-admins"}, binding)).To(Succeed())
	g.Expect(binding.RoleRef.Name).To(Equal("governor-space-admin"))
	g.Expect(binding.Subjects).To(ConsistOf(
		rbacv1.Subject{Kind: "User", Name: "alice@example.com", APIGroup: rbacv1.GroupName},
		rbacv1.Subject{Kind: "Group", Name: "payments-leads", APIGroup: rbacv1.GroupName},
	))

	g.Expect(groupNames(t, "provision")).To(Equal(map[string]governorv1alpha1.BuiltinRole{
		"all-users": "AllUsers", "viewer": "Viewer", "editor": "Editor", "admin": "Admin",
	}))
	g.Expect(space.Status.DefaultGroupsCreated).To(BeTrue())
	g.Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(space), space)).To(Succeed())
		g.Expect(space.Status.AccessModel).NotTo(BeNil())
		g.Expect(space.Status.AccessModel.Groups).To(BeEquivalentTo(4))
		g.Expect(space.Status.AccessModel.Revision).NotTo(BeEmpty())
	}, timeout, interval).Should(Succeed())

	// Admins change: the binding follows; no admins: the binding goes.
	patch := client.MergeFrom(space.DeepCopy())
	space.Spec.Admins = []governorv1alpha1.Subject{{Kind: "User", Name: "bob@example.com"}}
	g.Expect(env.Client.Patch(ctx(), space, patch)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(binding), binding)).To(Succeed())
		g.Expect(binding.Subjects).To(ConsistOf(rbacv1.Subject{Kind: "User", Name: "bob@example.com", APIGroup: rbacv1.GroupName}))
	}, timeout, interval).Should(Succeed())

	// A default group deleted on purpose stays deleted: they are created once.
	g.Expect(env.Client.Delete(ctx(), &governorv1alpha1.PermissionGroup{ObjectMeta: metav1.ObjectMeta{Namespace: "provision", Name: "viewer"}})).To(Succeed())
	patch = client.MergeFrom(space.DeepCopy())
	space.Spec.Admins = nil
	g.Expect(env.Client.Patch(ctx(), space, patch)).To(Succeed())
	g.Eventually(func() bool {
		return apierrors.IsNotFound(env.Client.Get(ctx(), client.ObjectKeyFromObject(binding), binding))
	}, timeout, interval).Should(BeTrue())
	eventuallyReady(t, space)
	g.Expect(groupNames(t, "provision")).NotTo(HaveKey("viewer"))
}

func TestSpaceDefaultGroupsRespectExistingBuiltins(t *testing.T) {
	g := NewWithT(t)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "existing-builtins"}}
	mine := &governorv1alpha1.PermissionGroup{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "readers"},
		Spec:       governorv1alpha1.PermissionGroupSpec{Builtin: governorv1alpha1.BuiltinViewer, Members: []governorv1alpha1.Member{{Email: "x@example.com"}}},
	}
	create(t, ns, mine)
	space := newSpace("existing-builtins")
	create(t, space)
	eventuallyReady(t, space)
	groups := groupNames(t, ns.Name)
	g.Expect(groups).To(HaveKeyWithValue("readers", governorv1alpha1.BuiltinViewer))
	g.Expect(groups).NotTo(HaveKey("viewer"), "a Viewer group exists already")
	g.Expect(groups).To(HaveKey("admin"))

	// Never overwritten: the user's group keeps its spec.
	g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(mine), mine)).To(Succeed())
	g.Expect(mine.Spec.Members).To(HaveLen(1))

	off := newSpace("no-defaults", func(s *governorv1alpha1.Space) { s.Spec.DefaultGroups = ptr.To(false) })
	create(t, off)
	eventuallyReady(t, off)
	g.Expect(groupNames(t, "no-defaults")).To(BeEmpty())
}

func TestSpaceAdoptsAndReleasesAnExistingNamespace(t *testing.T) {
	g := NewWithT(t)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "adopted", Labels: map[string]string{"team": "payments"}}}
	keep := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "adopted", Name: "keep-me"}}
	create(t, ns, keep)
	space := newSpace("adopter", func(s *governorv1alpha1.Space) {
		s.Spec.Namespace = "adopted"
		s.Spec.Admins = []governorv1alpha1.Subject{{Kind: "User", Name: "alice@example.com"}}
	})
	create(t, space)
	eventuallyReady(t, space)
	g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(ns), ns)).To(Succeed())
	g.Expect(ns.Labels).To(HaveKeyWithValue(governorv1alpha1.LabelSpace, "adopter"))
	g.Expect(ns.OwnerReferences).To(BeEmpty(), "an adopted namespace is not owned: it outlives the Space")

	g.Expect(env.Client.Delete(ctx(), space)).To(Succeed())
	g.Eventually(func() bool {
		return apierrors.IsNotFound(env.Client.Get(ctx(), client.ObjectKeyFromObject(space), space))
	}, timeout, interval).Should(BeTrue())
	g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(ns), ns)).To(Succeed())
	g.Expect(ns.DeletionTimestamp).To(BeNil())
	g.Expect(ns.Labels).NotTo(HaveKey(governorv1alpha1.LabelSpace))
	g.Expect(ns.Labels).To(HaveKeyWithValue("team", "payments"))
	g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(keep), keep)).To(Succeed())
	g.Expect(groupNames(t, "adopted")).To(BeEmpty(), "the default groups it created go with it")
	err := env.Client.Get(ctx(), client.ObjectKey{Namespace: "adopted", Name: "governor-space-admins"}, &rbacv1.RoleBinding{})
	g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the admin binding goes with it: %v", err)
}

func TestSpaceDeletionRemovesTheNamespaceItCreated(t *testing.T) {
	g := NewWithT(t)
	space := newSpace("short-lived")
	create(t, space)
	eventuallyReady(t, space)
	g.Expect(env.Client.Delete(ctx(), space)).To(Succeed())
	g.Eventually(func() bool {
		ns := &corev1.Namespace{}
		err := env.Client.Get(ctx(), client.ObjectKey{Name: "short-lived"}, ns)
		return apierrors.IsNotFound(err) || !ns.DeletionTimestamp.IsZero()
	}, timeout, interval).Should(BeTrue())
	g.Eventually(func() bool {
		return apierrors.IsNotFound(env.Client.Get(ctx(), client.ObjectKeyFromObject(space), space))
	}, timeout, interval).Should(BeTrue())
	g.Eventually(func() *controllerModel { return getModel("short-lived") }, timeout, interval).Should(BeNil())
}

func TestSpaceRecreatesItsNamespaceAndFinalizesWithoutIt(t *testing.T) {
	g := NewWithT(t)
	space := newSpace("orphaned")
	create(t, space)
	eventuallyReady(t, space)
	ns := &corev1.Namespace{}
	g.Expect(env.Client.Get(ctx(), client.ObjectKey{Name: "orphaned"}, ns)).To(Succeed())
	firstUID := ns.UID

	// Deleted by hand: kube-controller-manager removes it, the Space creates it again.
	g.Expect(env.Client.Delete(ctx(), ns)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx(), client.ObjectKey{Name: "orphaned"}, ns)).To(Succeed())
		g.Expect(ns.UID).NotTo(Equal(firstUID))
		g.Expect(ns.DeletionTimestamp).To(BeNil())
	}, 3*timeout, interval).Should(Succeed())
	eventuallyReady(t, space)

	// The namespace and the Space deleted together: the finalizer completes
	// whether the namespace is terminating or already gone.
	g.Expect(env.Client.Delete(ctx(), ns)).To(Succeed())
	g.Expect(env.Client.Delete(ctx(), space)).To(Succeed())
	g.Eventually(func() bool {
		return apierrors.IsNotFound(env.Client.Get(ctx(), client.ObjectKeyFromObject(space), space))
	}, timeout, interval).Should(BeTrue())
	g.Eventually(func() bool {
		return apierrors.IsNotFound(env.Client.Get(ctx(), client.ObjectKey{Name: "orphaned"}, ns))
	}, 3*timeout, interval).Should(BeTrue())
}

func TestSpaceInheritsSourceControlAndSSO(t *testing.T) {
	g := NewWithT(t)
	child := newSpace("child", func(s *governorv1alpha1.Space) {
		s.Spec.InheritFrom = "parent"
		s.Spec.SSO = &governorv1alpha1.SSO{JIT: &governorv1alpha1.JIT{Enabled: false}}
	})
	create(t, child)
	// The parent does not exist yet: the child waits for it, it is not stalled.
	g.Eventually(func(g Gomega) {
		c := condition(g, child, governorv1alpha1.ConditionReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal("InheritSourceNotFound"))
		g.Expect(c.Message).To(ContainSubstring("spec.inheritFrom"))
		r := condition(g, child, governorv1alpha1.ConditionReconciling)
		g.Expect(r).NotTo(BeNil())
	}, timeout, interval).Should(Succeed())

	parent := newSpace("parent", func(s *governorv1alpha1.Space) {
		s.Spec.SourceControl = &governorv1alpha1.SourceControl{Provider: "GitHub", Repository: "https://github.com/acme/apps.git"}
		s.Spec.SSO = &governorv1alpha1.SSO{JIT: &governorv1alpha1.JIT{Enabled: true, AllowedDomains: []string{"example.com"}}}
	})
	create(t, parent)
	eventuallyReady(t, child)
	g.Expect(child.Status.Inherited).NotTo(BeNil())
	g.Expect(child.Status.Inherited.From).To(Equal("parent"))
	g.Expect(child.Status.Inherited.SourceControl).NotTo(BeNil())
	g.Expect(child.Status.Inherited.SourceControl.Repository).To(Equal("https://github.com/acme/apps.git"))
	g.Expect(child.Status.Inherited.SSO).To(BeNil(), "the child sets its own sso")
	g.Expect(child.Spec.SourceControl).To(BeNil(), "the spec is the user's: never written")

	// A change in the parent reaches the child.
	patch := client.MergeFrom(parent.DeepCopy())
	parent.Spec.SourceControl.Repository = "https://github.com/acme/apps-v2.git"
	g.Expect(env.Client.Patch(ctx(), parent, patch)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(child), child)).To(Succeed())
		g.Expect(child.Status.Inherited.SourceControl.Repository).To(Equal("https://github.com/acme/apps-v2.git"))
	}, timeout, interval).Should(Succeed())
}

func TestOnlyOneAdminSpace(t *testing.T) {
	g := NewWithT(t)
	first := newSpace("hub-one", func(s *governorv1alpha1.Space) { s.Spec.Admin = true })
	create(t, first)
	t.Cleanup(func() { _ = env.Client.Delete(ctx(), first) })
	eventuallyReady(t, first)
	second := newSpace("hub-two", func(s *governorv1alpha1.Space) { s.Spec.Admin = true })
	create(t, second)
	// Gone after the test: a later test's admin Space would be the younger.
	t.Cleanup(func() { _ = env.Client.Delete(ctx(), second) })
	msg := eventuallyStalled(t, second, "AdminConflict")
	g.Expect(msg).To(ContainSubstring("spec.admin"))
	g.Expect(msg).To(ContainSubstring("hub-one"))
	eventuallyReady(t, first)

	// The conflict resolves when the first stops being admin.
	patch := client.MergeFrom(first.DeepCopy())
	first.Spec.Admin = false
	g.Expect(env.Client.Patch(ctx(), first, patch)).To(Succeed())
	eventuallyReady(t, second)
}

func TestNamespaceClaimedByTwoSpaces(t *testing.T) {
	g := NewWithT(t)
	a := newSpace("claim-a", func(s *governorv1alpha1.Space) { s.Spec.Namespace = "claimed" })
	create(t, a)
	eventuallyReady(t, a)
	b := newSpace("claim-b", func(s *governorv1alpha1.Space) { s.Spec.Namespace = "claimed" })
	create(t, b)
	msg := eventuallyStalled(t, b, "NamespaceConflict")
	g.Expect(msg).To(ContainSubstring("spec.namespace"))
	g.Expect(msg).To(ContainSubstring("claim-a"))
}

func TestSpaceAtRestIsNotWritten(t *testing.T) {
	g := NewWithT(t)
	space := newSpace("at-rest")
	create(t, space)
	eventuallyReady(t, space)
	// Wait until the compiled model is published, then touch metadata only:
	// the reconcile that follows must find nothing to write.
	g.Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(space), space)).To(Succeed())
		g.Expect(space.Status.AccessModel).NotTo(BeNil())
		g.Expect(space.Status.AccessModel.Groups).To(BeEquivalentTo(4))
	}, timeout, interval).Should(Succeed())
	g.Consistently(func(g Gomega) {
		g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(space), space)).To(Succeed())
	}, "1s", interval).Should(Succeed())
	patch := client.MergeFrom(space.DeepCopy())
	space.Annotations = map[string]string{"touched": "yes"}
	g.Expect(env.Client.Patch(ctx(), space, patch)).To(Succeed())
	rv := space.ResourceVersion
	g.Consistently(func() string {
		s := &governorv1alpha1.Space{}
		_ = env.Client.Get(ctx(), client.ObjectKeyFromObject(space), s)
		return s.ResourceVersion
	}, "2s", interval).Should(Equal(rv))
}

// TestAdminBindingOwnerIsRepaired: the Space's admin RoleBinding keeps its
// owner reference: removed by hand, it is put back (and nothing else changes).
func TestAdminBindingOwnerIsRepaired(t *testing.T) {
	g := NewWithT(t)
	space := newSpace("repair-owner", func(s *governorv1alpha1.Space) {
		s.Spec.Admins = []governorv1alpha1.Subject{{Kind: "User", Name: "alice@example.com"}}
	})
	create(t, space)
	t.Cleanup(func() { _ = env.Client.Delete(ctx(), space) })
	eventuallyReady(t, space)
	binding := &rbacv1.RoleBinding{}
	key := client.ObjectKey{Namespace: "repair-owner", Name: "governor-space-admins"}
	g.Expect(env.Client.Get(ctx(), key, binding)).To(Succeed())
	g.Expect(metav1.IsControlledBy(binding, space)).To(BeTrue())

	patch := client.MergeFrom(binding.DeepCopy())
	binding.OwnerReferences = nil
	g.Expect(env.Client.Patch(ctx(), binding, patch)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx(), key, binding)).To(Succeed())
		g.Expect(metav1.IsControlledBy(binding, space)).To(BeTrue(), "the owner reference is back")
	}, timeout, interval).Should(Succeed())
	g.Expect(binding.Subjects).To(HaveLen(1))
	g.Expect(binding.Subjects[0].Name).To(Equal("alice@example.com"))
}

// TestSpaceDeletionLeavesNothingBehind: deleting a Space that adopted its
// namespace removes its group admins' Roles and RoleBindings and the default
// groups nobody declared, keeps the default group someone applied since (and
// every group declared beside it), and clears what their status said of it.
func TestSpaceDeletionLeavesNothingBehind(t *testing.T) {
	g := NewWithT(t)
	const ns = "leave-nothing"
	create(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	space := newSpace(ns)
	create(t, space)
	eventuallyReady(t, space)
	g.Expect(groupNames(t, ns)).To(HaveLen(4))

	// `kubectl apply` of a manifest naming the viewer group adopts it.
	viewer := &governorv1alpha1.PermissionGroup{}
	g.Expect(env.Client.Get(ctx(), client.ObjectKey{Namespace: ns, Name: "viewer"}, viewer)).To(Succeed())
	g.Expect(viewer.OwnerReferences).To(BeEmpty(), "a default group is not owned by the Space: the garbage collector would take it with the Space")
	patch := client.MergeFrom(viewer.DeepCopy())
	viewer.Annotations = map[string]string{corev1.LastAppliedConfigAnnotation: `{"spec":{"builtin":"Viewer"}}`}
	viewer.Spec.Members = []governorv1alpha1.Member{{Email: "bob@example.com"}}
	g.Expect(env.Client.Patch(ctx(), viewer, patch, client.FieldOwner("kubectl-client-side-apply"))).To(Succeed())

	finance := &governorv1alpha1.PermissionGroup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "finance"},
		Spec: governorv1alpha1.PermissionGroupSpec{Members: []governorv1alpha1.Member{{Email: "carol@example.com", GroupAdmin: true}}}}
	create(t, finance)
	eventuallyReady(t, finance)
	g.Eventually(func(g Gomega) {
		c := condition(g, finance, governorv1alpha1.ConditionGroupAdminsBound)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
	}, timeout, interval).Should(Succeed())
	adminKey := client.ObjectKey{Namespace: ns, Name: "governor-group-admins-finance"}
	g.Expect(env.Client.Get(ctx(), adminKey, &rbacv1.Role{})).To(Succeed())
	g.Expect(env.Client.Get(ctx(), adminKey, &rbacv1.RoleBinding{})).To(Succeed())
	g.Expect(finance.Status.Space).To(Equal(ns))

	g.Expect(env.Client.Delete(ctx(), space)).To(Succeed())
	g.Eventually(func() bool {
		return apierrors.IsNotFound(env.Client.Get(ctx(), client.ObjectKeyFromObject(space), space))
	}, timeout, interval).Should(BeTrue())

	g.Eventually(func(g Gomega) {
		g.Expect(apierrors.IsNotFound(env.Client.Get(ctx(), adminKey, &rbacv1.Role{}))).To(BeTrue(), "the group admins' Role")
		g.Expect(apierrors.IsNotFound(env.Client.Get(ctx(), adminKey, &rbacv1.RoleBinding{}))).To(BeTrue(), "the group admins' RoleBinding")
	}, timeout, interval).Should(Succeed())
	g.Expect(groupNames(t, ns)).To(Equal(map[string]governorv1alpha1.BuiltinRole{"viewer": "Viewer", "finance": ""}),
		"the default groups nobody declared go; the adopted one and the user's stay")
	for _, group := range []*governorv1alpha1.PermissionGroup{finance, viewer} {
		g.Eventually(func(g Gomega) {
			c := condition(g, group, governorv1alpha1.ConditionStalled)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Reason).To(Equal("NotGoverned"))
			g.Expect(group.Status.Space).To(BeEmpty(), "the status names no deleted Space")
			g.Expect(condition(g, group, governorv1alpha1.ConditionGroupAdminsBound)).To(BeNil())
		}, timeout, interval).Should(Succeed())
	}
	// And nothing gives the group admins their rights back later.
	g.Consistently(func() bool {
		return apierrors.IsNotFound(env.Client.Get(ctx(), adminKey, &rbacv1.RoleBinding{}))
	}, "1s", interval).Should(BeTrue())
}

// TestDefaultGroupsLeaveRoomForTheManifests: the groups applied with a
// Space are created by whoever applies them, without AlreadyExists, the
// first time and after the Space is deleted and created again; Governor
// adds only the default groups the manifests left out, under its own field
// manager.
func TestDefaultGroupsLeaveRoomForTheManifests(t *testing.T) {
	g := NewWithT(t)
	const name = "reapplied"
	declared := func() []client.Object {
		return []client.Object{
			&governorv1alpha1.PermissionGroup{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "viewer"},
				Spec: governorv1alpha1.PermissionGroupSpec{Builtin: governorv1alpha1.BuiltinViewer, Members: []governorv1alpha1.Member{{Email: "bob@example.com"}}}},
			&governorv1alpha1.PermissionGroup{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "admin"},
				Spec: governorv1alpha1.PermissionGroupSpec{Builtin: governorv1alpha1.BuiltinAdmin, Members: []governorv1alpha1.Member{{Email: "alice@example.com"}}}},
		}
	}
	apply := func() {
		t.Helper()
		space := newSpace(name)
		create(t, space)
		// As `kubectl apply -f dir/` does: the Space first, its groups as
		// soon as the Space's namespace takes them.
		g.Eventually(func() error { return env.Client.Get(ctx(), client.ObjectKey{Name: name}, &corev1.Namespace{}) }, timeout, interval).Should(Succeed())
		time.Sleep(500 * time.Millisecond)
		for _, o := range declared() {
			g.Expect(env.Client.Create(ctx(), o)).To(Succeed(), "creating %s", o.GetName())
		}
		eventuallyReady(t, space)
		g.Expect(groupNames(t, name)).To(Equal(map[string]governorv1alpha1.BuiltinRole{
			"all-users": "AllUsers", "viewer": "Viewer", "editor": "Editor", "admin": "Admin",
		}))
		viewer := &governorv1alpha1.PermissionGroup{}
		g.Expect(env.Client.Get(ctx(), client.ObjectKey{Namespace: name, Name: "viewer"}, viewer)).To(Succeed())
		g.Expect(viewer.Spec.Members).To(HaveLen(1), "the declared group is the user's")
		editor := &governorv1alpha1.PermissionGroup{}
		g.Expect(env.Client.Get(ctx(), client.ObjectKey{Namespace: name, Name: "editor"}, editor)).To(Succeed())
		g.Expect(editor.OwnerReferences).To(BeEmpty())
		var managers []string
		for _, m := range editor.ManagedFields {
			managers = append(managers, m.Manager)
		}
		g.Expect(managers).To(ContainElement("governor-space"), "created under the Space's field manager")
	}
	apply()
	space := newSpace(name)
	g.Expect(env.Client.Delete(ctx(), space)).To(Succeed())
	g.Eventually(func() bool {
		return apierrors.IsNotFound(env.Client.Get(ctx(), client.ObjectKey{Name: name}, &corev1.Namespace{}))
	}, 3*timeout, interval).Should(BeTrue())
	g.Eventually(func() bool {
		return apierrors.IsNotFound(env.Client.Get(ctx(), client.ObjectKey{Name: name}, space))
	}, timeout, interval).Should(BeTrue())
	apply()
}
