package controller_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
)

// TestBulkLoadReportsEachObjectOnce: hundreds of groups and rules created
// at once (rules before some of their groups) all end Ready, each with one
// status write, and the groups with group admins get their Role and
// RoleBinding, although both waited for the load's end (bulk.go).
func TestBulkLoadReportsEachObjectOnce(t *testing.T) {
	g := NewWithT(t)
	const ns, n = "bulk", 200
	space := newSpace(ns, func(s *governorv1alpha1.Space) { s.Spec.DefaultGroups = ptr.To(false) })
	create(t, space)
	eventuallyReady(t, space)
	groupWrites := watchStatusWrites(t, &governorv1alpha1.PermissionGroupList{}, ns)
	ruleWrites := watchStatusWrites(t, &governorv1alpha1.AccessRuleList{}, ns)

	var objs []client.Object
	for i := range n {
		group := &governorv1alpha1.PermissionGroup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("team-%03d", i)},
			Spec: governorv1alpha1.PermissionGroupSpec{Members: []governorv1alpha1.Member{{Email: fmt.Sprintf("user%d@example.com", i), GroupAdmin: i%4 == 0}}}}
		rule := &governorv1alpha1.AccessRule{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("tools-%03d", i)},
			Spec: governorv1alpha1.AccessRuleSpec{Group: group.Name, Level: governorv1alpha1.LevelUse,
				Targets: []governorv1alpha1.Target{{Kind: governorv1alpha1.TargetApp, Name: fmt.Sprintf("tool-%d", i)}}}}
		objs = append(objs, rule, group) // each rule first: its group arrives after it
	}
	createConcurrently(t, objs, 8)

	g.Eventually(func(g Gomega) {
		var groups governorv1alpha1.PermissionGroupList
		g.Expect(env.Client.List(ctx(), &groups, client.InNamespace(ns))).To(Succeed())
		var rules governorv1alpha1.AccessRuleList
		g.Expect(env.Client.List(ctx(), &rules, client.InNamespace(ns))).To(Succeed())
		g.Expect(readyCount(groups.Items)).To(Equal(n))
		g.Expect(readyCount(rules.Items)).To(Equal(n))
	}, time.Minute, interval).Should(Succeed())

	groupWrites.drain(2 * time.Second)
	ruleWrites.drain(200 * time.Millisecond)
	for _, w := range []*statusWrites{groupWrites, ruleWrites} {
		g.Expect(w.counts).To(HaveLen(n))
		for name, count := range w.counts {
			g.Expect(count).To(Equal(1), "%s: one status write, with its final standing", name)
		}
	}
	for i := 0; i < n; i += 4 {
		name := fmt.Sprintf("governor-group-admins-team-%03d", i)
		g.Expect(env.Client.Get(ctx(), types.NamespacedName{Namespace: ns, Name: name}, &rbacv1.RoleBinding{})).To(Succeed(), name)
		group := &governorv1alpha1.PermissionGroup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("team-%03d", i)}}
		g.Expect(condition(g, group, governorv1alpha1.ConditionGroupAdminsBound).Status).To(Equal(metav1.ConditionTrue))
	}
}

// createConcurrently creates objs, in order, with a few workers.
func createConcurrently(t *testing.T, objs []client.Object, workers int) {
	t.Helper()
	next := make(chan client.Object)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range next {
				if err := env.Client.Create(ctx(), o); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("%s: %w", o.GetName(), err))
					mu.Unlock()
				}
			}
		}()
	}
	for _, o := range objs {
		next <- o
	}
	close(next)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatal(errs[0])
	}
}

// readyCount counts the objects whose status reports Ready at their generation.
func readyCount[T any, P interface {
	*T
	governorv1alpha1.Conditioned
	GetGeneration() int64
}](items []T) int {
	n := 0
	for i := range items {
		o := P(&items[i])
		c := meta.FindStatusCondition(o.GetConditions(), governorv1alpha1.ConditionReady)
		if c != nil && c.Status == metav1.ConditionTrue && o.GetObservedGeneration() == o.GetGeneration() {
			n++
		}
	}
	return n
}
