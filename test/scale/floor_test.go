//go:build scale

package scale

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/access/accesstest"
	"github.com/governor-dev/governor/internal/testenv"
)

// floorFigures are what the API server alone needs for the large Space on
// this machine, without Governor: creating every object, then the least any
// operator reporting each Ready must write (one status write each, and the
// Role and RoleBinding of each group with group admins).
type floorFigures struct {
	create, status time.Duration
}

// floor is set by TestScaleFloor, which runs first; TestScaleLargeSpace
// reports its figures beside it.
var floor *floorFigures

// TestScaleFloor measures the floor under the large Space's bounds: on a
// fresh API server with no operator, the same client creates the same
// objects, then writes each one status as the operator does (server-side
// apply of Ready, 16 writers) and creates the group admins' Roles and
// RoleBindings. Nothing the operator does can bring every object Ready
// sooner than the sum.
func TestScaleFloor(t *testing.T) {
	env, err := testenv.Start(testenv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Stop()
	ctx := context.Background()
	_, groups, rules := objects(accesstest.Large(), namespace)
	cfg := rest.CopyConfig(env.Config)
	cfg.QPS, cfg.Burst = 2000, 4000
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	createAll(t, c, groups)
	createAll(t, c, rules)
	created := time.Since(start)

	start = time.Now()
	objs := make([]client.Object, 0, len(groups)+len(rules))
	for _, g := range groups {
		objs = append(objs, g)
	}
	for _, r := range rules {
		objs = append(objs, r)
	}
	var rbac []client.Object
	for _, g := range groups {
		for _, m := range g.Spec.Members {
			if m.GroupAdmin {
				rbac = append(rbac, groupAdminRBAC(g)...)
				break
			}
		}
	}
	writeReady(t, c, objs)
	createAll(t, c, rbac)
	floor = &floorFigures{create: created, status: time.Since(start)}
	t.Logf("the API server alone, on this machine: creating %d objects %s; one status write each and %d Roles and RoleBindings %s; together %s",
		len(objs), created.Round(time.Millisecond), len(rbac), floor.status.Round(time.Millisecond), (floor.create + floor.status).Round(time.Millisecond))
}

// groupAdminRBAC is a Role and a RoleBinding of the size Governor gives a
// group's group admins.
func groupAdminRBAC(g *governorv1alpha1.PermissionGroup) []client.Object {
	name := "governor-group-admins-" + g.Name
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: g.Namespace, Name: name},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{governorv1alpha1.GroupVersion.Group}, Resources: []string{"permissiongroups"},
			ResourceNames: []string{g.Name}, Verbs: []string{"get", "update", "patch"}}}}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: g.Namespace, Name: name},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name}}
	for _, m := range g.Spec.Members {
		if m.GroupAdmin {
			binding.Subjects = append(binding.Subjects, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: m.Email})
		}
	}
	return []client.Object{role, binding}
}

// writeReady applies a Ready status to each object, with 16 writers.
func writeReady(t *testing.T, c client.Client, objs []client.Object) {
	t.Helper()
	now := metav1.Now().UTC().Format(time.RFC3339)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(objs) {
					return
				}
				o := objs[i]
				kind := "PermissionGroup"
				if _, ok := o.(*governorv1alpha1.AccessRule); ok {
					kind = "AccessRule"
				}
				u := &unstructured.Unstructured{Object: map[string]any{"status": map[string]any{
					"observedGeneration": int64(1), "space": namespace,
					"conditions": []any{map[string]any{"type": "Ready", "status": "True", "reason": "Compiled",
						"message": "in the access model of Space " + namespace, "observedGeneration": int64(1), "lastTransitionTime": now}},
				}}}
				u.SetGroupVersionKind(governorv1alpha1.GroupVersion.WithKind(kind))
				u.SetNamespace(o.GetNamespace())
				u.SetName(o.GetName())
				if err := c.Status().Apply(context.Background(), client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("governor-model"), client.ForceOwnership); err != nil {
					errs <- fmt.Errorf("%s %s: %w", kind, o.GetName(), err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
}
