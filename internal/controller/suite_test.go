package controller_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/controller"
	"github.com/governor-dev/governor/internal/operator"
	"github.com/governor-dev/governor/internal/testenv"
)

var (
	env    *testenv.Env
	models *controller.Models
)

// TestMain runs the real API server, kube-controller-manager (so namespaces
// finish deleting) and the operator, once for the package.
func TestMain(m *testing.M) {
	os.Exit(testenv.Run(m, &env, testenv.Options{ControllerManager: true}, func(e *testenv.Env) func() {
		// The operator's logs are kept quiet; GOVERNOR_TEST_VERBOSE=1 shows them.
		level := zapcore.ErrorLevel
		if os.Getenv("GOVERNOR_TEST_VERBOSE") != "" {
			level = zapcore.DebugLevel
		}
		ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(os.Stderr), zap.Level(level)))
		ctx, cancel := context.WithCancel(context.Background())
		models = controller.NewModels()
		models.Clock = testClock // expiry_test.go moves it
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: governorNamespace}}
		if err := e.Client.Create(ctx, ns); err != nil {
			panic(err)
		}
		done := make(chan error, 1)
		go func() {
			done <- operator.Run(ctx, e.Config, operator.Options{MetricsAddr: "0", ProbeAddr: "0", Platform: platformOptions, Tenancy: tenancyOptions}, models)
		}()
		return func() {
			cancel()
			if err := <-done; err != nil {
				fmt.Fprintln(os.Stderr, "operator:", err)
			}
		}
	}))
}

// governorNamespace is the operator's own namespace: instance token Secrets.
const governorNamespace = "governor-system"

// platformOptions: a budget the tests can measure against, resyncs short
// enough to watch drift being found, deletions that give up quickly.
var platformOptions = controller.PlatformOptions{
	Namespace: governorNamespace, RequestsPerMinute: platformBudget, Resync: 2 * time.Second,
	PassTimeout: 90 * time.Second, DeletionAttempts: 2, TokenGrace: 5 * time.Second,
}

const platformBudget = 900

// tenancyOptions: a namespace protected by the flag, and a member limit a
// test can reach (the other limits keep their defaults).
var tenancyOptions = controller.TenancyOptions{
	ProtectedNamespaces: []string{"protected-by-flag"},
	Limits:              controller.Limits{Members: memberLimit},
}

const memberLimit = 300

const (
	timeout  = 20 * time.Second
	interval = 50 * time.Millisecond
)

func ctx() context.Context { return context.Background() }

// condition fetches obj and returns its condition of condType (nil when absent).
func condition(g Gomega, obj client.Object, condType string) *metav1.Condition {
	g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(obj), obj)).To(Succeed())
	o := obj.(governorv1alpha1.Conditioned)
	conds, observed := o.GetConditions(), o.GetObservedGeneration()
	c := meta.FindStatusCondition(conds, condType)
	if c != nil && condType == governorv1alpha1.ConditionReady {
		g.Expect(c.ObservedGeneration).To(Equal(obj.GetGeneration()), "Ready describes an older generation")
		if c.Status == metav1.ConditionTrue {
			g.Expect(observed).To(Equal(obj.GetGeneration()), "status.observedGeneration lags a Ready object")
		}
	}
	return c
}

// eventuallyReady waits until obj is Ready=True at its current generation.
func eventuallyReady(t *testing.T, obj client.Object) {
	t.Helper()
	NewWithT(t).Eventually(func(g Gomega) {
		c := condition(g, obj, governorv1alpha1.ConditionReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue), "%s: %s", c.Reason, c.Message)
	}, timeout, interval).Should(Succeed())
}

// eventuallyStalled waits until obj is Ready=False and Stalled=True with reason,
// and returns the Stalled message.
// eventuallyReconciling waits for obj to be Reconciling for reason, and not
// Stalled.
func eventuallyReconciling(t *testing.T, obj client.Object, reason string) {
	t.Helper()
	NewWithT(t).Eventually(func(g Gomega) {
		r := condition(g, obj, governorv1alpha1.ConditionReconciling)
		g.Expect(r).NotTo(BeNil())
		g.Expect(r.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(r.Reason).To(Equal(reason), r.Message)
		s := condition(g, obj, governorv1alpha1.ConditionStalled)
		g.Expect(s == nil || s.Status != metav1.ConditionTrue).To(BeTrue(), "Stalled")
	}, timeout, interval).Should(Succeed())
}

func eventuallyStalled(t *testing.T, obj client.Object, reason string) string {
	t.Helper()
	var msg string
	NewWithT(t).Eventually(func(g Gomega) {
		r := condition(g, obj, governorv1alpha1.ConditionReady)
		g.Expect(r).NotTo(BeNil())
		g.Expect(r.Status).To(Equal(metav1.ConditionFalse))
		s := condition(g, obj, governorv1alpha1.ConditionStalled)
		g.Expect(s).NotTo(BeNil())
		g.Expect(s.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(s.Reason).To(Equal(reason), s.Message)
		msg = s.Message
	}, timeout, interval).Should(Succeed())
	return msg
}

type controllerModel = controller.Model

// getModel is the live model this replica compiled for a Space.
func getModel(space string) *controllerModel { return models.Get(space) }
