package controller

import (
	"context"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/platform"
)

// platformObjects are a Space's groups and rules as the platform sync reads
// and records them: the ids Governor created or adopted, per environment.
type platformObjects struct {
	groups []governorv1alpha1.PermissionGroup
	rules  []governorv1alpha1.AccessRule
}

func (r *PlatformReconciler) loadObjects(ctx context.Context, namespace string) (*platformObjects, error) {
	var groups governorv1alpha1.PermissionGroupList
	if err := r.List(ctx, &groups, client.InNamespace(namespace)); err != nil {
		return nil, err
	}
	var rules governorv1alpha1.AccessRuleList
	if err := r.List(ctx, &rules, client.InNamespace(namespace)); err != nil {
		return nil, err
	}
	return &platformObjects{groups: groups.Items, rules: rules.Items}, nil
}

// addFinalizers holds every live group and rule until the instances let go of it.
func (p *platformObjects) addFinalizers(ctx context.Context, c client.Client) error {
	add := func(obj client.Object) error {
		if !obj.GetDeletionTimestamp().IsZero() || controllerutil.ContainsFinalizer(obj, governorv1alpha1.PlatformFinalizer) {
			return nil
		}
		patch := client.MergeFromWithOptions(obj.DeepCopyObject().(client.Object), client.MergeFromWithOptimisticLock{})
		controllerutil.AddFinalizer(obj, governorv1alpha1.PlatformFinalizer)
		return client.IgnoreNotFound(c.Patch(ctx, obj, patch))
	}
	for i := range p.groups {
		if err := add(&p.groups[i]); err != nil {
			return err
		}
	}
	for i := range p.rules {
		if err := add(&p.rules[i]); err != nil {
			return err
		}
	}
	return nil
}

func idsIn(list []governorv1alpha1.PlatformIDs, env string) *governorv1alpha1.PlatformIDs {
	for i := range list {
		if list[i].Environment == env {
			return &list[i]
		}
	}
	return nil
}

// ownership is what Governor recorded of env's instance.
func (p *platformObjects) ownership(env string) platform.Ownership {
	return PlatformOwnership(env, p.groups, p.rules)
}

// PlatformOwnership is what Governor recorded of env's instance in the status
// of a Space's groups and rules: the ids it holds and what it created.
func PlatformOwnership(env string, groups []governorv1alpha1.PermissionGroup, rules []governorv1alpha1.AccessRule) platform.Ownership {
	p := &platformObjects{groups: groups, rules: rules}
	o := platform.Ownership{GroupIDs: map[string]int64{}, CreatedGroups: map[int64]bool{}, CreatedGrants: map[string]bool{}}
	for i := range p.groups {
		ids := idsIn(p.groups[i].Status.Platform, env)
		if ids == nil || len(ids.IDs) == 0 {
			continue
		}
		id, err := strconv.ParseInt(ids.IDs[0], 10, 64)
		if err != nil {
			continue
		}
		o.GroupIDs[p.groups[i].Name] = id
		if slices.Contains(ids.Created, ids.IDs[0]) {
			o.CreatedGroups[id] = true
		}
	}
	for i := range p.rules {
		ids := idsIn(p.rules[i].Status.Platform, env)
		group, ok := o.GroupIDs[p.rules[i].Spec.Group]
		if ids == nil || !ok {
			continue
		}
		for _, ref := range ids.Created {
			if obj, ok := parseObjectRef(ref); ok {
				o.CreatedGrants[platform.GrantID(group, obj)] = true
			}
		}
	}
	return o
}

func parseObjectRef(s string) (platform.ObjectRef, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return platform.ObjectRef{Type: platform.ObjectType(s[:i]), ID: s[i+1:]}, i+1 < len(s)
		}
	}
	return platform.ObjectRef{}, false
}

// recordIDs writes, on each group and rule, the ids the environments that
// synced now hold for it. Only what changed is written.
func (p *platformObjects) recordIDs(ctx context.Context, c client.Client, results []envResult) error {
	byRule := map[string]map[string][]platform.PlannedGrant{} // env -> rule -> grants
	for _, res := range results {
		if res.result == nil || res.reason != "" {
			continue
		}
		m := map[string][]platform.PlannedGrant{}
		for _, g := range res.result.Grants {
			m[g.Rule] = append(m[g.Rule], g)
		}
		byRule[res.status.Environment] = m
	}
	for i := range p.groups {
		g := &p.groups[i]
		before := g.DeepCopy()
		for _, res := range results {
			if res.result == nil || res.reason != "" {
				continue
			}
			id, ok := res.result.GroupIDs[g.Name]
			if !ok {
				continue
			}
			ids := governorv1alpha1.PlatformIDs{Environment: res.status.Environment, IDs: []string{strconv.FormatInt(id, 10)}}
			if prev := idsIn(g.Status.Platform, res.status.Environment); res.result.Created[id] || prev != nil && len(prev.IDs) == 1 && prev.IDs[0] == ids.IDs[0] && len(prev.Created) > 0 {
				ids.Created = ids.IDs
			}
			g.Status.Platform = setIDs(g.Status.Platform, ids)
		}
		if err := patchStatusIfChanged(ctx, c, before, g, before.Status, g.Status); err != nil {
			return err
		}
	}
	for i := range p.rules {
		rule := &p.rules[i]
		before := rule.DeepCopy()
		for env, m := range byRule {
			grants := m[rule.Name]
			prev := idsIn(rule.Status.Platform, env)
			ids := governorv1alpha1.PlatformIDs{Environment: env}
			for _, g := range grants {
				if g.Object.ID == "" {
					continue
				}
				ref := g.Object.String()
				ids.IDs = append(ids.IDs, ref)
				if g.Made || prev != nil && slices.Contains(prev.Created, ref) {
					ids.Created = append(ids.Created, ref)
				}
			}
			slices.Sort(ids.IDs)
			slices.Sort(ids.Created)
			if len(ids.IDs) == 0 && prev == nil {
				continue
			}
			rule.Status.Platform = setIDs(rule.Status.Platform, ids)
		}
		if err := patchStatusIfChanged(ctx, c, before, rule, before.Status, rule.Status); err != nil {
			return err
		}
	}
	return nil
}

func setIDs(list []governorv1alpha1.PlatformIDs, ids governorv1alpha1.PlatformIDs) []governorv1alpha1.PlatformIDs {
	for i := range list {
		if list[i].Environment == ids.Environment {
			list[i] = ids
			return list
		}
	}
	list = append(list, ids)
	slices.SortFunc(list, func(a, b governorv1alpha1.PlatformIDs) int {
		switch {
		case a.Environment < b.Environment:
			return -1
		case a.Environment > b.Environment:
			return 1
		}
		return 0
	})
	return list
}

func patchStatusIfChanged(ctx context.Context, c client.Client, before, after client.Object, beforeStatus, afterStatus any) error {
	if equality.Semantic.DeepEqual(beforeStatus, afterStatus) {
		return nil
	}
	return client.IgnoreNotFound(c.Status().Patch(ctx, after, client.MergeFrom(before)))
}

// releaseDeleted lets deleted groups and rules go once every environment
// synced without them, or once their attempts are used up (an event says
// what may be left behind).
func (p *platformObjects) releaseDeleted(ctx context.Context, c client.Client, results []envResult, giveUp func(types.UID) bool, rec events.EventRecorder) error {
	var failed []string
	for _, res := range results {
		if res.reason != "" {
			failed = append(failed, res.status.Environment)
		}
	}
	release := func(obj client.Object) error {
		if obj.GetDeletionTimestamp().IsZero() || !controllerutil.ContainsFinalizer(obj, governorv1alpha1.PlatformFinalizer) {
			return nil
		}
		if len(failed) > 0 && !giveUp(obj.GetUID()) {
			return nil
		}
		if len(failed) > 0 {
			rec.Eventf(obj, nil, corev1.EventTypeWarning, "PlatformLeftBehind", "Delete",
				"deleted while the instances of %v could not be reached: what it held there may remain", failed)
		}
		return removePlatformFinalizer(ctx, c, obj)
	}
	for i := range p.groups {
		if err := release(&p.groups[i]); err != nil {
			return err
		}
	}
	for i := range p.rules {
		if err := release(&p.rules[i]); err != nil {
			return err
		}
	}
	return nil
}

// removePlatformFinalizer lets a group or rule go (a metadata-only patch).
func removePlatformFinalizer(ctx context.Context, c client.Client, obj client.Object) error {
	if !controllerutil.ContainsFinalizer(obj, governorv1alpha1.PlatformFinalizer) {
		return nil
	}
	patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
	controllerutil.RemoveFinalizer(obj, governorv1alpha1.PlatformFinalizer)
	return client.IgnoreNotFound(c.Patch(ctx, obj, patch))
}
