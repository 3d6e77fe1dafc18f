package controller_test

import (
	"testing"

	. "github.com/onsi/gomega"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
)

// as returns a client that authenticates as user (impersonation), so that
// RBAC and admission judge that user.
func as(t *testing.T, user string) client.Client {
	t.Helper()
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestGroupAdminsChangeTheirGroupsMembersAndNothingElse(t *testing.T) {
	g := NewWithT(t)
	const ns = "group-admins"
	space := newSpace(ns, func(s *governorv1alpha1.Space) {
		s.Spec.Admins = []governorv1alpha1.Subject{{Kind: "User", Name: "alice@example.com"}}
	})
	create(t, space)
	eventuallyReady(t, space)
	finance := &governorv1alpha1.PermissionGroup{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "finance"},
		Spec: governorv1alpha1.PermissionGroupSpec{Members: []governorv1alpha1.Member{
			{Email: "carol@example.com", GroupAdmin: true}, {Email: "dave@example.com"},
		}},
	}
	create(t, finance)

	// The operator binds carol to a Role limited to finance.
	binding := &rbacv1.RoleBinding{}
	g.Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx(), client.ObjectKey{Namespace: ns, Name: "governor-group-admins-finance"}, binding)).To(Succeed())
	}, timeout, interval).Should(Succeed())
	g.Expect(binding.Subjects).To(ConsistOf(rbacv1.Subject{Kind: "User", APIGroup: rbacv1.GroupName, Name: "carol@example.com"}))
	role := &rbacv1.Role{}
	g.Expect(env.Client.Get(ctx(), client.ObjectKey{Namespace: ns, Name: "governor-group-admins-finance"}, role)).To(Succeed())
	g.Expect(role.Rules).To(HaveLen(1))
	g.Expect(role.Rules[0].ResourceNames).To(Equal([]string{"finance"}))
	g.Expect(metav1.IsControlledBy(role, finance)).To(BeTrue())

	carol := as(t, "carol@example.com")
	// Members: allowed (the Role may take a moment to reach the authorizer's cache).
	g.Eventually(func() error {
		return updateGroup(carol, finance, func(f *governorv1alpha1.PermissionGroup) {
			f.Spec.Members = append(f.Spec.Members, governorv1alpha1.Member{Email: "newbie@example.com"})
		})
	}, timeout, interval).Should(Succeed())

	// Anything else: refused by the admission policy, naming what is allowed.
	err := updateGroup(carol, finance, func(f *governorv1alpha1.PermissionGroup) {
		f.Spec.Universal = &governorv1alpha1.UniversalAccess{Apps: "Own"}
	})
	g.Expect(apierrors.IsForbidden(err) || apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
	g.Expect(err.Error()).To(ContainSubstring("may change spec.members of PermissionGroup finance and nothing else"))
	err = updateGroup(carol, finance, func(f *governorv1alpha1.PermissionGroup) { f.Labels = map[string]string{"sneaky": "yes"} })
	g.Expect(apierrors.IsForbidden(err) || apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
	f := &governorv1alpha1.PermissionGroup{}

	// Another group: RBAC says no.
	other := &governorv1alpha1.PermissionGroup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "payroll"},
		Spec: governorv1alpha1.PermissionGroupSpec{Members: []governorv1alpha1.Member{{Email: "erin@example.com"}}}}
	create(t, other)
	err = carol.Get(ctx(), client.ObjectKeyFromObject(other), &governorv1alpha1.PermissionGroup{})
	g.Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)

	// The Space admin keeps full rights.
	alice := as(t, "alice@example.com")
	g.Eventually(func() error {
		return updateGroup(alice, finance, func(f *governorv1alpha1.PermissionGroup) {
			f.Spec.Universal = &governorv1alpha1.UniversalAccess{Apps: "Use"}
		})
	}, timeout, interval).Should(Succeed())

	// No group admins left: the Role and binding go.
	g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(finance), f)).To(Succeed())
	patch := client.MergeFrom(f.DeepCopy())
	for i := range f.Spec.Members {
		f.Spec.Members[i].GroupAdmin = false
	}
	g.Expect(env.Client.Patch(ctx(), f, patch)).To(Succeed())
	g.Eventually(func() bool {
		err := env.Client.Get(ctx(), client.ObjectKey{Namespace: ns, Name: "governor-group-admins-finance"}, &rbacv1.Role{})
		return apierrors.IsNotFound(err)
	}, timeout, interval).Should(BeTrue())
}

// updateGroup reads the group as c and updates it with mutate, retrying when
// the operator's status writes change the resourceVersion in between.
func updateGroup(c client.Client, group *governorv1alpha1.PermissionGroup, mutate func(*governorv1alpha1.PermissionGroup)) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		f := &governorv1alpha1.PermissionGroup{}
		if err := c.Get(ctx(), client.ObjectKeyFromObject(group), f); err != nil {
			return err
		}
		mutate(f)
		return c.Update(ctx(), f)
	})
}
