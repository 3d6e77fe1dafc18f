package controller_test

import (
	"testing"

	. "github.com/onsi/gomega"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/controller"
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

// TestGroupAdminsGetNoRightsWithoutTheirPolicy: group admins are bound only
// while the admission policy that limits them to spec.members is installed
// as shipped; without it (or with a binding that only audits) they get no
// Role at all and the group says why.
func TestGroupAdminsGetNoRightsWithoutTheirPolicy(t *testing.T) {
	g := NewWithT(t)
	const ns = "group-admins-policy"
	create(t, newSpace(ns))
	group := &governorv1alpha1.PermissionGroup{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ops"},
		Spec:       governorv1alpha1.PermissionGroupSpec{Members: []governorv1alpha1.Member{{Email: "olga@example.com", GroupAdmin: true}}},
	}
	create(t, group)
	key := client.ObjectKey{Namespace: ns, Name: "governor-group-admins-ops"}
	bound := func(status metav1.ConditionStatus, reason string) {
		t.Helper()
		g.Eventually(func(g Gomega) {
			c := condition(g, group, governorv1alpha1.ConditionGroupAdminsBound)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(status), c.Message)
			g.Expect(c.Reason).To(Equal(reason))
			err := env.Client.Get(ctx(), key, &rbacv1.RoleBinding{})
			if status == metav1.ConditionTrue {
				g.Expect(err).NotTo(HaveOccurred())
			} else {
				g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the RoleBinding stays: %v", err)
				g.Expect(apierrors.IsNotFound(env.Client.Get(ctx(), key, &rbacv1.Role{}))).To(BeTrue(), "the Role stays")
			}
		}, timeout, interval).Should(Succeed())
	}
	bound(metav1.ConditionTrue, controller.ReasonGroupAdminsBound)

	shipped := &admissionv1.ValidatingAdmissionPolicyBinding{}
	g.Expect(env.Client.Get(ctx(), client.ObjectKey{Name: controller.GroupAdminPolicy}, shipped)).To(Succeed())
	restore := func() {
		b := &admissionv1.ValidatingAdmissionPolicyBinding{ObjectMeta: metav1.ObjectMeta{Name: shipped.Name}, Spec: shipped.Spec}
		_ = env.Client.Delete(ctx(), b)
		g.Eventually(func() error { return env.Client.Create(ctx(), b) }, timeout, interval).Should(Succeed())
	}
	t.Cleanup(func() {
		if err := env.Client.Get(ctx(), client.ObjectKey{Name: controller.GroupAdminPolicy}, &admissionv1.ValidatingAdmissionPolicyBinding{}); err != nil {
			restore()
		}
	})

	// The binding goes: the admins lose their Role.
	g.Expect(env.Client.Delete(ctx(), shipped)).To(Succeed())
	bound(metav1.ConditionFalse, controller.ReasonAdmissionPolicyMissing)
	g.Expect(condition(g, group, governorv1alpha1.ConditionGroupAdminsBound).Message).To(ContainSubstring("not installed"))

	// A binding that only audits does not hold them back either.
	audit := &admissionv1.ValidatingAdmissionPolicyBinding{ObjectMeta: metav1.ObjectMeta{Name: controller.GroupAdminPolicy},
		Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: controller.GroupAdminPolicy, ValidationActions: []admissionv1.ValidationAction{admissionv1.Audit}}}
	g.Eventually(func() error { return env.Client.Create(ctx(), audit) }, timeout, interval).Should(Succeed())
	bound(metav1.ConditionFalse, controller.ReasonAdmissionPolicyMismatch)
	g.Expect(condition(g, group, governorv1alpha1.ConditionGroupAdminsBound).Message).To(ContainSubstring("Deny"))

	// As shipped again: bound again.
	restore()
	bound(metav1.ConditionTrue, controller.ReasonGroupAdminsBound)
}
