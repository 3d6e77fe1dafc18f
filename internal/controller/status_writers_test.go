package controller_test

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
)

// statusWrites watches the objects of list's kind in ns and counts, per
// name, the updates that changed only status (metadata.generation unchanged).
type statusWrites struct {
	w      watch.Interface
	counts map[string]int
	last   map[string]client.Object
}

func watchStatusWrites(t *testing.T, list client.ObjectList, ns string) *statusWrites {
	t.Helper()
	wc, err := client.NewWithWatch(env.Config, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	w, err := wc.Watch(ctx(), list, client.InNamespace(ns))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return &statusWrites{w: w, counts: map[string]int{}, last: map[string]client.Object{}}
}

// drain counts the events that arrive within d.
func (s *statusWrites) drain(d time.Duration) {
	deadline := time.After(d)
	for {
		select {
		case e := <-s.w.ResultChan():
			obj, ok := e.Object.(client.Object)
			if !ok {
				continue
			}
			if prev := s.last[obj.GetName()]; e.Type == watch.Modified && prev != nil && prev.GetGeneration() == obj.GetGeneration() {
				s.counts[obj.GetName()]++
			}
			s.last[obj.GetName()] = obj
		case <-deadline:
			return
		}
	}
}

// TestEachChangeIsOneStatusWrite: a group with group admins, and a rule, are
// written once when they come in and once per change after; the group's
// GroupAdminsBound comes with the rest of its status, not in a write of its
// own; at rest nothing is written.
func TestEachChangeIsOneStatusWrite(t *testing.T) {
	g := NewWithT(t)
	const ns = "one-write"
	space := newSpace(ns, func(s *governorv1alpha1.Space) { s.Spec.DefaultGroups = ptr.To(false) })
	create(t, space)
	eventuallyReady(t, space)

	groups := watchStatusWrites(t, &governorv1alpha1.PermissionGroupList{}, ns)
	rules := watchStatusWrites(t, &governorv1alpha1.AccessRuleList{}, ns)
	team := &governorv1alpha1.PermissionGroup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "team"},
		Spec: governorv1alpha1.PermissionGroupSpec{Members: []governorv1alpha1.Member{{Email: "carol@example.com", GroupAdmin: true}}}}
	rule := &governorv1alpha1.AccessRule{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tools"},
		Spec: governorv1alpha1.AccessRuleSpec{Group: "team", Level: governorv1alpha1.LevelUse,
			Targets: []governorv1alpha1.Target{{Kind: governorv1alpha1.TargetApp, Name: "tools"}}}}
	create(t, team, rule)
	eventuallyReady(t, team)
	eventuallyReady(t, rule)
	g.Expect(condition(g, team, governorv1alpha1.ConditionGroupAdminsBound).Status).To(Equal(metav1.ConditionTrue))
	g.Expect(team.Status.Space).To(Equal(ns))
	g.Expect(team.Status.MemberCount).To(BeEquivalentTo(1))

	groups.drain(2 * time.Second)
	rules.drain(200 * time.Millisecond)
	g.Expect(groups.counts).To(Equal(map[string]int{"team": 1}), "one status write for the new group, GroupAdminsBound included")
	g.Expect(rules.counts).To(Equal(map[string]int{"tools": 1}))

	// A change: one write, with GroupAdminsBound at the new generation.
	g.Expect(updateGroup(env.Client, team, func(p *governorv1alpha1.PermissionGroup) {
		p.Spec.Members = append(p.Spec.Members, governorv1alpha1.Member{Email: "dave@example.com", GroupAdmin: true})
	})).To(Succeed())
	g.Eventually(func(g Gomega) {
		c := condition(g, team, governorv1alpha1.ConditionGroupAdminsBound)
		g.Expect(c.ObservedGeneration).To(Equal(team.Generation))
		g.Expect(c.Message).To(ContainSubstring("2 group admin(s)"))
		g.Expect(team.Status.MemberCount).To(BeEquivalentTo(2))
	}, timeout, interval).Should(Succeed())
	groups.drain(2 * time.Second)
	g.Expect(groups.counts).To(Equal(map[string]int{"team": 2}), "one status write for the change")

	// Each status has one field manager per writer: nobody updates it.
	for _, obj := range []client.Object{team, rule} {
		g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(obj), obj)).To(Succeed())
		g.Expect(statusManagers(obj)).To(Equal([]string{"governor-model/Apply"}), "%s", obj.GetName())
	}
	g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(space), space)).To(Succeed())
	g.Expect(statusManagers(space)).To(Equal([]string{"governor-space/Apply"}))
}

// statusManagers lists the field managers of obj's status as manager/operation.
func statusManagers(obj client.Object) []string {
	var out []string
	for _, m := range obj.GetManagedFields() {
		if m.Subresource == "status" {
			out = append(out, m.Manager+"/"+string(m.Operation))
		}
	}
	return out
}
