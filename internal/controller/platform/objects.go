package platform

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/platform/syncer"
)

// objects are a Space's groups and rules: the platform finalizer holds
// each until every instance has let go of it.
type objects struct {
	groups []governorv1alpha1.PermissionGroup
	rules  []governorv1alpha1.AccessRule
}

func (o *objects) each(f func(client.Object) error) error {
	for i := range o.groups {
		if err := f(&o.groups[i]); err != nil {
			return err
		}
	}
	for i := range o.rules {
		if err := f(&o.rules[i]); err != nil {
			return err
		}
	}
	return nil
}

func (r *Reconciler) loadObjects(ctx context.Context, namespace string) (*objects, error) {
	var groups governorv1alpha1.PermissionGroupList
	if err := r.Client.List(ctx, &groups, client.InNamespace(namespace)); err != nil {
		return nil, syncer.Retry(syncer.ReasonAPIServerError, err)
	}
	var rules governorv1alpha1.AccessRuleList
	if err := r.Client.List(ctx, &rules, client.InNamespace(namespace)); err != nil {
		return nil, syncer.Retry(syncer.ReasonAPIServerError, err)
	}
	return &objects{groups: groups.Items, rules: rules.Items}, nil
}

// addFinalizers holds every live group and rule until the instances let go of it.
func (o *objects) addFinalizers(ctx context.Context, c client.Client) error {
	return o.each(func(obj client.Object) error {
		if !obj.GetDeletionTimestamp().IsZero() || controllerutil.ContainsFinalizer(obj, governorv1alpha1.PlatformFinalizer) {
			return nil
		}
		patch := client.MergeFromWithOptions(obj.DeepCopyObject().(client.Object), client.MergeFromWithOptimisticLock{})
		controllerutil.AddFinalizer(obj, governorv1alpha1.PlatformFinalizer)
		return client.IgnoreNotFound(c.Patch(ctx, obj, patch))
	})
}

// releaseDeleted lets deleted groups and rules go once every environment
// had a successful pass after their deletion, or once their environments'
// attempts are used up (an event says what may be left behind).
func (r *Reconciler) releaseDeleted(ctx context.Context, space *governorv1alpha1.Space, o *objects) error {
	st := r.state(space.Name)
	envs := controllerEnvNames(space)
	return o.each(func(obj client.Object) error {
		if obj.GetDeletionTimestamp().IsZero() || !controllerutil.ContainsFinalizer(obj, governorv1alpha1.PlatformFinalizer) {
			return nil
		}
		ok, givenUp := st.released(envs, obj.GetDeletionTimestamp().Time, r.Options.DeletionAttempts)
		if !ok {
			return nil
		}
		if len(givenUp) > 0 {
			r.Recorder.Eventf(obj, nil, corev1.EventTypeWarning, "PlatformLeftBehind", "Delete",
				"deleted while the instances of %v could not be reached: what it held there may remain", givenUp)
		}
		return removeFinalizer(ctx, r.Client, obj)
	})
}

// releaseFinalizers removes the platform finalizer from the groups and rules
// of a namespace (only from those being deleted, with onlyDeleting).
func (r *Reconciler) releaseFinalizers(ctx context.Context, namespace string, onlyDeleting bool) error {
	o, err := r.loadObjects(ctx, namespace)
	if err != nil {
		return err
	}
	return o.each(func(obj client.Object) error {
		if onlyDeleting && obj.GetDeletionTimestamp().IsZero() {
			return nil
		}
		return removeFinalizer(ctx, r.Client, obj)
	})
}

// removeFinalizer lets a group or rule go (a metadata-only patch).
func removeFinalizer(ctx context.Context, c client.Client, obj client.Object) error {
	if !controllerutil.ContainsFinalizer(obj, governorv1alpha1.PlatformFinalizer) {
		return nil
	}
	patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
	controllerutil.RemoveFinalizer(obj, governorv1alpha1.PlatformFinalizer)
	return client.IgnoreNotFound(c.Patch(ctx, obj, patch))
}
