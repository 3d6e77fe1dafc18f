package controller

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/access"
)

// TestOwnedStatus: each writer's part of a status leaves the other writer's
// fields and conditions out, so that neither can overwrite them.
func TestOwnedStatus(t *testing.T) {
	at := metav1.Unix(1700000000, 0)
	cond := func(t string) metav1.Condition {
		return metav1.Condition{Type: t, Status: metav1.ConditionTrue, Reason: "R", LastTransitionTime: at}
	}
	space := governorv1alpha1.SpaceStatus{
		ObservedGeneration: 2, Namespace: "payments",
		Conditions: []metav1.Condition{cond("Ready"), cond("PlatformSynced"), cond("NamespaceOwned")},
		Platform:   []governorv1alpha1.EnvironmentPlatformStatus{{Environment: "production", SpaceID: "s1"}},
	}
	got, err := spaceStatusOwned.of(&space)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got["platform"]; ok {
		t.Error("the Space controller's part holds status.platform")
	}
	var condTypes []string
	for _, c := range asList(got["conditions"]) {
		condTypes = append(condTypes, conditionType(c))
	}
	if !equality.Semantic.DeepEqual(condTypes, []string{"Ready", "NamespaceOwned"}) {
		t.Errorf("the Space controller's conditions: %v, want Ready and NamespaceOwned", condTypes)
	}
	if got["namespace"] != "payments" || got["observedGeneration"] != int64(2) {
		t.Errorf("the Space controller's fields: %v", got)
	}

	// A group's and a rule's status have one writer: every field is in its
	// part, so that a field added to the API is never silently left unwritten.
	soon := metav1.Now()
	expiry := []governorv1alpha1.Expiry{{Email: "alice@example.com", Expires: soon}}
	group := governorv1alpha1.PermissionGroupStatus{ObservedGeneration: 1, Space: "payments", MemberCount: 0, NextExpiry: &soon,
		Expiring: expiry, Expired: expiry, Conditions: []metav1.Condition{cond("Ready"), cond("GroupAdminsBound")}}
	rule := governorv1alpha1.AccessRuleStatus{ObservedGeneration: 1, Space: "payments", Expiring: expiry, Expired: expiry,
		Conditions: []metav1.Condition{cond("Ready")}}
	for name, tc := range map[string]struct {
		owned  ownedStatus
		status any
	}{"group": {groupStatusOwned, &group}, "rule": {ruleStatusOwned, &rule}} {
		all, err := runtime.DefaultUnstructuredConverter.ToUnstructured(tc.status)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tc.owned.of(tc.status)
		if err != nil {
			t.Fatal(err)
		}
		if !equality.Semantic.DeepEqual(got, all) {
			t.Errorf("the model's part of a %s's status leaves fields out:\n got %v\nwant %v", name, got, all)
		}
	}
}

// TestRuleWaitsForAGroupOnItsWay: a rule reported GroupNotFound by a
// compile that did not read its group is not written Stalled while the API
// server holds the group (it is on its way to the cache); once the compile
// has read the group, or when the API server does not hold it, the problem
// is real.
func TestRuleWaitsForAGroupOnItsWay(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := governorv1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	onItsWay := &governorv1alpha1.PermissionGroup{ObjectMeta: metav1.ObjectMeta{Namespace: "payments", Name: "finance"}}
	api := fake.NewClientBuilder().WithScheme(scheme).WithObjects(onItsWay).Build()
	models := NewModels()
	snap, _ := access.Compile(access.SpaceInput{Name: "payments"})
	models.set(&Model{Space: "payments", Namespace: "payments", Snapshot: snap,
		Generations: map[ObjectRef]int64{{Kind: kindPermissionGroup, Name: "left-out"}: 1}})
	r := &ModelObjectReconciler{APIReader: api, Models: models, Kind: kindAccessRule}
	notFound := stalled(access.ReasonGroupNotFound, "spec.group: ...")
	for name, tc := range map[string]struct {
		group string
		out   outcome
		want  bool
	}{
		"on its way to the cache":          {group: "finance", out: notFound, want: true},
		"not on the API server":            {group: "missing", out: notFound, want: false},
		"read by the compile and left out": {group: "left-out", out: notFound, want: false},
		"another problem":                  {group: "finance", out: stalled(access.ReasonUnknownEnvironment, "x"), want: false},
	} {
		t.Run(name, func(t *testing.T) {
			rule := &governorv1alpha1.AccessRule{ObjectMeta: metav1.ObjectMeta{Namespace: "payments", Name: "r"},
				Spec: governorv1alpha1.AccessRuleSpec{Group: tc.group}, Status: governorv1alpha1.AccessRuleStatus{Space: "payments"}}
			got, err := r.groupOnItsWay(context.Background(), rule, tc.out)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("groupOnItsWay = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestCacheBehindOwnWrite: a cached copy older than the reconciler's own last
// status write is not reported from (it would be written again, with new
// transition times); once the cache has caught up, the write is forgotten.
func TestCacheBehindOwnWrite(t *testing.T) {
	r := &ModelObjectReconciler{}
	req := reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "payments", Name: "finance"}}
	at := func(rv string) *governorv1alpha1.PermissionGroup {
		return &governorv1alpha1.PermissionGroup{ObjectMeta: metav1.ObjectMeta{ResourceVersion: rv}}
	}
	if r.cacheBehindOwnWrite(req, at("5")) {
		t.Fatal("nothing written yet: the cache is trusted")
	}
	r.written.Store(req.NamespacedName, "120")
	if !r.cacheBehindOwnWrite(req, at("99")) {
		t.Fatal("cached at 99, written at 120 (compared as numbers): the cache is behind")
	}
	if r.cacheBehindOwnWrite(req, at("120")) {
		t.Fatal("cached at the written version: caught up")
	}
	if _, kept := r.written.Load(req.NamespacedName); kept {
		t.Fatal("once caught up, the write is forgotten")
	}
	r.written.Store(req.NamespacedName, "120")
	if r.cacheBehindOwnWrite(req, at("not-a-number")) {
		t.Fatal("versions that are not numbers cannot be ordered: the cache is trusted")
	}
}
