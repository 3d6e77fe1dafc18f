package controller

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/platform"
)

// Reasons of ConditionPlatformExpressible.
const (
	ReasonExpressible = "Expressible"
)

// maxExpressibleMessage bounds a PlatformExpressible message; the rest is counted.
const maxExpressibleMessage = 2048

// PlatformExpressibility is what the platform sync found of each AccessRule:
// whether every environment's instance can hold its targets at the rule's
// level. The platform controllers publish each environment's plan here; the
// rule's object reconciler, the one writer of a rule's status, turns it into
// the PlatformExpressible condition. Like GroupAdminBindings, it lives in
// memory and is rebuilt by the passes after a start.
type PlatformExpressibility struct {
	mu     sync.RWMutex
	spaces map[string]*spaceExpressibility
	byRule map[types.NamespacedName]ruleExpressibility
	// without holds the namespaces whose Space has no instances (Forget):
	// their rules have no condition.
	without map[string]bool
	notify  notifier
}

// spaceExpressibility is one Space's published passes.
type spaceExpressibility struct {
	namespace string
	// envs holds each environment's targets its instance cannot hold, from
	// the last pass that planned.
	envs map[string][]platform.NotExpressible
}

// ruleExpressibility is a rule's verdict: its condition (Status, Reason,
// Message) and the rule's generation the pass compiled.
type ruleExpressibility struct {
	generation int64
	condition  metav1.Condition
}

// NewPlatformExpressibility returns an empty registry.
func NewPlatformExpressibility() *PlatformExpressibility {
	return &PlatformExpressibility{spaces: map[string]*spaceExpressibility{}, byRule: map[types.NamespacedName]ruleExpressibility{},
		without: map[string]bool{}}
}

// Publish records what env's pass of space found (found: the plan's
// NotExpressibleRules) and re-derives the condition of every rule of the
// Space's model (rules: each AccessRule's name and compiled generation);
// envs are the Space's environments with an instance, so that one removed is
// forgotten. Each rule whose condition changed is queued for its object
// reconciler.
func (p *PlatformExpressibility) Publish(space, namespace, env string, envs []string, rules map[string]int64, found []platform.NotExpressible) {
	if p == nil {
		return
	}
	p.mu.Lock()
	delete(p.without, namespace)
	sp := p.spaces[space]
	if sp == nil || sp.namespace != namespace {
		p.dropLocked(space)
		sp = &spaceExpressibility{namespace: namespace, envs: map[string][]platform.NotExpressible{}}
		p.spaces[space] = sp
	}
	sp.envs[env] = slices.Clone(found)
	for e := range sp.envs {
		if !slices.Contains(envs, e) {
			delete(sp.envs, e)
		}
	}
	checked := slices.Sorted(maps.Keys(sp.envs))
	byRule := map[string][]platform.NotExpressible{}
	for _, e := range checked {
		for _, n := range sp.envs[e] {
			byRule[n.Rule] = append(byRule[n.Rule], n)
		}
	}
	var changed []types.NamespacedName
	for name, generation := range rules {
		key := types.NamespacedName{Namespace: namespace, Name: name}
		next := ruleExpressibility{generation: generation, condition: expressibleCondition(space, byRule[name])}
		if prev, ok := p.byRule[key]; !ok || prev.generation != next.generation || !equality.Semantic.DeepEqual(prev.condition, next.condition) {
			changed = append(changed, key)
		}
		p.byRule[key] = next
	}
	// Rules no longer in the model lose their verdict.
	for key := range p.byRule {
		if _, ok := rules[key.Name]; key.Namespace == namespace && !ok {
			delete(p.byRule, key)
			changed = append(changed, key)
		}
	}
	p.mu.Unlock()
	for _, key := range changed {
		p.notify.send(reconcile.Request{NamespacedName: key})
	}
}

// Forget drops what was published for space, whose namespace is namespace:
// it has no instances (any more), and its rules (named in rules, the
// model's) lose the condition.
func (p *PlatformExpressibility) Forget(space, namespace string, rules map[string]int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	changed := p.dropLocked(space)
	if !p.without[namespace] {
		p.without[namespace] = true
		// Rules that kept a condition from before a restart lose it too.
		for name := range rules {
			changed = append(changed, types.NamespacedName{Namespace: namespace, Name: name})
		}
	}
	p.mu.Unlock()
	for _, key := range changed {
		p.notify.send(reconcile.Request{NamespacedName: key})
	}
}

func (p *PlatformExpressibility) dropLocked(space string) []types.NamespacedName {
	sp := p.spaces[space]
	if sp == nil {
		return nil
	}
	delete(p.spaces, space)
	var dropped []types.NamespacedName
	for key := range p.byRule {
		if key.Namespace == sp.namespace {
			delete(p.byRule, key)
			dropped = append(dropped, key)
		}
	}
	return dropped
}

// condition returns the rule's PlatformExpressible condition, with the
// generation the pass compiled (nil: none), and whether it is known: until
// a pass of this process published, a condition the rule has (from before
// a restart) is kept rather than removed and written again.
func (p *PlatformExpressibility) condition(rule *governorv1alpha1.AccessRule) (*metav1.Condition, bool) {
	if p == nil {
		return nil, true
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	v, ok := p.byRule[types.NamespacedName{Namespace: rule.Namespace, Name: rule.Name}]
	if !ok {
		return nil, p.without[rule.Namespace]
	}
	c := v.condition
	c.ObservedGeneration = v.generation
	return &c, true
}

// Source queues the rules whose published condition changed.
func (p *PlatformExpressibility) Source() source.Source { return p.notify.source() }

// recordNotExpressible warns when a rule becomes PlatformExpressible=False
// (on the transition only).
func recordNotExpressible(rec events.EventRecorder, obj runtime.Object, before, after []metav1.Condition) {
	a := meta.FindStatusCondition(after, governorv1alpha1.ConditionPlatformExpressible)
	if a == nil || a.Status != metav1.ConditionFalse {
		return
	}
	if b := meta.FindStatusCondition(before, governorv1alpha1.ConditionPlatformExpressible); b != nil && b.Status == metav1.ConditionFalse {
		return
	}
	rec.Eventf(obj, nil, corev1.EventTypeWarning, governorv1alpha1.ReasonNotExpressible, "Sync", "%s", a.Message)
}

// RuleGenerations maps the model's AccessRules to their compiled generations.
func (m *Model) RuleGenerations() map[string]int64 {
	out := map[string]int64{}
	for ref, generation := range m.Generations {
		if ref.Kind == kindAccessRule {
			out[ref.Name] = generation
		}
	}
	return out
}

// expressibleCondition is a rule's PlatformExpressible: False naming each
// target, environment and the level the instance grants instead; True once
// some environment's pass checked it.
func expressibleCondition(space string, found []platform.NotExpressible) metav1.Condition {
	if len(found) == 0 {
		// The environments checked are not named: each one's first pass
		// would otherwise cost every rule a status write.
		return metav1.Condition{Type: governorv1alpha1.ConditionPlatformExpressible, Status: metav1.ConditionTrue, Reason: ReasonExpressible,
			Message: fmt.Sprintf("the instances of Space %s can hold every target at the rule's level", space)}
	}
	slices.SortFunc(found, func(a, b platform.NotExpressible) int {
		return cmp.Or(cmp.Compare(a.Environment, b.Environment), cmp.Compare(a.Target, b.Target), cmp.Compare(a.Group, b.Group))
	})
	var b strings.Builder
	for i, n := range found {
		item := fmt.Sprintf("%s in %s: the instance grants group %s %s, not %s (%s)", n.Target, n.Environment, n.Group, n.InstanceLevel, n.Level, n.Because)
		if i > 0 {
			item = "; " + item
		}
		if b.Len()+len(item) > maxExpressibleMessage {
			fmt.Fprintf(&b, "; and %d more", len(found)-i)
			break
		}
		b.WriteString(item)
	}
	return metav1.Condition{Type: governorv1alpha1.ConditionPlatformExpressible, Status: metav1.ConditionFalse,
		Reason: governorv1alpha1.ReasonNotExpressible, Message: b.String()}
}
