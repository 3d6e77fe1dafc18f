package platform_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/controller"
	"github.com/governor-dev/governor/internal/operator"
	"github.com/governor-dev/governor/internal/platform"
	"github.com/governor-dev/governor/internal/platform/emulator"
	"github.com/governor-dev/governor/internal/platform/retool"
	"github.com/governor-dev/governor/internal/testenv"
)

const governorNamespace = "governor-system"

// The control plane is started by the first test that needs it, so that
// the package's pure tests run without one.
var (
	envOnce sync.Once
	env     *testenv.Env
	envErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if env != nil {
		_ = env.Stop()
	}
	os.Exit(code)
}

func controlPlane(t *testing.T) *testenv.Env {
	t.Helper()
	envOnce.Do(func() {
		env, envErr = testenv.Start(testenv.Options{})
		if envErr == nil {
			envErr = env.Client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: governorNamespace}})
		}
	})
	if envErr != nil {
		t.Fatalf("control plane: %v", envErr)
	}
	return env
}

// startOperator runs the operator until the returned stop is called
// (stopping it as a SIGTERM would: the manager's context is cancelled).
func startOperator(t *testing.T, e *testenv.Env, rpm int) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- operator.Run(ctx, e.Config, operator.Options{MetricsAddr: "0", ProbeAddr: "0", SkipNameValidation: true,
			Platform: controller.PlatformOptions{Namespace: governorNamespace, RequestsPerMinute: rpm, Resync: 2 * time.Second, PassTimeout: time.Minute}},
			controller.NewModels())
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("operator: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func customGroups(t *testing.T, c *retool.Client) []retool.Group {
	t.Helper()
	groups, err := c.ListGroups(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []retool.Group
	for _, g := range groups {
		if !platform.IsBuiltinGroupName(g.Name) {
			out = append(out, g)
		}
	}
	return out
}

// TestKilledInTheMiddle stops the operator in the middle of a Space's first
// sync, starts it again, and deletes the Space's groups and rules: the
// instance then holds no group Governor created (Additive), because what
// it created was recorded as each write succeeded and flushed when the
// operator stopped.
func TestKilledInTheMiddle(t *testing.T) {
	e := controlPlane(t)
	g := NewWithT(t)
	ctx := context.Background()
	const groups = 40

	srv := emulator.New(emulator.Options{Domain: "hub.kill.test", RequestsPerMinute: -1}) // the operator keeps the budget under test
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	admin, err := retool.New(retool.Options{URL: ts.URL, Domain: "hub.kill.test", Token: srv.Space("").Token(), RequestsPerMinute: -1})
	g.Expect(err).NotTo(HaveOccurred())
	_, err = admin.CreateSpace(ctx, retool.SpaceCreate{Name: "kill", Domain: "kill.kill.test"})
	g.Expect(err).NotTo(HaveOccurred())
	sp := srv.Space("kill.kill.test")
	for i := range groups {
		sp.AddUser(fmt.Sprintf("user%02d@example.com", i))
		_, err := sp.AddApp(fmt.Sprintf("app-%02d", i), "")
		g.Expect(err).NotTo(HaveOccurred())
	}
	// Someone else's group, which Governor must leave alone.
	instance, err := retool.New(retool.Options{URL: ts.URL, Domain: "kill.kill.test", Token: sp.Token(), RequestsPerMinute: -1})
	g.Expect(err).NotTo(HaveOccurred())
	_, err = instance.CreateGroup(ctx, retool.GroupCreate{Name: "theirs"})
	g.Expect(err).NotTo(HaveOccurred())

	g.Expect(e.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "kill-token", Namespace: governorNamespace},
		StringData: map[string]string{"token": sp.Token() + "\n"}})).To(Succeed(), "a trailing newline is fine")

	// 40 groups with a member, each granted an app and a folder: about 160
	// writes at 600 a minute, some 16 seconds of first sync.
	stop := startOperator(t, e, 600)
	space := &governorv1alpha1.Space{ObjectMeta: metav1.ObjectMeta{Name: "plat-kill"}, Spec: governorv1alpha1.SpaceSpec{
		DefaultGroups: new(bool),
		Environments: []governorv1alpha1.Environment{{Name: "development", Instance: &governorv1alpha1.Instance{
			URL: ts.URL, Domain: "kill.kill.test", TokenSecretRef: governorv1alpha1.SecretKeyReference{Name: "kill-token", Key: "token"}}}},
	}}
	g.Expect(e.Client.Create(ctx, space)).To(Succeed())
	g.Eventually(func() error { return e.Client.Get(ctx, client.ObjectKey{Name: "plat-kill"}, &corev1.Namespace{}) }, 30*time.Second, 50*time.Millisecond).Should(Succeed())
	for i := range groups {
		name := fmt.Sprintf("g%02d", i)
		g.Expect(e.Client.Create(ctx, &governorv1alpha1.PermissionGroup{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "plat-kill"},
			Spec: governorv1alpha1.PermissionGroupSpec{Members: []governorv1alpha1.Member{{Email: fmt.Sprintf("user%02d@example.com", i)}}}})).To(Succeed())
		g.Expect(e.Client.Create(ctx, &governorv1alpha1.AccessRule{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "plat-kill"},
			Spec: governorv1alpha1.AccessRuleSpec{Group: name, Level: "Use", Targets: []governorv1alpha1.Target{
				{Kind: governorv1alpha1.TargetApp, Name: fmt.Sprintf("app-%02d", i)},
				{Kind: governorv1alpha1.TargetFolder, FolderType: "App", Name: "teams/" + name},
			}}})).To(Succeed())
	}

	// Stopped in the middle of the first sync.
	g.Eventually(func() int { return len(customGroups(t, instance)) }, time.Minute, 20*time.Millisecond).Should(BeNumerically(">=", 6))
	stop()
	made := len(customGroups(t, instance)) - 1
	t.Logf("stopped with %d of %d groups created", made, groups)
	g.Expect(made).To(BeNumerically("<", groups), "the sync was stopped before its end")

	// Started again: the sync completes from what the instance holds.
	startOperator(t, e, -1)
	g.Eventually(func(g Gomega) {
		s := &governorv1alpha1.Space{}
		g.Expect(e.Client.Get(ctx, client.ObjectKey{Name: "plat-kill"}, s)).To(Succeed())
		c := meta.FindStatusCondition(s.Status.Conditions, governorv1alpha1.ConditionPlatformSynced)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue), "%s: %s", c.Reason, c.Message)
	}, time.Minute, 50*time.Millisecond).Should(Succeed())
	g.Expect(customGroups(t, instance)).To(HaveLen(groups + 1))

	// Every group and rule deleted: what Governor created goes, theirs stays.
	g.Expect(e.Client.DeleteAllOf(ctx, &governorv1alpha1.AccessRule{}, client.InNamespace("plat-kill"))).To(Succeed())
	g.Expect(e.Client.DeleteAllOf(ctx, &governorv1alpha1.PermissionGroup{}, client.InNamespace("plat-kill"))).To(Succeed())
	g.Eventually(func() []string {
		var names []string
		for _, gr := range customGroups(t, instance) {
			names = append(names, gr.Name)
		}
		return names
	}, time.Minute, 50*time.Millisecond).Should(ConsistOf("theirs"), "the instance holds nothing Governor created")
}
