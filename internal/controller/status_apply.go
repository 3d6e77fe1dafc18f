package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
)

// Field managers of the status fields Governor writes with server-side
// apply. Each controller applies only the fields it owns, so writers of one
// status never overwrite each other and never need a lock.
const (
	// fieldManagerSpace owns a Space's status except status.platform and
	// PlatformSynced (the platform controller's, field manager
	// governor-platform), and creates the default groups.
	fieldManagerSpace = "governor-space"
	// fieldManagerModel owns a PermissionGroup's and an AccessRule's status
	// except status.platform.
	fieldManagerModel = "governor-model"
)

// ownedStatus is the part of a kind's status one field manager owns: some
// top-level fields of status, and among status.conditions some types. Both
// are listed, so that a field or condition another writer adds is never
// touched.
type ownedStatus struct {
	manager string
	// fields are JSON names of status fields; "conditions" is implied.
	fields []string
	// conditions are the condition types the manager owns.
	conditions []string
}

// observedGeneration is every kind's status.observedGeneration, by its JSON name.
const observedGeneration = "observedGeneration"

// The kstatus conditions every kind reports.
var kstatusConditions = []string{governorv1alpha1.ConditionReady, governorv1alpha1.ConditionReconciling, governorv1alpha1.ConditionStalled}

var (
	// A group's and a rule's status but status.platform (the platform sync's).
	groupStatusOwned = ownedStatus{manager: fieldManagerModel, fields: []string{observedGeneration, "space", "memberCount", "nextExpiry", "expiring", "expired"},
		conditions: append(slices.Clone(kstatusConditions), governorv1alpha1.ConditionGroupAdminsBound)}
	ruleStatusOwned = ownedStatus{manager: fieldManagerModel, fields: []string{observedGeneration, "space", "expiring", "expired"},
		conditions: append(slices.Clone(kstatusConditions), governorv1alpha1.ConditionPlatformExpressible)}
	// A Space's status but status.platform and PlatformSynced (the platform controller's).
	spaceStatusOwned = ownedStatus{manager: fieldManagerSpace,
		fields:     []string{observedGeneration, "namespace", "defaultGroupsCreated", "readopted", "inherited", "accessModel", "releases"},
		conditions: append(slices.Clone(kstatusConditions), governorv1alpha1.ConditionNamespaceOwned)}
)

// of is the owned part of status (a pointer to a status struct), as JSON values.
func (o ownedStatus) of(status any) (map[string]any, error) {
	all, err := runtime.DefaultUnstructuredConverter.ToUnstructured(status)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for _, f := range o.fields {
		if v, ok := all[f]; ok {
			out[f] = v
		}
	}
	var conds []any
	for _, c := range asList(all["conditions"]) {
		if slices.Contains(o.conditions, conditionType(c)) {
			conds = append(conds, c)
		}
	}
	if len(conds) > 0 {
		out["conditions"] = conds
	}
	return out, nil
}

// apply writes the owned part of after with server-side apply when it
// differs from before's (pointers to status structs), and reports whether it
// wrote; obj then carries the resourceVersion written.
// Fields the manager applied before and leaves out now are removed; other
// managers' fields are untouched.
func (o ownedStatus) apply(ctx context.Context, c client.Client, obj client.Object, before, after any) (bool, error) {
	was, err := o.of(before)
	if err != nil {
		return false, err
	}
	want, err := o.of(after)
	if err != nil {
		return false, err
	}
	if equality.Semantic.DeepEqual(was, want) {
		return false, nil // unchanged: no write
	}
	gvk, err := apiutil.GVKForObject(obj, c.Scheme())
	if err != nil {
		return false, err
	}
	u := &unstructured.Unstructured{Object: map[string]any{"status": want}}
	u.SetGroupVersionKind(gvk)
	u.SetName(obj.GetName())
	u.SetNamespace(obj.GetNamespace())
	if err := c.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(o.manager), client.ForceOwnership); err != nil {
		return false, client.IgnoreNotFound(err)
	}
	// u is now the object as stored.
	if err := o.dropLeftovers(ctx, c, u, want); err != nil {
		return true, err
	}
	obj.SetResourceVersion(u.GetResourceVersion())
	return true, nil
}

// dropLeftovers removes from the stored status the owned fields and
// conditions that the apply left out but that another manager still holds:
// written by a Governor from before field managers, with an update, they
// would otherwise stay forever (an apply removes only what its own manager
// applied). Nothing is sent when there are none, which is always the case
// once an object has been written by this Governor.
func (o ownedStatus) dropLeftovers(ctx context.Context, c client.Client, stored *unstructured.Unstructured, want map[string]any) error {
	status, _, _ := unstructured.NestedMap(stored.Object, "status")
	type op struct {
		Op    string `json:"op"`
		Path  string `json:"path"`
		Value any    `json:"value,omitempty"`
	}
	var ops []op
	for _, f := range o.fields {
		if _, wanted := want[f]; wanted {
			continue
		}
		if v, ok := status[f]; ok {
			ops = append(ops, op{"test", "/status/" + f, v}, op{"remove", "/status/" + f, nil})
		}
	}
	wantTypes := map[string]bool{}
	for _, c := range asList(want["conditions"]) {
		wantTypes[conditionType(c)] = true
	}
	conds := asList(status["conditions"])
	var stale []int
	for i, c := range conds {
		if t := conditionType(c); slices.Contains(o.conditions, t) && !wantTypes[t] {
			stale = append(stale, i)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(stale))) // removing from the end keeps the indexes right
	for _, i := range stale {
		path := fmt.Sprintf("/status/conditions/%d", i)
		ops = append(ops, op{"test", path + "/type", conditionType(conds[i])}, op{"remove", path, nil})
	}
	if len(ops) == 0 {
		return nil
	}
	patch, err := json.Marshal(ops)
	if err != nil {
		return err
	}
	return client.IgnoreNotFound(c.Status().Patch(ctx, stored, client.RawPatch(types.JSONPatchType, patch), client.FieldOwner(o.manager)))
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func conditionType(c any) string {
	m, _ := c.(map[string]any)
	t, _ := m["type"].(string)
	return t
}
