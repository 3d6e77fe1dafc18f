package controller_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"
	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/authentication/user"
	"sigs.k8s.io/controller-runtime/pkg/client"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/cli"
	"github.com/governor-dev/governor/internal/decisionapi"
	"github.com/governor-dev/governor/internal/spacemodel"
)

// namespaceOwned waits for the Space's NamespaceOwned condition to have status.
func namespaceOwned(t *testing.T, space *governorv1alpha1.Space, status metav1.ConditionStatus) *metav1.Condition {
	t.Helper()
	var c *metav1.Condition
	NewWithT(t).Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(space), space)).To(Succeed())
		c = meta.FindStatusCondition(space.Status.Conditions, governorv1alpha1.ConditionNamespaceOwned)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(status), "%s: %s", c.Reason, c.Message)
	}, timeout, interval).Should(Succeed())
	return c
}

// noModel asserts, for a while, that this replica holds no model for the Space.
func noModel(t *testing.T, space string) {
	t.Helper()
	NewWithT(t).Consistently(func() *controllerModel { return getModel(space) }, "1s", interval).Should(BeNil(), "Space %s must have no access model", space)
}

// Attack 1: a Space's namespace cannot be set (or unset) after creation.
func TestSpaceNamespaceIsImmutableFromCreation(t *testing.T) {
	g := NewWithT(t)
	teamA := newSpace("team-imm", func(s *governorv1alpha1.Space) {
		s.Spec.Admins = []governorv1alpha1.Subject{{Kind: "User", Name: "alice@example.com"}}
	})
	create(t, teamA)
	eventuallyReady(t, teamA)

	// kubectl patch space team-a --type=merge -p '{"spec":{"namespace":"payments"}}'
	err := env.Client.Patch(ctx(), teamA, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"namespace":"payments-imm"}}`)))
	g.Expect(apierrors.IsInvalid(err)).To(BeTrue(), "setting spec.namespace after creation must be refused: %v", err)
	g.Expect(err.Error()).To(ContainSubstring("namespace is immutable"))

	moved := newSpace("moved-imm", func(s *governorv1alpha1.Space) { s.Spec.Namespace = "moved-imm-ns" })
	create(t, moved)
	err = env.Client.Patch(ctx(), moved, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"namespace":null}}`)))
	g.Expect(apierrors.IsInvalid(err)).To(BeTrue(), "unsetting spec.namespace must be refused: %v", err)
	err = env.Client.Patch(ctx(), moved, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"namespace":"elsewhere"}}`)))
	g.Expect(apierrors.IsInvalid(err)).To(BeTrue(), "changing spec.namespace must be refused: %v", err)
}

// allowAll lets every caller use the decision API: the test is about what
// the models answer, not who may ask.
type allowAll struct{}

func (allowAll) Authenticate(*http.Request) (user.Info, bool, error) {
	return &user.DefaultInfo{Name: "test"}, true, nil
}

func (allowAll) Allowed(context.Context, user.Info, string, string, string) (bool, string, error) {
	return true, "", nil
}

// runCLI runs the governor CLI in-process against the test cluster and
// returns its output (stdout, then the error message) and exit code.
func runCLI(t *testing.T, args ...string) (string, int) {
	t.Helper()
	kubeconfig, err := env.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kc, kubeconfig, 0o600); err != nil {
		t.Fatal(err)
	}
	root := &cobra.Command{Use: "governor", SilenceUsage: true, SilenceErrors: true}
	root.AddCommand(cli.NewCommands()...)
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append(args, "--kubeconfig", kc))
	err = root.Execute()
	var ec interface{ ExitCode() int }
	switch {
	case errors.As(err, &ec):
		return out.String() + err.Error(), ec.ExitCode()
	case err != nil:
		t.Fatalf("governor %v: %v", args, err)
	}
	return out.String(), 0
}

// Attack 2: a Space refused for a namespace conflict has no model: neither
// the decision API nor the CLI answers from the other Space's groups.
func TestShadowSpaceHasNoModel(t *testing.T) {
	g := NewWithT(t)
	victim := newSpace("victim", func(s *governorv1alpha1.Space) { s.Spec.Namespace = "victim-ns" })
	create(t, victim)
	eventuallyReady(t, victim)
	g.Eventually(func() *controllerModel { return getModel("victim") }, timeout, interval).ShouldNot(BeNil())

	shadow := newSpace("shadow", func(s *governorv1alpha1.Space) {
		s.Spec.Namespace = "victim-ns"
		s.Spec.SSO = &governorv1alpha1.SSO{RoleMappings: []governorv1alpha1.RoleMapping{{IdPGroup: "anyone", Group: "admin"}}}
	})
	create(t, shadow)
	msg := eventuallyStalled(t, shadow, "NamespaceConflict")
	g.Expect(msg).To(ContainSubstring(`Space "victim"`))
	owned := namespaceOwned(t, shadow, metav1.ConditionFalse)
	g.Expect(owned.Reason).To(Equal("NamespaceConflict"))
	g.Expect(shadow.Status.Namespace).To(BeEmpty(), "status.namespace names only a namespace the Space owns")
	noModel(t, "shadow")
	g.Expect(models.Refused("shadow")).NotTo(BeNil())
	g.Expect(models.Refused("shadow").Reason).To(Equal("NamespaceConflict"))

	// The decision API: POST /v1/spaces/shadow/check is not found, with a reason.
	srv, err := decisionapi.NewServer(models, allowAll{}, logr.Discard())
	g.Expect(err).NotTo(HaveOccurred())
	body := `{"user":"x@evil.example","groups":["anyone"],"action":"manage-settings","target":"space"}`
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/spaces/shadow/check", strings.NewReader(body)))
	g.Expect(rec.Code).To(Equal(http.StatusNotFound), rec.Body.String())
	g.Expect(rec.Body.String()).To(ContainSubstring("shadow"))
	g.Expect(rec.Body.String()).To(ContainSubstring("NamespaceConflict"), "the 404 says why the Space has no model")

	// The CLI in cluster mode refuses the Space, saying why.
	out, code := runCLI(t, "can-i", "manage-settings", "space", "--space", "shadow", "--as", "x@evil.example", "--as-group", "anyone")
	g.Expect(code).NotTo(Equal(0), out)
	g.Expect(out).To(ContainSubstring("does not own namespace victim-ns"))
	_, err = spacemodel.Load(ctx(), env.Client, "shadow")
	var notOwned *spacemodel.NotOwnedError
	g.Expect(errors.As(err, &notOwned)).To(BeTrue(), "Load refuses a Space that does not own its namespace: %v", err)

	// The victim still answers, and the shadow's mapping grants nothing there.
	out, code = runCLI(t, "can-i", "manage-settings", "space", "--space", "victim", "--as", "x@evil.example", "--as-group", "anyone")
	g.Expect(code).To(Equal(1), out)
	// The objects of the namespace stay the victim's.
	admin := &governorv1alpha1.PermissionGroup{}
	g.Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx(), client.ObjectKey{Namespace: "victim-ns", Name: "admin"}, admin)).To(Succeed())
		g.Expect(admin.Status.Space).To(Equal("victim"))
	}, timeout, interval).Should(Succeed())
}

// Attack 3: kube-*, default, Governor's own namespace and the flag's are
// never adopted: no label, no RoleBinding, no model.
func TestProtectedNamespacesAreNeverGoverned(t *testing.T) {
	g := NewWithT(t)
	for _, manifest := range []*governorv1alpha1.Space{
		newSpace("sys", func(s *governorv1alpha1.Space) { s.Spec.Namespace = "kube-system" }),
		newSpace("dflt", func(s *governorv1alpha1.Space) { s.Spec.Namespace = "default" }),
		newSpace("kube-public"),
	} {
		err := env.Client.Create(ctx(), manifest)
		g.Expect(apierrors.IsInvalid(err)).To(BeTrue(), "Space %s must be refused: %v", manifest.Name, err)
	}

	create(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "protected-by-flag"}})
	for _, c := range []struct{ space, ns string }{{"own", governorNamespace}, {"flagged", "protected-by-flag"}} {
		space := newSpace(c.space, func(s *governorv1alpha1.Space) {
			s.Spec.Namespace = c.ns
			s.Spec.Admins = []governorv1alpha1.Subject{{Kind: "User", Name: "mallory@example.com"}}
		})
		create(t, space)
		msg := eventuallyStalled(t, space, "NamespaceProtected")
		g.Expect(msg).To(ContainSubstring("spec.namespace"))
		g.Expect(msg).To(ContainSubstring(c.ns))
		namespaceOwned(t, space, metav1.ConditionFalse)
		noModel(t, c.space)
		ns := &corev1.Namespace{}
		g.Expect(env.Client.Get(ctx(), client.ObjectKey{Name: c.ns}, ns)).To(Succeed())
		g.Expect(ns.Labels).NotTo(HaveKey(governorv1alpha1.LabelSpace))
		err := env.Client.Get(ctx(), client.ObjectKey{Namespace: c.ns, Name: "governor-space-admins"}, &rbacv1.RoleBinding{})
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "no RoleBinding in a protected namespace: %v", err)
		g.Expect(groupNames(t, c.ns)).To(BeEmpty(), "no default groups in a protected namespace")
	}
}

// Adopting a namespace that already holds governor objects needs the
// Space's consent; objects older than the Space are not trusted without it.
func TestAdoptingExistingObjectsNeedsConsent(t *testing.T) {
	g := NewWithT(t)
	create(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "preexisting"}})
	squatter := &governorv1alpha1.PermissionGroup{
		ObjectMeta: metav1.ObjectMeta{Namespace: "preexisting", Name: "squatters"},
		Spec: governorv1alpha1.PermissionGroupSpec{Builtin: governorv1alpha1.BuiltinAdmin,
			Members: []governorv1alpha1.Member{{Email: "mallory@example.com"}}},
	}
	create(t, squatter)
	time.Sleep(1100 * time.Millisecond) // creation timestamps have one-second resolution

	space := newSpace("adopts-objects", func(s *governorv1alpha1.Space) { s.Spec.Namespace = "preexisting" })
	create(t, space)
	msg := eventuallyStalled(t, space, "ExistingObjects")
	g.Expect(msg).To(ContainSubstring("spec.adoptExistingObjects"))
	g.Expect(msg).To(ContainSubstring("PermissionGroup squatters"))
	namespaceOwned(t, space, metav1.ConditionFalse)
	noModel(t, "adopts-objects")
	ns := &corev1.Namespace{}
	g.Expect(env.Client.Get(ctx(), client.ObjectKey{Name: "preexisting"}, ns)).To(Succeed())
	g.Expect(ns.Labels).NotTo(HaveKey(governorv1alpha1.LabelSpace), "a refused namespace is not labelled")

	// Saying so adopts the namespace and trusts what it holds.
	patch := client.MergeFrom(space.DeepCopy())
	space.Spec.AdoptExistingObjects = true
	g.Expect(env.Client.Patch(ctx(), space, patch)).To(Succeed())
	eventuallyReady(t, space)
	g.Eventually(func(g Gomega) {
		m := getModel("adopts-objects")
		g.Expect(m).NotTo(BeNil())
		d, err := m.Snapshot.Check(accessRequest("mallory@example.com", "manage-settings", "space"))
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(d.Allowed).To(BeTrue(), d.Message)
	}, timeout, interval).Should(Succeed())
}

// A RoleBinding named like Governor's that Governor did not create for the
// Space is never patched or taken over.
func TestAdminBindingIsNeverTakenOver(t *testing.T) {
	g := NewWithT(t)
	create(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "squatted"}})
	foreign := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: "squatted", Name: "governor-space-admins"},
		Subjects:   []rbacv1.Subject{{Kind: "User", Name: "mallory@example.com", APIGroup: rbacv1.GroupName}},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
	}
	create(t, foreign)
	space := newSpace("squatted", func(s *governorv1alpha1.Space) {
		s.Spec.Admins = []governorv1alpha1.Subject{{Kind: "User", Name: "alice@example.com"}}
	})
	create(t, space)
	msg := eventuallyStalled(t, space, "AdminBindingConflict")
	g.Expect(msg).To(ContainSubstring("squatted/governor-space-admins"))
	got := &rbacv1.RoleBinding{}
	g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(foreign), got)).To(Succeed())
	g.Expect(got.Subjects).To(Equal(foreign.Subjects), "the foreign binding is left as it was")
	g.Expect(got.OwnerReferences).To(BeEmpty())
	g.Expect(got.Labels).NotTo(HaveKey(governorv1alpha1.LabelManagedBy))

	// Once it is gone, Governor makes its own (at the next look: the
	// cache does not see bindings Governor did not label).
	g.Expect(env.Client.Delete(ctx(), got)).To(Succeed())
	g.Expect(env.Client.Patch(ctx(), space, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"annotations":{"poke":"1"}}}`)))).To(Succeed())
	eventuallyReady(t, space)
	g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(foreign), got)).To(Succeed())
	g.Expect(got.Subjects).To(ConsistOf(rbacv1.Subject{Kind: "User", Name: "alice@example.com", APIGroup: rbacv1.GroupName}))
}

// A Space over a limit has no model and is Stalled naming the limit; the
// other Spaces are unaffected.
func TestSpaceOverALimitHasNoModel(t *testing.T) {
	g := NewWithT(t)
	small := newSpace("under-limit")
	big := newSpace("over-limit")
	create(t, small, big)
	eventuallyReady(t, small)
	eventuallyReady(t, big)
	members := make([]governorv1alpha1.Member, memberLimit+1)
	for i := range members {
		members[i].Email = fmt.Sprintf("user%d@example.com", i)
	}
	create(t, &governorv1alpha1.PermissionGroup{
		ObjectMeta: metav1.ObjectMeta{Namespace: "over-limit", Name: "crowd"},
		Spec:       governorv1alpha1.PermissionGroupSpec{Members: members},
	})
	msg := eventuallyStalled(t, big, "LimitExceeded")
	g.Expect(msg).To(ContainSubstring("--max-members-per-space"))
	g.Expect(msg).To(ContainSubstring(fmt.Sprint(memberLimit)))
	noModel(t, "over-limit")
	eventuallyReady(t, small)
	g.Expect(getModel("under-limit")).NotTo(BeNil())

	// Under the limit again, it compiles.
	g.Expect(env.Client.Delete(ctx(), &governorv1alpha1.PermissionGroup{ObjectMeta: metav1.ObjectMeta{Namespace: "over-limit", Name: "crowd"}})).To(Succeed())
	eventuallyReady(t, big)
	g.Eventually(func() *controllerModel { return getModel("over-limit") }, timeout, interval).ShouldNot(BeNil())
}

func accessRequest(email, action, target string) access.Request {
	t, err := access.ParseTarget(target)
	if err != nil {
		panic(err)
	}
	return access.Request{User: email, Action: action, Target: t}
}

// Deleting a Space that adopted its namespace and applying it again is not
// an adoption: the groups and rules it governed are trusted, and only what
// was written after its deletion needs consent.
func TestReappliedSpaceTrustsWhatItGoverned(t *testing.T) {
	g := NewWithT(t)
	create(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "readopted"}})
	noDefaults := func(s *governorv1alpha1.Space) { s.Spec.Namespace, s.Spec.DefaultGroups = "readopted", new(bool) }
	space := newSpace("readopted", noDefaults)
	create(t, space)
	eventuallyReady(t, space)
	governed := &governorv1alpha1.PermissionGroup{
		ObjectMeta: metav1.ObjectMeta{Namespace: "readopted", Name: "team"},
		Spec:       governorv1alpha1.PermissionGroupSpec{Members: []governorv1alpha1.Member{{Email: "alice@example.com"}}},
	}
	create(t, governed)
	eventuallyReady(t, governed)
	g.Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(space), space)).To(Succeed())
		g.Expect(space.Status.AccessModel).NotTo(BeNil())
		g.Expect(space.Status.AccessModel.Groups).To(BeEquivalentTo(1))
	}, timeout, interval).Should(Succeed())

	// Deleted: the namespace stays (adopted), marked as released by it.
	g.Expect(env.Client.Delete(ctx(), space)).To(Succeed())
	ns := &corev1.Namespace{}
	g.Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx(), client.ObjectKey{Name: "readopted"}, ns)).To(Succeed())
		g.Expect(ns.Labels).NotTo(HaveKey(governorv1alpha1.LabelSpace))
		g.Expect(ns.Annotations).To(HaveKeyWithValue(governorv1alpha1.AnnotationReleasedBy, "readopted"))
		err := env.Client.Get(ctx(), client.ObjectKeyFromObject(space), &governorv1alpha1.Space{})
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue())
	}, timeout, interval).Should(Succeed())
	time.Sleep(1100 * time.Millisecond) // timestamps have one-second resolution

	// Applied again: it governs the namespace as before.
	again := newSpace("readopted", noDefaults)
	create(t, again)
	eventuallyReady(t, again)
	g.Expect(env.Client.Get(ctx(), client.ObjectKey{Name: "readopted"}, ns)).To(Succeed())
	g.Expect(ns.Annotations).NotTo(HaveKey(governorv1alpha1.AnnotationReleasedBy), "adopted again: the mark is spent")
	g.Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(again), again)).To(Succeed())
		g.Expect(again.Status.Readopted).To(BeTrue())
		g.Expect(again.Status.AccessModel).NotTo(BeNil())
		g.Expect(again.Status.AccessModel.Groups).To(BeEquivalentTo(1), "the governed group is in the model again")
	}, timeout, interval).Should(Succeed())

	// Deleted again, and a group changed while no Space governed the
	// namespace: that change is not trusted without consent.
	g.Expect(env.Client.Delete(ctx(), again)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx(), client.ObjectKey{Name: "readopted"}, ns)).To(Succeed())
		g.Expect(ns.Annotations).To(HaveKeyWithValue(governorv1alpha1.AnnotationReleasedBy, "readopted"))
	}, timeout, interval).Should(Succeed())
	time.Sleep(1100 * time.Millisecond)
	g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(governed), governed)).To(Succeed())
	patch := client.MergeFrom(governed.DeepCopy())
	governed.Spec.Members = append(governed.Spec.Members, governorv1alpha1.Member{Email: "mallory@example.com"})
	g.Expect(env.Client.Patch(ctx(), governed, patch)).To(Succeed())
	third := newSpace("readopted", noDefaults)
	create(t, third)
	t.Cleanup(func() { _ = env.Client.Delete(ctx(), third) })
	msg := eventuallyStalled(t, third, "ExistingObjects")
	g.Expect(msg).To(ContainSubstring("PermissionGroup team"))
	g.Expect(msg).To(ContainSubstring("after Space readopted last governed the namespace"))
}
